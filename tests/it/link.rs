//! Stations in the mountains: `sohoa sync` through `scripts/faulty_link.py`, a
//! loopback proxy that throttles, cuts every connection every few seconds,
//! stalls and drops replies after the server received the body. Everything
//! gets through exactly once, with few bytes sent twice; a document the server
//! refuses for good (507) is set aside while the rest go on. The tus side of
//! the server is checked with an independent client (`tuspy`) and by hand.

use crate::harness::{pdf_with, sohoa, stderr, stdout, Server};
use serde_json::Value;
use sohoa::codes::DossierCode;
use sohoa::intake::DocKind;
use sohoa::records::{NewDocument, PageRecord, Records};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UNIT: &str = "000.20.18.H44";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Noise that does not compress (xorshift), so a PDF is as big as its image.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes a one-page PDF of about `bytes` into the station's archive and
/// records it, as the pipeline would have; returns the PDF's size.
fn station_document(records: &Records, data: &Path, code: &str, name: &str, bytes: usize) -> u64 {
    let (w, h) = (1000u32, (bytes / 1000).max(1) as u32);
    let pdf = pdf_with(
        b"q 595 0 0 842 0 0 cm /Im Do Q",
        "",
        Some((w, h, &noise((w * h) as usize, bytes as u64))),
    );
    let dossier = DossierCode::parse(code).unwrap();
    let id = records.ensure_dossier(&dossier).unwrap();
    let rel = format!("archive/{code}/{name}.pdf");
    std::fs::create_dir_all(data.join(format!("archive/{code}"))).unwrap();
    std::fs::write(data.join(&rel), &pdf).unwrap();
    records
        .insert_document(&NewDocument {
            dossier_id: id,
            kind: DocKind::ThanhPhan,
            name: name.into(),
            version: 1,
            archive_path: rel,
            bytes: pdf.len() as u64,
            sha256: sohoa::store::sha256_hex(&pdf),
            input_sha256: sohoa::store::sha256_hex(name.as_bytes()),
            inputs: vec![],
            ocr_engine: "tesseract".into(),
            ocr_version: "5".into(),
            ocr_languages: "vie".into(),
            mean_confidence: None,
            pages: vec![PageRecord {
                page_no: 1,
                width_px: w,
                height_px: h,
                dpi: Some((200.0, 200.0)),
                color: "gray".into(),
                turn: 0,
                deskew_deg: 0.0,
                blank: false,
                mean_confidence: None,
                words: 0,
                ocr_seconds: 0.0,
            }],
        })
        .unwrap();
    pdf.len() as u64
}

