//! `sohoa serve` tried as a careless or hostile station and a loaded district
//! would, over loopback, on both stores: a station reads and writes only its
//! own units (404 outside, so codes are not confirmed); a code is read for its
//! unit and date, never believed from the record; names that would collide
//! or escape are refused and no upload replaces an archive file; slow clients
//! cannot take the server; PostgreSQL dropping every connection is survived;
//! SIGTERM exits 0.

use crate::harness::{
    files_under, pdf_with, post_document as post, postgres_url, sohoa, stderr, stdout,
    upload_record as record, Server,
};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const COMMUNE_A: &str = "000.20.18.H44";
const COMMUNE_B: &str = "000.21.18.H44";
const DISTRICT: &str = "000.00.18.H44";
/// The sample dossier `prepared` digitizes (commune A).
const CODE_A: &str = "000.20.18.H44-230322-0005";

/// A server's data: a data dir and, for PostgreSQL, its URL.
struct Store {
    data: tempfile::TempDir,
    url: Option<String>,
}

impl Store {
    fn new(postgres: bool) -> Store {
        Store {
            data: tempfile::tempdir().unwrap(),
            url: postgres.then(postgres_url),
        }
    }

    fn global(&self) -> Vec<String> {
        let mut g = vec![
            "--data-dir".to_string(),
            self.data.path().display().to_string(),
        ];
        if let Some(u) = &self.url {
            g.extend(["--database-url".to_string(), u.clone()]);
        }
        g
    }

    fn sohoa(&self, args: &[&str]) -> String {
        let g = self.global();
        let mut all: Vec<&str> = g.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        let o = sohoa(&all);
        assert_eq!(o.status.code(), Some(0), "sohoa {all:?}: {}", stderr(&o));
        stdout(&o)
    }

    fn token(&self, name: &str, unit: &str) -> String {
        let out = self.sohoa(&["station", "add", name, "--unit", unit]);
        out.lines().last().unwrap().to_string()
    }

    /// A token allowed to read `/metrics`.
    fn monitor_token(&self) -> String {
        let token = sohoa::serve::new_token().unwrap();
        let digest = sohoa::serve::token_digest(&token);
        let records = match &self.url {
            Some(u) => sohoa::records::Records::connect(u).unwrap(),
            None => sohoa::records::Records::open(&self.data.path().join("sohoa.db")).unwrap(),
        };
        records
            .add_station("giam-sat", DISTRICT, &digest, true)
            .unwrap()
            .unwrap();
        token
    }

    fn start(&self, client: &reqwest::blocking::Client) -> Server {
        let g = self.global();
        let g: Vec<&str> = g.iter().map(String::as_str).collect();
        Server::start(&g, &[], "http", client)
    }

    /// (archive path, SHA-256) of every recorded document.
    fn recorded(&self) -> Vec<(String, String)> {
        let sql = "SELECT archive_path, sha256 FROM documents ORDER BY id";
        match &self.url {
            Some(u) => {
                let mut c = postgres::Client::connect(u, postgres::NoTls).unwrap();
                c.query(sql, &[])
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect()
            }
            None => {
                let c = rusqlite::Connection::open(self.data.path().join("sohoa.db")).unwrap();
                let mut st = c.prepare(sql).unwrap();
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
        }
    }

    fn received_on(&self, code: &str) -> Option<String> {
        let sql = "SELECT received_on, unit_code FROM dossiers WHERE code = $1";
        match &self.url {
            Some(u) => {
                let mut c = postgres::Client::connect(u, postgres::NoTls).unwrap();
                c.query_opt(sql, &[&code]).unwrap().and_then(|r| r.get(0))
            }
            None => {
                let c = rusqlite::Connection::open(self.data.path().join("sohoa.db")).unwrap();
                c.query_row(&sql.replace("$1", "?1"), [code], |r| r.get(0))
                    .unwrap_or(None)
            }
        }
    }
}

/// The register, the unit tree and one digitized dossier of commune A.
fn prepared(postgres: bool) -> Store {
    let store = Store::new(postgres);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let samples = root.join("samples");
    let units = root.join("config/units.toml");
    store.sohoa(&["units", "import", units.to_str().unwrap()]);
    let register = samples.join("_register/so-tiep-nhan-2023.csv");
    store.sohoa(&["register", "import", register.to_str().unwrap()]);
    let inbox = tempfile::tempdir().unwrap();
    let dossier = inbox.path().join(CODE_A);
    std::fs::create_dir_all(&dossier).unwrap();
    std::fs::copy(
        samples.join(format!("{CODE_A}/01-giay-de-nghi.jpg")),
        dossier.join("01-giay-de-nghi.jpg"),
    )
    .unwrap();
    store.sohoa(&["batch", inbox.path().to_str().unwrap()]);
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(store.data.path()), 1);
    store
}

