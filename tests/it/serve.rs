//! `sohoa serve` over loopback with real HTTP (and HTTPS): health without a
//! token, every other route refused without a right one, and what it serves
//! equal to what the command line and the archive hold.

use crate::harness::{import_units, sohoa, stderr, stdout, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A data dir with the sample register and one scanned dossier, and a station token.
fn prepared() -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().unwrap();
    import_units(data.path());
    let d = data.path().to_str().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let o = sohoa(&[
        "--data-dir",
        d,
        "register",
        "import",
        samples
            .join("_register/so-tiep-nhan-2023.csv")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let inbox = tempfile::tempdir().unwrap();
    let dossier = inbox.path().join("000.20.18.H44-230322-0005");
    std::fs::create_dir_all(&dossier).unwrap();
    std::fs::copy(
        samples.join("000.20.18.H44-230322-0005/01-giay-de-nghi.jpg"),
        dossier.join("01-giay-de-nghi.jpg"),
    )
    .unwrap();
    let o = sohoa(&["--data-dir", d, "batch", inbox.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(data.path()), 1);
    let add = || {
        sohoa(&[
            "--data-dir",
            d,
            "station",
            "add",
            "xa-dong-le",
            "--unit",
            "000.20.18.H44",
        ])
    };
    let o = add();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let token = out.lines().last().unwrap().to_string();
    assert_eq!(token.len(), 64, "the token alone on the last line: {out}");
    assert!(
        !std::fs::read(data.path().join("sohoa.db"))
            .unwrap()
            .windows(64)
            .any(|w| w == token.as_bytes()),
        "only the token's digest is stored"
    );
    assert_eq!(add().status.code(), Some(2), "a station name is used once");
    (data, token)
}

#[test]
fn the_api_over_http_with_station_tokens() {
    let (data, token) = prepared();
    let client = reqwest::blocking::Client::new();
    let server = Server::start(
        &["--data-dir", data.path().to_str().unwrap()],
        &[],
        "http",
        &client,
    );
    let get = |path: &str, token: Option<&str>| {
        let mut req = client.get(format!("{}{path}", server.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().unwrap()
    };

    let health = get("/health", None);
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().unwrap()["status"], "ok");

    for path in [
        "/metrics",
        "/api/v1/reports?year=2023",
        "/api/v1/dossiers/000.20.18.H44-230322-0005",
        "/api/v1/documents/1/pdf",
    ] {
        let r = get(path, None);
        assert_eq!(r.status(), 401, "{path} without a token");
        assert_eq!(
            r.json::<serde_json::Value>().unwrap()["error"],
            "E_NO_TOKEN"
        );
        let r = get(path, Some("sai-ma"));
        assert_eq!(r.status(), 401, "{path} with a wrong token");
        let body = r.json::<serde_json::Value>().unwrap();
        assert_eq!(body["error"], "E_BAD_TOKEN");
        assert!(
            body["message"].as_str().unwrap().contains("không đúng"),
            "{body}"
        );
    }

    // The report is the command line's for the station's own units, in JSON and CSV.
    let served: serde_json::Value = get("/api/v1/reports?year=2023&by=unit", Some(&token))
        .json()
        .unwrap();
    let d = data.path().to_str().unwrap();
    let cli: serde_json::Value = serde_json::from_str(&stdout(&sohoa(&[
        "--data-dir",
        d,
        "report",
        "--year",
        "2023",
        "--by",
        "unit",
        "--unit",
        "000.20.18.H44",
        "--json",
    ])))
    .unwrap();
    assert_eq!(served, cli);
    let csv = get("/api/v1/reports?year=2023&format=csv", Some(&token))
        .text()
        .unwrap();
    assert_eq!(
        csv,
        stdout(&sohoa(&[
            "--data-dir",
            d,
            "report",
            "--year",
            "2023",
            "--unit",
            "000.20.18.H44",
            "--format",
            "csv"
        ]))
    );
    assert_eq!(
        get("/api/v1/reports?quarter=2023-9", Some(&token)).status(),
        400
    );

    // The dossier record and its PDF, byte for byte.
    let dossier: serde_json::Value =
        get("/api/v1/dossiers/000.20.18.H44-230322-0005", Some(&token))
            .json()
            .unwrap();
    assert_eq!(dossier["register"]["procedure_code"], "1.001193");
    let doc = &dossier["documents"][0];
    assert_eq!(doc["pdf"], "/api/v1/documents/1/pdf");
    let pdf = get("/api/v1/documents/1/pdf", Some(&token));
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().unwrap();
    let path: String = rusqlite::Connection::open(data.path().join("sohoa.db"))
        .unwrap()
        .query_row("SELECT archive_path FROM documents WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let on_disk = std::fs::read(data.path().join(path)).unwrap();
    assert_eq!(bytes.as_ref(), on_disk.as_slice());
    assert_eq!(get("/api/v1/documents/999/pdf", Some(&token)).status(), 404);
    assert_eq!(get("/api/v1/dossiers/khong-co", Some(&token)).status(), 404);

    // Server-wide figures need a monitoring token.
    assert_eq!(get("/metrics", Some(&token)).status(), 403);
    let monitor = sohoa::serve::new_token().unwrap();
    sohoa::records::Records::open(&data.path().join("sohoa.db"))
        .unwrap()
        .add_station(
            "giam-sat",
            "000.00.18.H44",
            &sohoa::serve::token_digest(&monitor),
            true,
        )
        .unwrap()
        .unwrap();
    let metrics = get("/metrics", Some(&monitor)).text().unwrap();
    assert!(metrics.contains("\nsohoa_documents_total 1\n"), "{metrics}");
    assert!(metrics.contains("\nsohoa_pages_total 1\n"), "{metrics}");
    let ocr: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sohoa_ocr_seconds_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("OCR seconds in {metrics}"));
    assert!(ocr > 0.05 && ocr < 60.0, "the page's OCR took {ocr} s");

    // SIGTERM: a clean exit.
    let mut server = server;
    sigterm(server.child.id());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// A self-signed certificate for 127.0.0.1 made with openssl.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=sohoa-test",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (make test installs it)");
    assert!(ok.success());
    (cert, key)
}

#[test]
fn https_with_a_certificate() {
    let (data, token) = prepared();
    let (cert, key) = certificate(data.path());
    // This test binary links rustls with two crypto backends; pick one for the client.
    sohoa::serve::install_crypto_provider();
    let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let server = Server::start(
        &["--data-dir", data.path().to_str().unwrap()],
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        "https",
        &client,
    );
    let r = client
        .get(format!("{}/api/v1/reports?year=2023", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Plain HTTP to the TLS port gets nowhere.
    let plain = reqwest::blocking::Client::new()
        .get(server.base.replace("https://", "http://") + "/health")
        .timeout(Duration::from_secs(5))
        .send();
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    // Only one of --tls-cert / --tls-key is a usage error.
    let o = sohoa(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "serve",
        "--tls-cert",
        cert.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tls-key"), "{}", stderr(&o));
}