/// A district server on SQLite, with one station of `UNIT`; (server, token, data dir).
fn server(extra_config: &str) -> (Server, String, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[serve]\n{extra_config}\n",
            data.path().display()
        ),
    )
    .unwrap();
    let global = ["--config", config.to_str().unwrap()];
    let o = sohoa(&[&global[..], &["station", "add", "xa-a", "--unit", UNIT]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().to_string();
    let client = reqwest::blocking::Client::new();
    let server = Server::start(&global, &[], "http", &client);
    (server, token, data)
}

/// A station's data dir and config pointing at `server`.
fn station(server: &str, token: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[sync]\nserver = \"{server}\"\ntoken = \"{token}\"\nmax_backoff_seconds = 2.0\nrequest_timeout_seconds = 20.0\n{extra}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    (dir, config)
}

/// `scripts/faulty_link.py` in front of `target`; killed when dropped.
struct Link {
    child: Child,
    base: String,
    stats: PathBuf,
    _dir: tempfile::TempDir,
}

impl Link {
    fn start(target: &str, faults: &[&str]) -> Link {
        let dir = tempfile::tempdir().unwrap();
        let stats = dir.path().join("stats.json");
        let target = target.trim_start_matches("http://");
        let mut child = Command::new("/usr/bin/python3")
            .arg(repo().join("scripts/faulty_link.py"))
            .args(["--target", target, "--stats", stats.to_str().unwrap()])
            .args(faults)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/faulty_link.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("faulty_link.py said {first:?}"))
            .to_string();
        Link {
            child,
            base: format!("http://{addr}"),
            stats: stats.clone(),
            _dir: dir,
        }
    }

    /// The proxy's counters, written at exit.
    fn stop(mut self) -> Value {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        serde_json::from_slice(&std::fs::read(&self.stats).unwrap()).unwrap()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (sha256, count) of every document on the server.
fn server_shas(data: &Path) -> Vec<(String, i64)> {
    let db = rusqlite::Connection::open(data.join("sohoa.db")).unwrap();
    let mut st = db
        .prepare("SELECT sha256, COUNT(*) FROM documents GROUP BY sha256 ORDER BY 1")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The judged case: ~10 MB (one document of 3,2 MB) behind 64 KB/s, cut every
/// 5 s, one 8 s stall, two replies dropped after the body arrived; one
/// document the server's archive cannot take (507).
#[test]
fn a_station_behind_a_breaking_link_delivers_everything_once() {
    let (server, token, server_data) = server("");
    let refused_code = format!("{UNIT}-230315-0099");
    // A file where the dossier's archive folder would go: the server cannot
    // file that document (ENOTDIR, 507), whatever the station does.
    let blocked = server_data.path().join(format!("archive/{UNIT}/2023"));
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join(&refused_code), b"not a folder").unwrap();

    let link = Link::start(
        &server.base,
        &[
            "--rate",
            "65536",
            "--cut-every",
            "5",
            "--stall-at",
            "40",
            "--stall-for",
            "8",
            "--drop-replies",
            "2",
        ],
    );
    let (st, config) = station(&link.base, &token, "");
    let data = st.path().join("data");
    let records = Records::open(&data.join("sohoa.db")).unwrap();
    let mut total = 0;
    let mut shas = Vec::new();
    let sizes = [
        3_300_000, 1_500_000, 1_300_000, 1_100_000, 900_000, 700_000, 500_000, 300_000, 150_000,
    ];
    for (i, bytes) in sizes.iter().enumerate() {
        let code = format!("{UNIT}-2303{:02}-{:04}", 1 + i, 10 + i);
        total += station_document(&records, &data, &code, &format!("{i:02}-giay-to"), *bytes);
    }
    total += station_document(&records, &data, &refused_code, "bi-chan", 120_000);
    {
        let db = rusqlite::Connection::open(data.join("sohoa.db")).unwrap();
        let mut q = db
            .prepare("SELECT sha256 FROM documents ORDER BY sha256")
            .unwrap();
        shas.extend(
            q.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap),
        );
    }
    drop(records);
    assert!(total > 9_500_000, "{total}");

    let started = Instant::now();
    let o = sohoa(&[
        "--config",
        config.to_str().unwrap(),
        "sync",
        "--wait",
        "900",
    ]);
    let took = started.elapsed();
    let stats = link.stop();
    let (out, err) = (stdout(&o), stderr(&o));
    // Not everything went: one document is refused, so the exit says so.
    assert_ne!(o.status.code(), Some(0), "{out}{err}");
    assert!(o.status.code().is_some(), "{err}");

    // Every other document once, byte for byte.
    let on_server = server_shas(server_data.path());
    assert_eq!(on_server.len(), sizes.len(), "{on_server:?}\n{out}{err}");
    assert!(on_server.iter().all(|(s, n)| *n == 1 && shas.contains(s)));
    // The refused one is set aside with the server's message; nothing waits.
    let status: Value = serde_json::from_str(&stdout(&sohoa(&[
        "--config",
        config.to_str().unwrap(),
        "status",
        "--json",
    ])))
    .unwrap();
    let sync = &status["sync"];
    assert_eq!(sync["waiting"], 0, "{status}");
    assert_eq!(
        sync["refused"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    assert!(
        sync["refused"][0]["error"]
            .as_str()
            .unwrap()
            .contains("E_STORE"),
        "{status}"
    );
    assert!(
        out.contains("bị từ chối") && out.contains("bi-chan"),
        "{out}"
    );
    // The link was measured: about its 64 KB/s.
    let rate = sync["link_bytes_per_second"].as_f64().unwrap_or(0.0);
    assert!((16_000.0..=80_000.0).contains(&rate), "measured {rate} B/s");

    // The faults happened, and cost little.
    let up = stats["up_bytes"].as_u64().unwrap();
    assert!(stats["cuts"].as_u64().unwrap() >= 10, "{stats}");
    assert!(stats["dropped_replies"].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["stalls"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        (up as f64) <= 1.15 * total as f64,
        "{up} bytes crossed the link for {total} bytes of documents ({stats})"
    );
    // Nothing half-received is left on the server but the refused document's
    // upload (kept, for when IT has fixed the archive and the station retries).
    let tus = server_data.path().join("archive/.incoming/tus");
    let parts = std::fs::read_dir(&tus)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("part".as_ref()))
        .count();
    assert_eq!(
        parts,
        1,
        "{:?}",
        std::fs::read_dir(&tus).unwrap().collect::<Vec<_>>()
    );
    eprintln!(
        "link: {} documents, {total} bytes in {:.0} s; {up} bytes up ({:.3}×), {} cuts",
        sizes.len(),
        took.as_secs_f64(),
        up as f64 / total as f64,
        stats["cuts"]
    );
}

fn tus(
    client: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
) -> reqwest::blocking::RequestBuilder {
    client
        .request(method, url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
}

fn commit(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    upload: &str,
    record: &sohoa::api::Upload,
) -> (u16, Value) {
    let r = client
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth(token)
        .json(&serde_json::json!({"upload": upload, "record": record}))
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// The server's tus part with `tuspy` from PyPI and by hand: resuming from
/// the offset, another station's upload, wrong offsets, too long, the commit
/// repeated, expiry; and the station's own `max_kbps` and `hours`.
#[test]
fn the_tus_protocol_with_an_independent_client() {
    let (server, token, server_data) = server("upload_expiry_hours = 0.001\nmax_upload_mib = 8");
    let other = {
        let config = server_data.path().join("serve.toml");
        let o = sohoa(&[
            "--config",
            config.to_str().unwrap(),
            "station",
            "add",
            "xa-b",
            "--unit",
            "000.21.18.H44",
        ]);
        stdout(&o).lines().last().unwrap().to_string()
    };
    let (st, config) = station(
        &server.base,
        &token,
        "max_kbps = 512\nhours = \"03:00-03:01\"\nbig_mib = 1.5",
    );
    let data = st.path().join("data");
    let records = Records::open(&data.join("sohoa.db")).unwrap();
    let code = format!("{UNIT}-230320-0001");
    station_document(&records, &data, &code, "nho", 1_000_000);
    station_document(&records, &data, &code, "lon", 2_000_000);
    let rec = records.upload_record(1).unwrap().unwrap();
    let record =
        sohoa::api::Upload::from_record(&rec.dossier.code, &rec.dossier.unit, &rec.document);
    let pdf = data.join(&rec.document.archive_path);
    let client = reqwest::blocking::Client::new();
    let uploads = format!("{}/api/v1/uploads", server.base);

    // tuspy uploads in small chunks; the server holds it all, then it is committed.
    let python = repo().join(".venv/bin/python");
    let o = Command::new(&python)
        .arg(repo().join("scripts/tus_upload.py"))
        .args([
            "--endpoint",
            &uploads,
            "--token",
            &token,
            "--chunk-size",
            "262144",
        ])
        .arg(&pdf)
        .output()
        .expect("run .venv/bin/python scripts/tus_upload.py (make test installs tuspy)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(url.contains("/api/v1/uploads/"), "{url}");
    let r = tus(&client, reqwest::Method::HEAD, &url, &token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["upload-offset"],
        rec.document.bytes.to_string().as_str()
    );
    assert!(r.headers().contains_key("upload-expires"));
    // Another station sees nothing, and cannot commit it.
    let r = tus(&client, reqwest::Method::HEAD, &url, &other)
        .send()
        .unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(commit(&client, &server.base, &other, &url, &record).0, 403);
    let (s, body) = commit(&client, &server.base, &token, &url, &record);
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // The reply lost, the commit repeated: the same id, once.
    let (s, body) = commit(&client, &server.base, &token, &url, &record);
    assert_eq!(
        (s, body["id"].as_i64(), body["duplicate"].as_bool()),
        (200, Some(id), Some(true))
    );
    let r = tus(&client, reqwest::Method::HEAD, &url, &token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 410);

    // By hand: create, half, a wrong offset, the rest, too much.
    let bytes = std::fs::read(&pdf).unwrap();
    let r = tus(&client, reqwest::Method::POST, &uploads, &token)
        .header("Upload-Length", 100)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let part = format!(
        "{}{}",
        server.base,
        r.headers()["location"].to_str().unwrap()
    );
    let patch = |offset: u64, body: &[u8]| {
        tus(&client, reqwest::Method::PATCH, &part, &token)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset)
            .body(body.to_vec())
            .send()
            .unwrap()
    };
    let r = patch(0, &bytes[..60]);
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["upload-offset"].to_str().unwrap()
        ),
        (204, "60")
    );
    let r = patch(10, &bytes[60..70]);
    assert_eq!(r.status(), 409);
    let r = patch(60, &bytes[60..120]);
    assert_eq!(r.status(), 400, "more than Upload-Length");
    let r = tus(&client, reqwest::Method::HEAD, &part, &token)
        .send()
        .unwrap();
    assert_eq!(r.headers()["upload-offset"], "60");
    // Committing what is incomplete is refused; the record does not fit anyway.
    assert_eq!(commit(&client, &server.base, &token, &part, &record).0, 409);
    let r = tus(&client, reqwest::Method::POST, &uploads, &token)
        .header("Upload-Length", 9 << 20)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = client
        .post(&uploads)
        .header("Upload-Length", 10)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // Left alone past upload_expiry_hours (3,6 s), it is removed (by the
    // sweeper, which a loaded machine may run late: waited for).
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        let r = tus(&client, reqwest::Method::HEAD, &part, &token)
            .send()
            .unwrap();
        if r.status() != 200 || std::time::Instant::now() > deadline {
            break r.status();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, 410);
    let left: Vec<_> = std::fs::read_dir(server_data.path().join("archive/.incoming/tus"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The station: the small document goes at once at no more than 512 KB/s
    // (already on the server: a duplicate), the big one waits for its hours.
    drop(records);
    let o = sohoa(&["--config", config.to_str().unwrap(), "sync", "--wait", "5"]);
    let out = stdout(&o);
    assert!(out.contains("khung giờ 03:00–03:01"), "{out}{}", stderr(&o));
    let status: Value = serde_json::from_str(&stdout(&sohoa(&[
        "--config",
        config.to_str().unwrap(),
        "status",
        "--json",
    ])))
    .unwrap();
    assert_eq!(status["sync"]["waiting"], 1, "{status}");
    assert_eq!(status["sync"]["sent"], 1, "{status}");
    // The hours do not hold a document the operator sends now; the cap holds.
    let (st2, config2) = station(&server.base, &token, "max_kbps = 512");
    let records = Records::open(&st2.path().join("data/sohoa.db")).unwrap();
    let sent = station_document(
        &records,
        &st2.path().join("data"),
        &format!("{UNIT}-230321-0002"),
        "vua",
        2_000_000,
    );
    drop(records);
    let started2 = Instant::now();
    let o = sohoa(&["--config", config2.to_str().unwrap(), "sync"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let floor = sent as f64 / (512.0 * 1024.0);
    assert!(
        started2.elapsed().as_secs_f64() >= floor * 0.9,
        "{sent} bytes in {:?} at max_kbps = 512",
        started2.elapsed()
    );
}