fn get(client: &reqwest::blocking::Client, url: &str, token: &str) -> (u16, String) {
    let r = client.get(url).bearer_auth(token).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn scope_on(postgres: bool) {
    let store = prepared(postgres);
    let (a, b, district) = (
        store.token("xa-a", COMMUNE_A),
        store.token("xa-b", COMMUNE_B),
        store.token("huyen", DISTRICT),
    );
    let monitor = store.monitor_token();
    let client = reqwest::blocking::Client::new();
    let mut server = store.start(&client);
    let base = server.base.clone();
    let url = |p: &str| format!("{base}{p}");

    // Commune A and the district see A's dossier; its PDF link, no server path.
    let (s, body) = get(&client, &url(&format!("/api/v1/dossiers/{CODE_A}")), &a);
    assert_eq!(s, 200, "{body}");
    assert!(
        !body.contains("archive_path") && !body.contains("archive/"),
        "{body}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    let pdf = v["documents"][0]["pdf"].as_str().unwrap().to_string();
    for t in [&a, &district] {
        assert_eq!(get(&client, &url(&pdf), t).0, 200);
    }
    // Commune B sees neither, answered like a dossier that does not exist.
    let (s, body) = get(&client, &url(&format!("/api/v1/dossiers/{CODE_A}")), &b);
    assert_eq!(s, 404, "{body}");
    let missing = get(
        &client,
        &url("/api/v1/dossiers/000.21.18.H44-230101-9999"),
        &b,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        serde_json::from_str::<Value>(&missing.1).unwrap(),
        "another unit's dossier and no dossier read the same"
    );
    assert_eq!(get(&client, &url(&pdf), &b).0, 404);

    // Reports: clamped to the caller's units; another unit is not found.
    let g = store.global();
    let g: Vec<&str> = g.iter().map(String::as_str).collect();
    let cli = |unit: &str| -> Value {
        let mut args = g.clone();
        args.extend([
            "report", "--year", "2023", "--by", "unit", "--unit", unit, "--json",
        ]);
        serde_json::from_str(&stdout(&sohoa(&args))).unwrap()
    };
    let (s, body) = get(&client, &url("/api/v1/reports?year=2023&by=unit"), &b);
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        cli(COMMUNE_B)
    );
    assert!(!body.contains(COMMUNE_A), "{body}");
    let (s, _) = get(
        &client,
        &url(&format!("/api/v1/reports?year=2023&unit={COMMUNE_A}")),
        &b,
    );
    assert_eq!(s, 404);
    let (s, body) = get(
        &client,
        &url("/api/v1/reports?year=2023&by=unit"),
        &district,
    );
    assert_eq!(
        (s, serde_json::from_str::<Value>(&body).unwrap()),
        (200, cli(DISTRICT))
    );
    let (s, body) = get(
        &client,
        &url(&format!(
            "/api/v1/reports?year=2023&unit={COMMUNE_A}&by=unit"
        )),
        &district,
    );
    assert_eq!(
        (s, serde_json::from_str::<Value>(&body).unwrap()),
        (200, cli(COMMUNE_A))
    );

    // Server-wide figures: a monitoring token only.
    for t in [&a, &district] {
        let (s, body) = get(&client, &url("/metrics"), t);
        assert_eq!(s, 403, "{body}");
        assert!(body.contains("E_FORBIDDEN"), "{body}");
    }
    let (s, metrics) = get(&client, &url("/metrics"), &monitor);
    assert_eq!(s, 200);
    assert!(metrics.contains("\nsohoa_documents_total 1\n"), "{metrics}");
    assert_eq!(
        client
            .get(url("/metrics"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401,
        "loopback needs [serve] metrics_from_loopback"
    );

    // PostgreSQL dropping every connection (as a restart does): served again at once.
    if let Some(u) = &store.url {
        let mut admin = postgres::Client::connect(u, postgres::NoTls).unwrap();
        let dropped: i64 = admin
            .query_one(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(dropped >= 1, "serve held a connection");
        for _ in 0..3 {
            assert_eq!(get(&client, &url("/api/v1/station"), &a).0, 200);
            assert_eq!(client.get(url("/health")).send().unwrap().status(), 200);
        }
    }

    // SIGTERM: a clean exit, on both stores.
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "serve stopped with {status}");
}

#[test]
fn stations_read_only_their_units_sqlite() {
    scope_on(false);
}

#[test]
fn stations_read_only_their_units_postgres() {
    scope_on(true);
}

/// A different valid PDF with the same page: a comment after the end marker.
fn variant(pdf: &[u8], n: usize) -> Vec<u8> {
    let mut v = pdf.to_vec();
    v.extend_from_slice(format!("\n% variant {n}\n%%EOF\n").as_bytes());
    v
}

fn hostile_on(postgres: bool) {
    let store = prepared(postgres);
    let a = store.token("xa-a", COMMUNE_A);
    let client = reqwest::blocking::Client::new();
    let server = store.start(&client);
    let base = server.base.clone();
    let (path, _) = store.recorded().remove(0);
    let pdf = std::fs::read(store.data.path().join(path)).unwrap();
    let code = "000.20.18.H44-230401-0009";

    // A district code is the district's, whatever the record says of it (an
    // old client's `standard: false` and receipt date included).
    let mut hijack = record("000.00.18.H44-240501-0001", COMMUNE_A, "01-don", 1, &pdf);
    hijack["dossier"]["standard"] = json!(false);
    hijack["dossier"]["received"] = json!("2019-01-01");
    let (s, body) = post(&client, &base, &a, &hijack, &pdf);
    assert_eq!(
        (s, body["error"].as_str()),
        (403, Some("E_OTHER_UNIT")),
        "{body}"
    );
    assert_eq!(store.received_on("000.00.18.H44-240501-0001"), None);

    // Its own code: the receipt date is the code's, not the record's.
    let mut own = record(code, COMMUNE_A, "01-don", 1, &pdf);
    own["dossier"]["received"] = json!("9999-12-31");
    let (s, body) = post(&client, &base, &a, &own, &pdf);
    assert_eq!(s, 201, "{body}");
    assert_eq!(store.received_on(code).as_deref(), Some("2023-04-01"));

    // Codes of the national form that are not codes, and local codes that
    // would be paths, are refused.
    for bad in [
        "000.20.18.H44-991231-0001", // a receipt date in the future
        "000.20.18.H44-231399-0001", // no such day
        "000.20.18.H44-230401-01",
        "../../etc",
        "a/b",
        "",
    ] {
        let (s, body) = post(
            &client,
            &base,
            &a,
            &record(bad, COMMUNE_A, "x", 1, &pdf),
            &pdf,
        );
        assert_eq!(
            (s, body["error"].as_str()),
            (400, Some("E_BAD_UPLOAD")),
            "{bad}: {body}"
        );
    }
    // A local code is the station's only inside its own units.
    let (s, _) = post(
        &client,
        &base,
        &a,
        &record("HS-LOCAL-1", COMMUNE_B, "x", 1, &pdf),
        &pdf,
    );
    assert_eq!(s, 403);
    let (s, body) = post(
        &client,
        &base,
        &a,
        &record("HS-LOCAL-1", COMMUNE_A, "x", 1, &pdf),
        &pdf,
    );
    assert_eq!(s, 201, "{body}");

    // Names that are not one file name, or that look like a version, are refused.
    let long = "d".repeat(300);
    for name in [
        "a/b",
        "..",
        ".",
        "",
        "X.v2",
        ".an",
        "tab\tname",
        long.as_str(),
    ] {
        let (s, body) = post(
            &client,
            &base,
            &a,
            &record(code, COMMUNE_A, name, 1, &pdf),
            &pdf,
        );
        assert_eq!(
            (s, body["error"].as_str()),
            (400, Some("E_BAD_UPLOAD")),
            "{name:?}: {body}"
        );
    }
    // The collision of the attack: X v1, X v2 and X_ v1 each get their own file.
    for (i, (name, version)) in [("X", 1), ("X", 2), ("X_", 1), ("X", 3)].iter().enumerate() {
        let p = variant(&pdf, i);
        let (s, body) = post(
            &client,
            &base,
            &a,
            &record(code, COMMUNE_A, name, *version, &p),
            &p,
        );
        assert_eq!(s, 201, "{name} v{version}: {body}");
    }
    // Eight stations' worth of the same component at once, each with other
    // bytes: one is recorded, the others are told of the conflict.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (client, base, a) = (&client, &base, &a);
                let p = variant(&pdf, 100 + i);
                s.spawn(move || post(client, base, a, &record(code, COMMUNE_A, "dua", 1, &p), &p).0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    // Damaged bytes, or a PDF that is not one, are never filed.
    let (s, _) = post(
        &client,
        &base,
        &a,
        &record(code, COMMUNE_A, "hong", 1, &pdf),
        &variant(&pdf, 7),
    );
    assert_eq!(s, 422);
    let junk = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let (s, _) = post(
        &client,
        &base,
        &a,
        &record(code, COMMUNE_A, "rac", 1, &junk),
        &junk,
    );
    assert_eq!(s, 422);

    // A NUL anywhere (PostgreSQL cannot store one) is a bad request or an
    // unknown code, never "database unavailable"; a name that reorders the
    // text around it is refused.
    let g = |path: &str, token: &str| get(&client, &format!("{base}{path}"), token);
    assert_eq!(g("/api/v1/dossiers/%00", &a).0, 404);
    assert_eq!(g("/api/v1/register?after_code=%00", &a).0, 400);
    let mut nul = record(code, COMMUNE_A, "nul", 1, &pdf);
    nul["ocr_engine"] = json!("tess\u{0}eract");
    let (s, body) = post(&client, &base, &a, &nul, &pdf);
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("E_BAD_UPLOAD")),
        "{body}"
    );
    let (s, _) = post(
        &client,
        &base,
        &a,
        &record(code, COMMUNE_A, "ab\u{202e}fdp.exe", 1, &pdf),
        &pdf,
    );
    assert_eq!(s, 400, "a bidi override in a name");

    // A local code of commune A: commune B learns nothing of it, not from a
    // commit of a made-up upload (410 as for any unknown code), nor from the
    // report's warnings (A's undated dossier is A's alone).
    let b = store.token("xa-b", COMMUNE_B);
    let local = record("HS-0001", COMMUNE_A, "01-don", 1, &variant(&pdf, 9));
    let (s, body) = post(&client, &base, &a, &local, &variant(&pdf, 9));
    assert_eq!(s, 201, "{body}");
    let mut probe = local.clone();
    probe["dossier"]["unit"] = json!(COMMUNE_B);
    let r = client
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth(&b)
        .json(&json!({"upload": "/api/v1/uploads/khong-co", "record": probe}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 410);
    let undated = |token: &str| {
        let (s, body) = g("/api/v1/reports?year=2023", token);
        assert_eq!(s, 200, "{body}");
        body.contains("không có ngày tiếp nhận")
    };
    assert!(undated(&a), "A is told of its undated dossier");
    assert!(!undated(&b), "B is not told of A's");
    // The served record shows the engine's version, not where its models are.
    let (_, shown) = g(&format!("/api/v1/dossiers/{CODE_A}"), &a);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    let v = shown["documents"][0]["ocr_version"].as_str().unwrap();
    assert!(!v.contains('/') && !v.is_empty(), "{v}");

    // Another tus version: 412 with the version the server speaks.
    let r = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&a)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 412);
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    drop(server);

    // Every recorded file is its own, and holds the bytes of its record; the
    // archive holds nothing else (no temporary or unrecorded file).
    let recorded = store.recorded();
    assert_eq!(recorded.len(), 1 + 1 + 1 + 4 + 1 + 1, "{recorded:?}");
    let mut paths: Vec<&String> = recorded.iter().map(|(p, _)| p).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), recorded.len(), "two records name one file");
    for (p, sha) in &recorded {
        let bytes = std::fs::read(store.data.path().join(p)).unwrap();
        assert_eq!(&sohoa::store::sha256_hex(&bytes), sha, "{p}");
    }
    let mut on_disk: Vec<PathBuf> = files_under(&store.data.path().join("archive"));
    on_disk.sort();
    let mut expected: Vec<PathBuf> = recorded
        .iter()
        .map(|(p, _)| store.data.path().join(p))
        .collect();
    expected.sort();
    assert_eq!(on_disk, expected);
    // What the server took in is PDF/A like what it was sent.
    assert_eq!(
        crate::pdfa::assert_archive_is_pdfa(store.data.path()),
        recorded.len()
    );
}

