//! Stations on SQLite pushing to a district server over loopback, with real
//! processes: the server down, then back; killed in the middle of an upload and
//! while a station syncs; a second worker filling the same PostgreSQL records;
//! the same document pushed twice; wrong and missing tokens; a dossier of
//! another unit; a file altered in transit and on the station. Afterwards the
//! server holds each station document once, byte for byte, and its report
//! equals the stations' reports.

use crate::harness::{
    files_under, import_units_with, output_within_child, postgres_url, slips, sohoa, stderr,
    stdout, wait_within, Killed, Server, CHILD_LIMIT,
};
use serde_json::Value;
use sohoa::records::Records;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const UNIT_A: &str = "000.20.18.H44"; // a commune (xã) of the sample tree
const UNIT_B: &str = "000.21.18.H44"; // another commune
const DISTRICT: &str = "000.00.18.H44";

/// Dossier folders `<unit>-2303DD-NNNN` with one slip each (slips from `first`).
fn dossiers(
    inbox: &Path,
    unit: &str,
    numbers: std::ops::Range<usize>,
    first: usize,
) -> Vec<String> {
    numbers
        .enumerate()
        .map(|(i, n)| {
            let code = format!("{unit}-2303{:02}-{n:04}", 1 + n % 28);
            let d = inbox.join(&code);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(&slips()[first + i], d.join("01-phieu.jpg")).unwrap();
            code
        })
        .collect()
}

/// A register with a row for each code: every third online, every second with a fee.
fn register_csv(path: &Path, codes: &[String]) {
    let mut s = String::from("Mã hồ sơ,Mã đơn vị,Ngày tiếp nhận,Hình thức nộp,DVC toàn trình,Có phí,Thanh toán trực tuyến,Có kết quả giấy\n");
    for (i, c) in codes.iter().enumerate() {
        let (unit, rest) = c.split_at(13);
        let day = &rest[5..7];
        let online = if i % 3 == 0 {
            "Trực tuyến"
        } else {
            "Trực tiếp"
        };
        let fee = if i % 2 == 0 { "Có" } else { "Không" };
        s += &format!("{c},{unit},{day}/03/2023,{online},Có,{fee},{fee},Không\n");
    }
    std::fs::write(path, s).unwrap();
}

fn run(args: &[&str]) -> Output {
    let o = sohoa(args);
    assert!(
        o.status.code().is_some(),
        "sohoa {args:?} was killed: {}",
        stderr(&o)
    );
    o
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "sohoa {args:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn station_token(global: &[&str], name: &str, unit: &str) -> String {
    let mut args = global.to_vec();
    args.extend(["station", "add", name, "--unit", unit]);
    ok(&args).lines().last().unwrap().to_string()
}