#[test]
fn hostile_uploads_sqlite() {
    hostile_on(false);
}

#[test]
fn hostile_uploads_postgres() {
    hostile_on(true);
}

/// Half-sent headers from another address cannot starve the server: one
/// address holds only so many connections, and those are closed when their
/// headers do not come in time. A bad body without a token is still a 401.
#[test]
fn slow_clients_and_bodies_without_a_token() {
    let store = Store::new(false);
    let config = store.data.path().join("sohoa.toml");
    std::fs::write(
        &config,
        "[serve]\nheader_timeout_seconds = 2.0\nmax_connections_per_address = 40\nbody_idle_seconds = 2.0\n",
    )
    .unwrap();
    let client = reqwest::blocking::Client::new();
    let d = store.data.path().display().to_string();
    let server = Server::start(
        &["--config", config.to_str().unwrap(), "--data-dir", &d],
        &[],
        "http",
        &client,
    );
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();

    // 300 connections from 127.0.0.2, each with half a request line.
    let attackers: Vec<socket2::Socket> = (0..300)
        .filter_map(|_| {
            let s =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
            s.bind(
                &"127.0.0.2:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .ok()?;
            s.connect(&addr.into()).ok()?;
            let mut t: std::net::TcpStream = s.try_clone().ok()?.into();
            t.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").ok()?;
            Some(s)
        })
        .collect();
    assert_eq!(attackers.len(), 300, "connects are accepted by the kernel");
    // Meanwhile others are served at once.
    let t = Instant::now();
    assert_eq!(
        client
            .get(format!("{}/health", server.base))
            .send()
            .unwrap()
            .status(),
        200
    );
    // Not stuck behind the attackers (a margin for a loaded machine).
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // The server closes every one of them: over the cap at once, the rest
    // when their headers did not come within the header timeout (2 s here).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut open: Vec<&_> = attackers.iter().collect();
    while !open.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} idle half-open connections still open",
            open.len()
        );
        open.retain(|s| {
            let mut t: std::net::TcpStream = s.try_clone().unwrap().into();
            t.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let mut buf = [0u8; 512];
            // EOF, a reset, or an error reply (408) before the close: all closed.
            match t.read(&mut buf) {
                Ok(_n) => false,
                Err(e) => e.kind() != std::io::ErrorKind::ConnectionReset,
            }
        });
    }

    // A multipart body with no boundary and no token: the token is asked first.
    let r = client
        .post(format!("{}/api/v1/documents", server.base))
        .header("content-type", "multipart/form-data")
        .body("junk")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().unwrap()["error"], "E_NO_TOKEN");

    // A commit whose JSON stops coming is answered 408 after the idle time,
    // and its connection does not stay held.
    let token = store.token("xa-a", COMMUNE_A);
    let mut t = std::net::TcpStream::connect(addr).unwrap();
    write!(
        t,
        "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{{\"upload\": "
    )
    .unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut reply = String::new();
    let _ = t.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// The cap of uploads received at once: while a stalled upload holds the
/// only turn, another is told the server is busy (503 with Retry-After); the
/// stalled one is dropped after the idle time (408) and its turn comes back.
/// `/metrics` from the server's own host needs no token when allowed, and a
/// station's token may still not read it.
#[test]
fn the_upload_cap_the_idle_body_and_loopback_metrics() {
    let store = prepared(false);
    let config = store.data.path().join("sohoa.toml");
    std::fs::write(
        &config,
        "[serve]\nmax_concurrent_uploads = 1\nupload_wait_seconds = 0.5\nbody_idle_seconds = 3.0\nmetrics_from_loopback = true\n",
    )
    .unwrap();
    let a = store.token("xa-a", COMMUNE_A);
    let client = reqwest::blocking::Client::new();
    let d = store.data.path().display().to_string();
    let server = Server::start(
        &["--config", config.to_str().unwrap(), "--data-dir", &d],
        &[],
        "http",
        &client,
    );
    let base = server.base.clone();
    let metrics = client.get(format!("{base}/metrics")).send().unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(metrics.text().unwrap().contains("sohoa_documents_total 1"));
    let (s, body) = get(&client, &format!("{base}/metrics"), &a);
    assert_eq!(s, 403, "{body}");

    let (path, _) = store.recorded().remove(0);
    let pdf = std::fs::read(store.data.path().join(path)).unwrap();
    let addr = base.trim_start_matches("http://");
    let mut stalled = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stalled,
        "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let code = "000.20.18.H44-230401-0011";
    let r = reqwest::blocking::multipart::Form::new()
        .text(
            "record",
            record(code, COMMUNE_A, "cho", 1, &pdf).to_string(),
        )
        .part(
            "pdf",
            reqwest::blocking::multipart::Part::bytes(pdf.clone()).file_name("x.pdf"),
        );
    let busy = client
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth(&a)
        .multipart(r)
        .send()
        .unwrap();
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(busy.headers()["retry-after"], "5");
    assert_eq!(busy.json::<Value>().unwrap()["error"], "E_BUSY");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reply = String::new();
    let _ = stalled.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let (s, body) = post(
        &client,
        &base,
        &a,
        &record(code, COMMUNE_A, "cho", 1, &pdf),
        &pdf,
    );
    assert_eq!(s, 201, "the turn came back: {body}");
}