/// A station: its data dir and config (server, token, quick retries).
struct Station {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Station {
    fn new(server: &str, token: &str) -> Station {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("sohoa.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n[watch]\nsettle_seconds = 1.0\n[sync]\nserver = \"{server}\"\ntoken = \"{token}\"\ninterval_seconds = 1.0\nmax_backoff_seconds = 2.0\nrequest_timeout_seconds = 20.0\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        import_units_with(&["--config", config.to_str().unwrap()]);
        Station { dir, config }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn args<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["--config", self.config.to_str().unwrap()];
        a.extend(rest);
        a
    }

    fn status(&self) -> Value {
        let o = run(&self.args(&["status", "--json"]));
        serde_json::from_str(&stdout(&o)).unwrap()
    }

    /// `sohoa` with the station's settings, killed if the test fails first.
    fn spawn(&self, rest: &[&str]) -> Killed {
        Killed::new(
            super::harness::command()
                .args(self.args(rest))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// (code, kind, name, version, sha256) of every document, sorted.
    fn documents(&self) -> Vec<(String, String, String, i64, String)> {
        let db = rusqlite::Connection::open(self.data().join("sohoa.db")).unwrap();
        let mut st = db
            .prepare(
                "SELECT s.code, d.kind, d.name, d.version, d.sha256 FROM documents d
                   JOIN dossiers s ON s.id = d.dossier_id ORDER BY 1, 2, 3, 4",
            )
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// The record and PDF of one of its documents, as `sohoa sync` sends them.
    fn upload(&self, id: i64) -> (sohoa::api::Upload, Vec<u8>) {
        let r = Records::open(&self.data().join("sohoa.db")).unwrap();
        let rec = r.upload_record(id).unwrap().unwrap();
        let path = rec.document.archive_path.clone();
        let up =
            sohoa::api::Upload::from_record(&rec.dossier.code, &rec.dossier.unit, &rec.document);
        (up, std::fs::read(self.data().join(path)).unwrap())
    }
}

fn server_documents(
    db: &mut postgres::Client,
    units: &[&str],
) -> Vec<(String, String, String, i64, String)> {
    let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
    db.query(
        "SELECT s.code, d.kind, d.name, d.version, d.sha256 FROM documents d
           JOIN dossiers s ON s.id = d.dossier_id WHERE s.unit_code = ANY($1) ORDER BY 1, 2, 3, 4",
        &[&units],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

fn count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).unwrap().get(0)
}

fn post(
    client: &reqwest::blocking::Client,
    base: &str,
    token: Option<&str>,
    rec: &sohoa::api::Upload,
    pdf: Vec<u8>,
) -> (u16, Value) {
    let form = reqwest::blocking::multipart::Form::new()
        .text("record", serde_json::to_string(rec).unwrap())
        .part(
            "pdf",
            reqwest::blocking::multipart::Part::bytes(pdf).file_name("x.pdf"),
        );
    let mut req = client
        .post(format!("{base}/api/v1/documents"))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

/// Sends the head and half the body of a real upload, then leaves the
/// connection open: the server is killed while it reads.
fn half_upload(
    base: &str,
    token: &str,
    rec: &sohoa::api::Upload,
    pdf: &[u8],
) -> std::net::TcpStream {
    let boundary = "sohoa-test-boundary";
    let mut body = Vec::new();
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"record\"\r\nContent-Type: application/json\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"x.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
        serde_json::to_string(rec).unwrap()
    )
    .unwrap();
    body.extend_from_slice(pdf);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /api/v1/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    s.flush().unwrap();
    s
}

fn pdf_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect()
}

fn sha256(path: &Path) -> String {
    sohoa::store::sha256_hex(&std::fs::read(path).unwrap())
}

/// `report --year 2023 --json` counts per line key.
fn report_counts(args: &[&str], unit: &str) -> BTreeMap<String, Value> {
    let mut a = args.to_vec();
    a.extend(["report", "--year", "2023", "--unit", unit, "--json"]);
    let v: Value = serde_json::from_str(&ok(&a)).unwrap();
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["key"].as_str().unwrap().to_string(), l["counts"].clone()))
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn two_stations_and_a_worker_through_outages_and_kills() {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = postgres_url();
    let srv = tempfile::tempdir().unwrap();
    let srv_dir = srv.path().to_str().unwrap();
    let global = ["--data-dir", srv_dir, "--database-url", url.as_str()];
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    import_units_with(&global);

    // Station A: 6 dossiers of its commune and one of commune B (refused later).
    let in_a = tempfile::tempdir().unwrap();
    let codes_a = dossiers(in_a.path(), UNIT_A, 1..7, 100);
    let stray = dossiers(in_a.path(), UNIT_B, 90..91, 110);
    // Station B: two waves into its watched inbox.
    let in_b = tempfile::tempdir().unwrap();
    let staging = tempfile::tempdir().unwrap();
    let wave1 = dossiers(staging.path(), UNIT_B, 1..5, 120);
    let wave2 = dossiers(staging.path(), UNIT_B, 5..9, 130);
    // The second worker: district dossiers into the server's own records.
    let in_w = tempfile::tempdir().unwrap();
    let codes_w = dossiers(in_w.path(), DISTRICT, 1..6, 140);

    // The server's register holds every dossier; stations pull their own.
    let reg = srv.path().join("so-tiep-nhan.csv");
    let all: Vec<String> = codes_a
        .iter()
        .chain(&wave1)
        .chain(&wave2)
        .chain(&codes_w)
        .cloned()
        .collect();
    register_csv(&reg, &all);
    let mut a = global.to_vec();
    a.extend(["register", "import", reg.to_str().unwrap()]);
    ok(&a);
    let token_a = station_token(&global, "xa-a", UNIT_A);
    let token_b = station_token(&global, "xa-b", UNIT_B);

    let mut server = Server::start(&global, &[], "http", &client);
    let st_a = Station::new(&server.base, &token_a);
    let st_b = Station::new(&server.base, &token_b);
    ok(&st_a.args(&["batch", in_a.path().to_str().unwrap()]));
    let docs_a = st_a.documents();
    assert_eq!(docs_a.len(), 7);

    // 1. The server is down: nothing goes, everything waits, the operator is told.
    server.kill();
    let o = run(&st_a.args(&["sync", "--wait", "0"]));
    assert_eq!(o.status.code(), Some(9), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("7 tài liệu chờ gửi (cũ nhất từ "), "{out}");
    assert!(
        out.contains("Chưa gửi được: máy chủ http://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("giữ an toàn trên trạm"), "{out}");
    let s = st_a.status();
    assert_eq!(s["sync"]["waiting"], 7, "{s}");
    assert!(s["sync"]["waiting_since"].as_str().is_some(), "{s}");
    assert!(
        s["sync"]["last_error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{s}"
    );

    // 2. Killed in the middle of an upload: nothing half-written survives.
    server.restart(&client);
    let (rec, pdf) = st_a.upload(1);
    let conn = half_upload(&server.base, &token_a, &rec, &pdf);
    // The kill must land while the server holds a part: its temporary file.
    let incoming = srv.path().join("archive/.incoming");
    wait_for(
        "the server to receive part of the upload",
        Duration::from_secs(60),
        || {
            files_under(&incoming)
                .iter()
                .any(|f| f.metadata().is_ok_and(|m| m.len() > 0))
        },
    );
    server.kill();
    drop(conn);
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), 0);
    // The part received is a temporary file, which the next start sweeps.
    server.restart(&client);
    let left = files_under(&srv.path().join("archive"));
    assert!(
        left.is_empty(),
        "nothing in the archive after a cut upload: {left:?}"
    );

    // 3. Documents flow: the worker, station B's watcher (sync loop), station A's sync,
    //    while the server is killed and comes back.
    let mut worker = Killed::new(
        super::harness::command()
            .args(global)
            .args(["batch", in_w.path().to_str().unwrap(), "--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut watch_b = st_b.spawn(&["watch", in_b.path().to_str().unwrap(), "--jobs", "1"]);
    for c in &wave1 {
        std::fs::rename(staging.path().join(c), in_b.path().join(c)).unwrap();
    }
    let sync_a = st_a.spawn(&["sync", "--wait", "120"]);
    wait_for(
        "station B's first wave on the server",
        Duration::from_secs(120),
        || st_b.status()["sync"]["sent"].as_u64().unwrap_or(0) >= 2,
    );
    server.kill();
    for c in &wave2 {
        std::fs::rename(staging.path().join(c), in_b.path().join(c)).unwrap();
    }
    wait_for(
        "station B to digitize the second wave offline",
        Duration::from_secs(120),
        || st_b.documents().len() == 8,
    );
    let s = st_b.status();
    assert!(
        s["sync"]["waiting"].as_u64().unwrap() > 0,
        "offline, documents wait: {s}"
    );
    // The station reboots while the server is away: its watcher dies outright.
    watch_b.kill().unwrap();
    wait_within(&mut watch_b, CHILD_LIMIT, "station B's killed watcher");
    std::thread::sleep(Duration::from_secs(2));
    server.restart(&client);
    let mut watch_b = st_b.spawn(&["watch", in_b.path().to_str().unwrap(), "--jobs", "1"]);

    let o = output_within_child(sync_a.into_child(), CHILD_LIMIT);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(9), "one document is refused: {out}");
    assert!(out.contains("không còn tài liệu chờ gửi"), "{out}");
    assert!(out.contains("1 tài liệu bị từ chối"), "{out}");
    assert!(
        out.contains(&format!(
            "{} / 01-phieu: [E_OTHER_UNIT] Trạm xa-a chỉ được gửi hồ sơ của đơn vị {UNIT_A}",
            stray[0]
        )),
        "{out}"
    );
    assert!(wait_within(&mut worker, CHILD_LIMIT, "the worker").success());
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let s = st_b.status();
        if s["sync"]["waiting"] == 0 && s["sync"]["sent"] == 8 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for station B's outbox to empty: {s}\nserver: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &watch_b.id().to_string()])
        .status();
    assert!(wait_within(
        &mut watch_b,
        Duration::from_secs(120),
        "station B's watcher told to stop"
    )
    .success());

    // 4. The server holds each station document once, byte for byte.
    let mut expected: Vec<_> = docs_a.iter().filter(|d| d.0 != stray[0]).cloned().collect();
    expected.extend(st_b.documents());
    expected.sort();
    let on_server = server_documents(&mut db, &[UNIT_A, UNIT_B]);
    assert_eq!(on_server, expected);
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), 14 + 5);
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM uploads"), 14);
    let rows = db
        .query("SELECT archive_path, sha256 FROM documents", &[])
        .unwrap();
    for r in &rows {
        let (path, sha): (String, String) = (r.get(0), r.get(1));
        assert_eq!(sha256(&srv.path().join(&path)), sha, "{path}");
    }
    let files = files_under(&srv.path().join("archive"));
    assert_eq!(
        files.len(),
        rows.len(),
        "no stray or temporary files: {files:?}"
    );
    assert_eq!(pdf_files(&srv.path().join("archive")).len(), 19);

    // 5. The register reached the stations, and the reports agree.
    // Station A's report is of its own unit: the stray dossier is not its to count.
    let rep_a = report_counts(&st_a.args(&[]), UNIT_A);
    let rep_b = report_counts(&st_b.args(&[]), UNIT_B);
    assert_eq!(rep_a["xa"]["in_register"], 6, "{rep_a:?}");
    assert_eq!(rep_b["xa"]["in_register"], 8, "{rep_b:?}");
    let server_xa = {
        let mut a = global.to_vec();
        a.extend(["report", "--year", "2023", "--level", "xa", "--json"]);
        let v: Value = serde_json::from_str(&ok(&a)).unwrap();
        v["lines"][0]["counts"].clone()
    };
    for field in [
        "received",
        "with_component",
        "digitized",
        "online",
        "with_fee",
        "paid_online",
        "in_register",
    ] {
        let sum = rep_a["xa"][field].as_u64().unwrap() + rep_b["xa"][field].as_u64().unwrap();
        assert_eq!(
            server_xa[field].as_u64().unwrap(),
            sum,
            "{field}: {server_xa} vs {rep_a:?} + {rep_b:?}"
        );
    }
    assert_eq!(server_xa["received"], 14);
    assert_eq!(server_xa["digitized"], 14);

    // 6. Unauthorised requests are refused, and change nothing. The server answers
    //    401 before reading an upload's body, so these carry a small one (a client
    //    still sending a large body may see the connection close first; `sohoa sync`
    //    asks /api/v1/station before uploading, for that reason).
    let (rec, pdf) = st_b.upload(1);
    let small = b"%PDF-1.7\n".to_vec();
    let (status, body) = post(&client, &server.base, None, &rec, small.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("E_NO_TOKEN")),
        "{body}"
    );
    let (status, body) = post(
        &client,
        &server.base,
        Some("not-a-token"),
        &rec,
        small.clone(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("E_BAD_TOKEN")),
        "{body}"
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Mã truy cập của trạm không đúng"));
    let r = client
        .get(format!("{}/api/v1/register", server.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Station A may not write station B's dossier either.
    let (status, body) = post(&client, &server.base, Some(&token_a), &rec, pdf.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("E_OTHER_UNIT")),
        "{body}"
    );

    // 7. The same document twice: acknowledged with the id it has, stored once.
    let (status, body) = post(&client, &server.base, Some(&token_b), &rec, pdf.clone());
    assert_eq!(
        (status, body["duplicate"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    let before = count(&mut db, "SELECT COUNT(*) FROM documents");
    {
        let st = rusqlite::Connection::open(st_b.data().join("sohoa.db")).unwrap();
        st.execute("UPDATE outbox SET state = 'waiting', sent_at = NULL", [])
            .unwrap();
    }
    let out = ok(&st_b.args(&["sync"]));
    assert!(
        out.contains("đã gửi 8 tài liệu (") && out.contains("; 8 máy chủ đã có sẵn)"),
        "{out}"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), before);
    // 7b. An upload the server no longer has (it expired, or a restart forgot
    // it): HEAD answers 410 without a body, as HEAD must; the station starts
    // the upload again and nothing is refused.
    {
        let st = rusqlite::Connection::open(st_b.data().join("sohoa.db")).unwrap();
        let gone = format!(
            "{}/api/v1/uploads/0123456789abcdef0123456789abcdef",
            server.base
        );
        st.execute(
            "UPDATE outbox SET state = 'waiting', sent_at = NULL, upload_url = ?1, upload_offset = 100
              WHERE document_id = (SELECT MIN(document_id) FROM outbox)",
            [gone],
        )
        .unwrap();
    }
    let out = ok(&st_b.args(&["sync"]));
    assert!(
        out.contains("đã gửi 1 tài liệu (") && !out.contains("từ chối"),
        "{out}"
    );
    assert_eq!(st_b.status()["sync"]["refused"], serde_json::json!([]));

    // 8. Altered in transit: refused, nothing stored.
    let mut bad = pdf.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x20;
    let (status, body) = post(&client, &server.base, Some(&token_b), &rec, bad);
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("E_HASH_MISMATCH")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("không khớp"),
        "{body}"
    );
    // A record and bytes that agree, but not an archive PDF: not a PDF at all,
    // or a PDF with fewer pages than the record lists.
    let garbage = b"not a PDF at all".to_vec();
    let mut fake = rec.clone();
    fake.name = "99-gia".into();
    (fake.sha256, fake.bytes) = (sohoa::store::sha256_hex(&garbage), garbage.len() as u64);
    let (status, body) = post(&client, &server.base, Some(&token_b), &fake, garbage);
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("E_BAD_PDF")),
        "{body}"
    );
    let mut more_pages = rec.clone();
    more_pages.name = "98-thieu-trang".into();
    more_pages.pages.push(more_pages.pages[0].clone());
    let (status, body) = post(
        &client,
        &server.base,
        Some(&token_b),
        &more_pages,
        pdf.clone(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("E_BAD_PDF")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("tệp có 1 trang, bản ghi kê 2 trang"),
        "{body}"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), before);
    assert_eq!(files_under(&srv.path().join("archive")).len(), rows.len());

    // 9. A revoked station is refused; what it sent stays.
    let mut revoke = global.to_vec();
    revoke.extend(["station", "revoke", "xa-b"]);
    assert!(ok(&revoke).contains("Đã thu hồi mã truy cập của trạm xa-b"));
    assert_eq!(run(&revoke).status.code(), Some(6), "revoked once");
    let (status, body) = post(&client, &server.base, Some(&token_b), &rec, small);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("E_BAD_TOKEN")),
        "{body}"
    );
    let o = run(&st_b.args(&["sync", "--wait", "0"]));
    assert_eq!(o.status.code(), Some(9));
    assert!(
        stdout(&o).contains("Máy chủ không chấp nhận mã truy cập của trạm: [E_BAD_TOKEN]"),
        "{}",
        stdout(&o)
    );
    let mut list = global.to_vec();
    list.extend(["station", "list", "--json"]);
    let stations: Value = serde_json::from_str(&ok(&list)).unwrap();
    assert_eq!(stations[0]["name"], "xa-a");
    assert_eq!(
        (
            stations[0]["uploads"].as_u64(),
            stations[0]["revoked_at"].is_null()
        ),
        (Some(6), true)
    );
    assert_eq!(
        (
            stations[1]["uploads"].as_u64(),
            stations[1]["revoked_at"].is_string()
        ),
        (Some(8), true)
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), before);
    crate::pdfa::assert_archive_is_pdfa(srv.path());
}

#[test]
fn a_file_changed_on_the_station_is_not_sent() {
    let client = reqwest::blocking::Client::new();
    let srv = tempfile::tempdir().unwrap();
    let global = ["--data-dir", srv.path().to_str().unwrap()];
    let token = station_token(&global, "xa-a", UNIT_A);
    let server = Server::start(&global, &[], "http", &client);
    let st = Station::new(&server.base, &token);
    let inbox = tempfile::tempdir().unwrap();
    dossiers(inbox.path(), UNIT_A, 1..3, 150);
    ok(&st.args(&["batch", inbox.path().to_str().unwrap()]));
    let r = Records::open(&st.data().join("sohoa.db")).unwrap();
    let path = r.upload_record(2).unwrap().unwrap().document.archive_path;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(st.data().join(&path))
        .unwrap();
    f.write_all(b"% altered\n").unwrap();

    let o = run(&st.args(&["sync", "--wait", "0"]));
    assert_eq!(o.status.code(), Some(9));
    let out = stdout(&o);
    assert!(out.contains("đã gửi 1 tài liệu"), "{out}");
    assert!(out.contains("[E_LOCAL_CHANGED] Tệp lưu trữ"), "{out}");
    let s = st.status();
    assert_eq!(s["sync"]["refused"].as_array().unwrap().len(), 1, "{s}");
    let o = run(&st.args(&["status"]));
    assert!(
        stdout(&o).contains("Bị từ chối (1; sửa rồi chạy sohoa sync --retry-refused)"),
        "{}",
        stdout(&o)
    );
    let server_db = rusqlite::Connection::open(srv.path().join("sohoa.db")).unwrap();
    let n: i64 = server_db
        .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);

    // The file restored (the original bytes), the refused document goes.
    let bytes = std::fs::read(st.data().join(&path)).unwrap();
    std::fs::write(st.data().join(&path), &bytes[..bytes.len() - 10]).unwrap();
    let out = ok(&st.args(&["sync", "--retry-refused", "--wait", "0"]));
    assert!(out.contains("đã gửi 1 tài liệu"), "{out}");
    let n: i64 = server_db
        .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(crate::pdfa::assert_archive_is_pdfa(srv.path()), 2);
}