fn rss_peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A decompression bomb is refused without being inflated, and a 137 MiB
/// upload costs the server no more memory than a small one: it is streamed to
/// disk and checked from a map of the file.
#[test]
fn bombs_are_refused_and_big_uploads_stream() {
    let store = Store::new(false);
    let a = store.token("xa-a", COMMUNE_A);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let server = store.start(&client);
    let code = "000.20.18.H44-230401-0010";
    // 1 GiB of content that deflates to about 1 MB.
    let zeros = vec![b' '; 1 << 30];
    let bomb = pdf_with(
        &miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 6),
        " /Filter /FlateDecode",
        None,
    );
    drop(zeros);
    let (s, body) = post(
        &client,
        &server.base,
        &a,
        &record(code, COMMUNE_A, "bom", 1, &bomb),
        &bomb,
    );
    assert_eq!(
        (s, body["error"].as_str()),
        (422, Some("E_BAD_PDF")),
        "{body}"
    );
    let small = pdf_with(b"q 595 0 0 842 0 0 cm /Im Do Q", "", None);
    let (s, body) = post(
        &client,
        &server.base,
        &a,
        &record(code, COMMUNE_A, "nho", 1, &small),
        &small,
    );
    assert_eq!(s, 201, "{body}");
    let after_small = rss_peak_kib(server.child.id());

    // 137 MiB of image samples (a page within max_pixels), sent from a file.
    let (w, h) = (12000u32, 12000u32);
    let big = pdf_with(
        b"q 595 0 0 842 0 0 cm /Im Do Q",
        "",
        Some((w, h, &vec![128u8; (w * h) as usize])),
    );
    let file = store.data.path().join("big.pdf");
    std::fs::write(&file, &big).unwrap();
    let rec = record(code, COMMUNE_A, "lon", 1, &big);
    drop(big);
    let form = reqwest::blocking::multipart::Form::new()
        .text("record", rec.to_string())
        .file("pdf", &file)
        .unwrap();
    let r = client
        .post(format!("{}/api/v1/documents", server.base))
        .bearer_auth(&a)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
    let after_big = rss_peak_kib(server.child.id());
    assert!(
        after_big < after_small + 64 * 1024,
        "a 137 MiB upload raised serve's peak RSS from {after_small} to {after_big} KiB"
    );
}
