//! `sohoa sign`, `sohoa sao-y` and `sohoa verify` on a copy of the good
//! run's archive, with the test PKI of `scripts/make_test_pki.py` (a PKCS#12
//! file as OpenSSL 3 writes it) and a SoftHSM2 token of
//! `scripts/make_test_token.sh`; checked by `sohoa verify`, `pdfsig`,
//! `qpdf --check`, `pdftotext -bbox` and the records.

use crate::harness::{command, copy_tree, good_run, output_within_child, sohoa, stderr, stdout};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const PASSWORD: &str = "mật-khẩu 2026";
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SPY: &str = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so";
const PIN: &str = "2468";

/// The test PKI, made once: `ca.pem`, `NAME.p12`, `NAME.pem`, `NAME.key.pem`
/// and `password.txt` holding the PKCS#12 password.
fn pki() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/make_test_pki.py"))
            .arg(dir.path())
            .arg(PASSWORD)
            .status()
            .expect("run scripts/make_test_pki.py (make test sets up .venv)");
        assert!(status.success(), "make_test_pki.py failed");
        std::fs::write(dir.path().join("password.txt"), format!("{PASSWORD}\n")).unwrap();
        dir
    })
    .path()
}

fn pki_file(name: &str) -> String {
    pki().join(name).to_str().unwrap().to_string()
}

/// A copy of the good run's data directory and a config trusting the test CA.
struct Desk {
    data: tempfile::TempDir,
    config: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let data = copy_tree(good_run().data.path());
        let config = data.path().join("sohoa.toml");
        std::fs::write(
            &config,
            format!("[sign]\ntrust_anchors = [{:?}]\n", pki_file("ca.pem")),
        )
        .unwrap();
        Desk { data, config }
    }

    fn dir(&self) -> &str {
        self.data.path().to_str().unwrap()
    }

    /// `sohoa --data-dir D --config C ARGS`.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = command();
        c.args(["--data-dir", self.dir(), "--config"])
            .arg(&self.config)
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec![
            "--data-dir",
            self.dir(),
            "--config",
            self.config.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        sohoa(&all)
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.path().join("sohoa.db")).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    fn current_documents(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM documents WHERE current = 1")
    }

    /// (document id, dossier code, unsigned path, signed path) of each officer signature.
    fn signed(&self) -> Vec<(i64, String, PathBuf, PathBuf)> {
        let db = self.db();
        let mut st = db
            .prepare(
                "SELECT d.id, s.code, d.archive_path, g.archive_path FROM signatures g
                   JOIN documents d ON d.id = g.document_id JOIN dossiers s ON s.id = d.dossier_id
                  WHERE g.role = 'officer' AND g.state = 'signed' ORDER BY d.id",
            )
            .unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    self.data.path().join(r.get::<_, String>(2)?),
                    self.data.path().join(r.get::<_, String>(3)?),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    }
}

fn run_tool(tool: &str, args: &[&str]) -> String {
    let o = Command::new(tool).args(args).output().unwrap();
    assert!(o.status.success(), "{tool} {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The first word of page 1 whose text is `word`: xMin, yMin, and the page width.
fn word_box(pdf: &Path, word: &str) -> (f64, f64, f64) {
    let p = pdf.to_str().unwrap();
    let html = run_tool("pdftotext", &["-f", "1", "-l", "1", "-bbox", p, "-"]);
    let attr = |line: &str, name: &str| -> f64 {
        let at = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[at..].split('"').next().unwrap().parse().unwrap()
    };
    let width = html
        .lines()
        .find(|l| l.contains("<page "))
        .map(|l| attr(l, "width"))
        .unwrap();
    let line = html
        .lines()
        .find(|l| l.contains("<word ") && l.contains(&format!(">{word}</word>")))
        .unwrap_or_else(|| panic!("no word {word} on page 1 of {p}:\n{html}"));
    (attr(line, "xMin"), attr(line, "yMin"), width)
}

#[test]
fn a_key_file_signs_every_document_once_and_the_copies_verify() {
    let desk = Desk::new();
    let total = desk.current_documents();
    assert!(total >= 5, "the good run has documents to sign");
    let p12 = pki_file("officer.p12");
    let password = pki_file("password.txt");
    let key = [
        "--pkcs12",
        p12.as_str(),
        "--password-file",
        password.as_str(),
    ];
    let sign_all = |extra: &[&str], key_file: &str| {
        let mut args = vec!["sign", "--all", "--pkcs12", key_file, "--password-file"];
        args.push(&password);
        args.extend_from_slice(extra);
        desk.run(&args)
    };

    // Keys that cannot sign: nothing is signed, exit 11, said in Vietnamese.
    for (stem, said) in [
        ("expired.p12", "đã hết hạn ngày"),
        ("future.p12", "chỉ có hiệu lực từ"),
        ("no-signing.p12", "không dùng để ký số"),
    ] {
        let o = sign_all(&[], &pki_file(stem));
        assert_eq!(o.status.code(), Some(11), "{stem}: {}", stderr(&o));
        assert!(stderr(&o).contains(said), "{stem}: {}", stderr(&o));
    }
    let wrong = desk.data.path().join("wrong.txt");
    std::fs::write(&wrong, "mat-khau-sai").unwrap();
    let o = desk.run(&[
        "sign",
        "--all",
        "--pkcs12",
        &p12,
        "--password-file",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(11));
    assert!(
        stderr(&o).contains("Sai mật khẩu của tệp khóa"),
        "{}",
        stderr(&o)
    );
    // No password and no terminal to ask at: what to give instead.
    let o = desk.run(&["sign", "--all", "--pkcs12", &p12]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--password-file") && stderr(&o).contains("SOHOA_SIGN_PASSWORD"),
        "{}",
        stderr(&o)
    );
    let o = desk.run(&["sign", "--all"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Chưa chỉ ra khóa ký"), "{}", stderr(&o));
    let o = desk.run(&["--ui-language", "en", "sign", "--all", "--pkcs12", &p12]);
    assert!(
        stderr(&o).contains("the password is needed"),
        "{}",
        stderr(&o)
    );
    let o = desk.run(&[
        "sign",
        "--dossier",
        "000.00.18.H44-991231-9999",
        "--pkcs12",
        &p12,
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert_eq!(desk.count("SELECT COUNT(*) FROM signatures"), 0);

    // A SAO Y copy needs the officer's signature first.
    let first_id = desk.count("SELECT MIN(id) FROM documents WHERE current = 1");
    let o = desk.run(&[
        "sao-y",
        &first_id.to_string(),
        "--agency",
        "UBND xã Cao Quảng",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("chưa có chữ ký số của người sao"),
        "{}",
        stderr(&o)
    );

    // One dossier, then all: the name and position come from the certificate.
    let code = "000.00.18.H44-230402-0001";
    // Named twice: signed once.
    let mut args = vec!["sign", "--dossier", code, "--dossier", code];
    args.extend_from_slice(&key);
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let in_dossier = desk.signed().len();
    assert!(in_dossier >= 2, "{}", stdout(&o));
    assert!(desk.signed().iter().all(|(_, c, _, _)| c == code));
    let o = sign_all(&["--json"], &p12);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        summary["signed"].as_array().unwrap().len() as i64,
        total - in_dossier as i64,
        "{summary}"
    );
    assert_eq!(summary["signer"]["name"], "Nguyễn Thị Hồng Nhung");
    assert!(summary["signed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["trusted"] == true));
    // One line per document for the logs of a night run.
    assert_eq!(
        stderr(&o).matches("sohoa: đã ký ").count() as i64,
        total - in_dossier as i64,
        "{}",
        stderr(&o)
    );

    let signed = desk.signed();
    assert_eq!(signed.len() as i64, total);
    let stray: Vec<PathBuf> = crate::pdfa::archive_pdfs(desk.data.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-2.pdf"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    for (_, _, unsigned, copy) in &signed {
        let before = std::fs::read(unsigned).unwrap();
        let after = std::fs::read(copy).unwrap();
        assert!(
            after.starts_with(&before),
            "{} is a prefix",
            unsigned.display()
        );
        assert!(copy.to_str().unwrap().ends_with(".ky.pdf"));
        crate::pdfa::assert_pdfa(copy);
    }
    let (_, _, unsigned, copy) = &signed[0];
    let c = copy.to_str().unwrap();
    run_tool("qpdf", &["--check", c]);
    let pdfsig = Command::new("pdfsig").arg(c).output().unwrap();
    assert!(
        stdout(&pdfsig).contains("Signature is Valid"),
        "{}",
        stdout(&pdfsig)
    );
    // The text layer reads as before, and the block is at the top left.
    let text = run_tool("pdftotext", &[unsigned.to_str().unwrap(), "-"]);
    let signed_text = run_tool("pdftotext", &[c, "-"]);
    // Every word the OCR wrote is still there (the block's words come on top).
    let mut words: std::collections::HashMap<&str, i64> = Default::default();
    for w in signed_text.split_whitespace() {
        *words.entry(w).or_default() += 1;
    }
    for w in text.split_whitespace() {
        let n = words.entry(w).or_default();
        *n -= 1;
        assert!(*n >= 0, "the word {w:?} of the text layer is gone");
    }
    for line in [
        "Người sao: Nguyễn Thị Hồng Nhung",
        "Chức vụ: Công chức Văn phòng - Thống kê",
        "Bản sao điện tử từ bản giấy",
    ] {
        assert!(signed_text.contains(line), "{line}:\n{signed_text}");
    }
    let (x, y, width) = word_box(copy, "sao:");
    assert!(x < width / 4.0 && y < 60.0, "top left: {x} {y} of {width}");

    // sohoa verify: valid with the CA trusted; a changed byte is found.
    let o = desk.run(&["verify", c]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("hợp lệ (1 chữ ký)"), "{}", stdout(&o));
    let mut bytes = std::fs::read(copy).unwrap();
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0x20;
    let tampered = desk.data.path().join("sua.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let o = desk.run(&["verify", tampered.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(10), "{}", stdout(&o));
    assert!(stdout(&o).contains("KHÔNG HỢP LỆ"), "{}", stdout(&o));

    // A second run has nothing to sign and needs no key.
    let o = desk.run(&["sign", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Không có tài liệu nào cần ký số"),
        "{}",
        stdout(&o)
    );
    let o = desk.run(&["sign", "--all", "--json"]);
    let nothing: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(nothing["signed"], serde_json::json!([]));
    assert_eq!(desk.count("SELECT COUNT(*) FROM signatures"), total);

    // The record: dossier show names the signer and the check.
    let o = desk.run(&["dossier", "show", code]);
    let shown = stdout(&o);
    assert!(
        shown.contains("Chữ ký số người sao: Nguyễn Thị Hồng Nhung")
            && shown.contains("kiểm tra: hợp lệ"),
        "{shown}"
    );
    assert!(!shown.contains("chưa ký số"), "{shown}");

    // The agency's SAO Y copy over the officer's, at the top right.
    let (id, code, _, officer_copy) = &signed[0];
    let id_text = id.to_string();
    let agency_p12 = pki_file("agency.p12");
    let args = [
        "sao-y",
        id_text.as_str(),
        "--agency",
        "UBND xã Cao Quảng",
        "--pkcs12",
        agency_p12.as_str(),
        "--password-file",
        password.as_str(),
    ];
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Đã tạo bản SAO Y"), "{}", stdout(&o));
    let sao_y: PathBuf = desk.data.path().join(
        desk.db()
            .query_row(
                "SELECT archive_path FROM signatures WHERE role = 'sao_y'",
                [],
                |r| r.get::<_, String>(0),
            )
            .unwrap(),
    );
    assert!(sao_y.to_str().unwrap().ends_with(".sao-y.pdf"));
    assert!(std::fs::read(&sao_y)
        .unwrap()
        .starts_with(&std::fs::read(officer_copy).unwrap()));
    crate::pdfa::assert_pdfa(&sao_y);
    let o = desk.run(&["verify", sao_y.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("hợp lệ (2 chữ ký)"), "{}", stdout(&o));
    let (x, y, width) = word_box(&sao_y, "SAO");
    assert!(x > width / 2.0 && y < 60.0, "top right: {x} {y} of {width}");
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("đã có bản SAO Y"), "{}", stdout(&o));
    let o = desk.run(&["dossier", "show", code, "--json"]);
    let view: Value = serde_json::from_slice(&o.stdout).unwrap();
    let doc = view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == *id)
        .unwrap();
    let roles: Vec<&str> = doc["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["officer", "sao_y"]);
    assert_eq!(doc["signatures"][1]["agency"], "UBND xã Cao Quảng");
    assert_eq!(doc["signatures"][1]["check_valid"], true);
}

/// A SoftHSM2 store in its own folder, with one token `label` holding the
/// officer's key; `SOFTHSM2_CONF` of the commands that use it.
fn make_token(dir: &Path, label: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_test_token.sh");
    let o = Command::new(script)
        .arg(dir)
        .arg(pki())
        .args([label, PIN, "officer"])
        .output()
        .unwrap();
    assert!(o.status.success(), "make_test_token.sh: {}", stderr(&o));
}

#[test]
fn a_token_signs_a_wrong_pin_is_tried_once_and_a_pulled_token_leaves_the_rest_for_later() {
    let desk = Desk::new();
    let total = desk.current_documents();
    let tokens = tempfile::tempdir().unwrap();
    let label = "Token Nhung";
    make_token(tokens.path(), label);
    let conf = tokens.path().join("softhsm2.conf");
    let pin_file = tokens.path().join("pin.txt");
    let spy_log = tokens.path().join("spy.log");

    // A wrong PIN: one C_Login (through OpenSC's pkcs11-spy), exit 11, nothing signed.
    std::fs::write(&pin_file, "1357\n").unwrap();
    let mut c = desk.command(&[
        "sign",
        "--all",
        "--pkcs11-module",
        SPY,
        "--token-label",
        label,
        "--pin-file",
        pin_file.to_str().unwrap(),
    ]);
    c.env("SOFTHSM2_CONF", &conf)
        .env("PKCS11SPY", MODULE)
        .env("PKCS11SPY_OUTPUT", &spy_log);
    let o = crate::harness::output_within(&mut c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(11), "{}", stderr(&o));
    assert!(stderr(&o).contains("Sai mã PIN"), "{}", stderr(&o));
    let log = std::fs::read_to_string(&spy_log).unwrap();
    let logins = log
        .lines()
        .filter(|l| {
            l.split_once(": ")
                .is_some_and(|(_, f)| f.trim() == "C_Login")
        })
        .count();
    assert_eq!(logins, 1, "one C_Login:\n{log}");
    assert_eq!(desk.count("SELECT COUNT(*) FROM signatures"), 0);

    // An unknown token label lists the tokens plugged in.
    let mut c = desk.command(&[
        "sign",
        "--all",
        "--pkcs11-module",
        MODULE,
        "--token-label",
        "khác",
    ]);
    c.env("SOFTHSM2_CONF", &conf).env("SOHOA_SIGN_PIN", PIN);
    let o = crate::harness::output_within(&mut c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(11), "{}", stderr(&o));
    assert!(stderr(&o).contains("Token Nhung"), "{}", stderr(&o));

    // The right PIN; the token is pulled out after the first document.
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let args = [
        "sign",
        "--all",
        "--position",
        "Công chức Văn phòng - Thống kê",
        "--pkcs11-module",
        MODULE,
        "--token-label",
        label,
        "--pin-file",
        pin_file.to_str().unwrap(),
    ];
    let mut c = desk.command(&args);
    c.env("SOFTHSM2_CONF", &conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let pid = child.id() as i32;
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    // Held while the token goes, so that the race is not the test's.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    assert!(first.starts_with("sohoa: đã ký "), "{first}");
    let o = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", label])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let o = output_within_child(child, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(4), "{first}{rest}");
    let signed = desk.signed().len() as i64;
    assert!(signed >= 1 && signed < total, "{signed} of {total} signed");
    assert!(rest.contains("đã bị rút ra hoặc không trả lời"), "{rest}");
    let out = stdout(&o);
    assert!(
        out.contains(&format!("Còn {} tài liệu chưa ký", total - signed)),
        "{out}"
    );
    assert_eq!(
        desk.count(
            "SELECT COUNT(*) FROM signatures WHERE state = 'unsigned' AND note LIKE '%rút ra%'"
        ),
        total - signed
    );
    let code: String = desk
        .db()
        .query_row(
            "SELECT s.code FROM signatures g JOIN documents d ON d.id = g.document_id
               JOIN dossiers s ON s.id = d.dossier_id WHERE g.state = 'unsigned' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let shown = stdout(&desk.run(&["dossier", "show", &code]));
    assert!(
        shown.contains("Chữ ký số: chưa ký số (Thiết bị ký"),
        "{shown}"
    );

    // Plugged in again (the same key on a token of the same label): the rest is signed.
    make_token(tokens.path(), label);
    let mut c = desk.command(&args);
    c.env("SOFTHSM2_CONF", &conf);
    let o = crate::harness::output_within(&mut c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("Đã ký số {}/{}", total - signed, total - signed)),
        "{}",
        stdout(&o)
    );
    assert_eq!(desk.signed().len() as i64, total);
    assert_eq!(
        desk.count("SELECT COUNT(*) FROM signatures WHERE state = 'unsigned'"),
        0
    );
    let (_, _, _, copy) = &desk.signed()[0];
    let o = desk.run(&["verify", copy.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn auto_mode_signs_what_batch_and_watch_archive_and_a_wrong_password_stops_before_any_ocr() {
    use crate::harness::{fixtures, import_units, inbox_with};
    let data = tempfile::tempdir().unwrap();
    import_units(data.path());
    let dir = data.path().to_str().unwrap();
    let config = |name: &str, password: &str| {
        let path = data.path().join(name);
        std::fs::write(
            &path,
            format!(
                "[sign]\nmode = \"auto\"\npkcs12 = {:?}\npassword_file = {:?}\ntrust_anchors = [{:?}]\nposition = \"Công chức Văn phòng - Thống kê\"\n",
                pki_file("officer.p12"),
                password,
                pki_file("ca.pem"),
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let good = config("dung.toml", &pki_file("password.txt"));
    let wrong_file = data.path().join("sai.txt");
    std::fs::write(&wrong_file, "sai\n").unwrap();
    let wrong = config("sai.toml", wrong_file.to_str().unwrap());
    let scan = fixtures()
        .root
        .join("good/000.20.18.H44-230405-0013/01-photocopy.jpg");
    let inbox = inbox_with("000.20.18.H44-230405-0013", &[(&scan, "01-don.jpg")]);
    let inbox_path = inbox.path().to_str().unwrap();
    let documents = || {
        rusqlite::Connection::open(data.path().join("sohoa.db"))
            .unwrap()
            .query_row(
                "SELECT COUNT(*), (SELECT COUNT(*) FROM signatures WHERE state = 'signed') FROM documents",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .unwrap()
    };

    // The key is opened before the scans are read: a wrong password costs no OCR.
    let o = sohoa(&["--config", &wrong, "batch", inbox_path, "--data-dir", dir]);
    assert_eq!(o.status.code(), Some(11), "{}", stderr(&o));
    assert!(stderr(&o).contains("Sai mật khẩu"), "{}", stderr(&o));
    assert_eq!(documents(), (0, 0));

    let o = sohoa(&[
        "--config",
        &good,
        "batch",
        inbox_path,
        "--data-dir",
        dir,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["documents"], 1, "{summary}");
    assert_eq!(
        summary["signing"]["signed"].as_array().unwrap().len(),
        1,
        "{summary}"
    );
    assert_eq!(documents(), (1, 1));

    // The watcher signs each dossier it archives, and says so.
    let watched = tempfile::tempdir().unwrap();
    let log = data.path().join("watch.log");
    let child = command()
        .args(["--config", &good, "watch", watched.path().to_str().unwrap()])
        .args(["--settle", "0.5", "--data-dir", dir])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let child = crate::harness::Killed::new(child);
    let folder = watched.path().join("000.00.18.H44-230402-0001");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(&scan, folder.join("01-to-khai.jpg")).unwrap();
    let start = std::time::Instant::now();
    let said = "Đã ký số 1 tài liệu mới (người ký: Nguyễn Thị Hồng Nhung).";
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(said)
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(documents(), (2, 2));
    let child = child.into_child();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = output_within_child(child, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0));
    let signed: String = rusqlite::Connection::open(data.path().join("sohoa.db"))
        .unwrap()
        .query_row(
            "SELECT g.archive_path FROM signatures g JOIN documents d ON d.id = g.document_id
               JOIN dossiers s ON s.id = d.dossier_id WHERE s.code = '000.00.18.H44-230402-0001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let o = sohoa(&[
        "--config",
        &good,
        "verify",
        data.path().join(signed).to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn the_server_takes_a_signed_copy_and_refuses_one_whose_signature_is_broken() {
    use crate::harness::{post_document, upload_record, Server};
    let desk = Desk::new();
    let code = "000.00.18.H44-230402-0001";
    let (p12, password) = (pki_file("officer.p12"), pki_file("password.txt"));
    let o = desk.run(&[
        "sign",
        "--dossier",
        code,
        "--pkcs12",
        &p12,
        "--password-file",
        &password,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let signed = desk.signed();
    let one_page = signed
        .iter()
        .map(|(_, _, _, copy)| copy)
        .find(|c| c.to_string_lossy().ends_with("/01-thang.ky.pdf"))
        .unwrap();
    let good = std::fs::read(one_page).unwrap();
    // A changed digit of the signature value (the end of the CMS, before the
    // zeros that pad /Contents): the signature no longer verifies.
    let mut broken = good.clone();
    let start = good.windows(10).rposition(|w| w == b"/Contents<").unwrap() + 10;
    let end = start + good[start..].iter().position(|&b| b == b'>').unwrap();
    let last = start + good[start..end].iter().rposition(|&b| b != b'0').unwrap();
    let at = last - 20;
    broken[at] = if broken[at] == b'0' { b'1' } else { b'0' };

    let server_data = tempfile::tempdir().unwrap();
    let config = server_data.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!("[sign]\ntrust_anchors = [{:?}]\n", pki_file("ca.pem")),
    )
    .unwrap();
    let global = [
        "--data-dir",
        server_data.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let mut args = global.to_vec();
    args.extend(["station", "add", "huyen", "--unit", "000.00.18.H44"]);
    let o = sohoa(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().to_string();
    let client = reqwest::blocking::Client::new();
    let server = Server::start(&global, &[], "http", &client);

    let unit = "000.00.18.H44";
    let (status, body) = post_document(
        &client,
        &server.base,
        &token,
        &upload_record(code, unit, "01-thang", 1, &good),
        &good,
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = post_document(
        &client,
        &server.base,
        &token,
        &upload_record(code, unit, "02-sua", 1, &broken),
        &broken,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("E_BAD_SIGNATURE")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Chữ ký số trên tệp gửi lên không hợp lệ"),
        "{body}"
    );
    // Nothing of it was kept.
    let names: Vec<String> = crate::pdfa::archive_pdfs(server_data.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["01-thang.pdf"], "{names:?}");
}

#[test]
fn sync_sends_signed_forms_and_the_server_keeps_them_with_the_documents_it_holds() {
    use crate::harness::{post_document, upload_record, Server};
    let desk = Desk::new();
    let codes: Vec<String> = {
        let db = desk.db();
        let mut st = db
            .prepare("SELECT code FROM dossiers WHERE unit_code = '000.00.18.H44' ORDER BY code")
            .unwrap();
        let codes = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        codes
    };
    assert!(codes.len() >= 2, "{codes:?}");
    let (p12, password) = (pki_file("officer.p12"), pki_file("password.txt"));
    let sign = |code: &str| {
        let o = desk.run(&[
            "sign",
            "--dossier",
            code,
            "--pkcs12",
            &p12,
            "--password-file",
            &password,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };

    let server_data = tempfile::tempdir().unwrap();
    let server_config = server_data.path().join("sohoa.toml");
    std::fs::write(
        &server_config,
        format!("[sign]\ntrust_anchors = [{:?}]\n", pki_file("ca.pem")),
    )
    .unwrap();
    let global = [
        "--data-dir",
        server_data.path().to_str().unwrap(),
        "--config",
        server_config.to_str().unwrap(),
    ];
    let mut args = global.to_vec();
    args.extend(["station", "add", "xa", "--unit", "000.00.18.H44"]);
    let o = sohoa(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().to_string();
    let client = reqwest::blocking::Client::new();
    let server = Server::start(&global, &[], "http", &client);
    std::fs::write(
        &desk.config,
        format!(
            "[sign]\ntrust_anchors = [{:?}]\n[sync]\nserver = \"{}\"\ntoken = \"{token}\"\n",
            pki_file("ca.pem"),
            server.base
        ),
    )
    .unwrap();
    let server_db = || rusqlite::Connection::open(server_data.path().join("sohoa.db")).unwrap();
    // (code, document name, unsigned SHA-256, signed SHA-256, signer) of the server's documents.
    type Held = (String, String, String, Option<String>, Option<String>);
    let held = || -> Vec<Held> {
        let db = server_db();
        let mut st = db
            .prepare(
                "SELECT s.code, d.name, d.sha256, g.sha256, g.signer_name FROM documents d
                   JOIN dossiers s ON s.id = d.dossier_id
                   LEFT JOIN signatures g ON g.document_id = d.id AND g.role = 'officer'
                  ORDER BY s.code, d.name",
            )
            .unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    };
    // The station's unit is 000.00.18.H44: the good run's dossier of
    // 000.20.18.H44 is refused as another unit's, and nothing else.
    let sync = || {
        let o = desk.run(&["sync", "--json"]);
        let out: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(out["waiting"], 0, "{out}");
        for r in out["refused"].as_array().unwrap() {
            assert!(
                r["dossier_code"]
                    .as_str()
                    .unwrap()
                    .starts_with("000.20.18.H44")
                    && r["error"].as_str().unwrap().starts_with("[E_OTHER_UNIT]"),
                "{out}"
            );
        }
    };

    // The first dossier signed before the station's first sync: the server
    // gets each document once, keeps the unsigned bytes and the signed form.
    sign(&codes[0]);
    sync();
    let total = desk.count(
        "SELECT COUNT(*) FROM documents d JOIN dossiers s ON s.id = d.dossier_id
          WHERE d.current = 1 AND s.unit_code = '000.00.18.H44'",
    ) as usize;
    let on_server = held();
    assert_eq!(on_server.len(), total, "{on_server:?}");
    let station_signed = desk.signed();
    let sha = |p: &Path| sohoa::store::sha256_hex(&std::fs::read(p).unwrap());
    for (_, code, unsigned, signed) in &station_signed {
        let row = on_server
            .iter()
            .find(|r| &r.0 == code && unsigned.to_string_lossy().contains(&format!("/{}.", r.1)))
            .unwrap_or_else(|| panic!("{code} {unsigned:?} not on the server: {on_server:?}"));
        assert_eq!(row.2, sha(unsigned), "the unsigned bytes");
        assert_eq!(
            row.3.as_deref(),
            Some(sha(signed).as_str()),
            "the signed form"
        );
        assert_eq!(
            row.4.as_deref(),
            Some("Nguyễn Thị Hồng Nhung"),
            "the signer, from the certificate"
        );
    }
    assert!(on_server
        .iter()
        .filter(|r| r.0 != codes[0])
        .all(|r| r.3.is_none()));
    // Both files are on the server's disk, and its signed one verifies there.
    let server_pdfs = crate::pdfa::archive_pdfs(server_data.path());
    let server_signed: Vec<&PathBuf> = server_pdfs
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".ky.pdf"))
        .collect();
    assert_eq!(server_signed.len(), station_signed.len(), "{server_pdfs:?}");
    let mut args = vec!["verify"];
    args.extend(server_signed.iter().map(|p| p.to_str().unwrap()));
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    // The second dossier signed after it was sent: its signed forms follow,
    // each taken as the signed form of the document the server holds.
    sign(&codes[1]);
    sync();
    let after = held();
    assert_eq!(
        after.len(),
        total,
        "no new document, no conflict: {after:?}"
    );
    let signed_now = desk.signed();
    assert!(signed_now.len() > station_signed.len());
    for (_, code, unsigned, signed) in &signed_now {
        assert!(
            after.iter().any(|r| &r.0 == code
                && r.2 == sha(unsigned)
                && r.3.as_deref() == Some(sha(signed).as_str())),
            "{code} {signed:?}: {after:?}"
        );
    }
    // Nothing more to send.
    sync();
    assert_eq!(held(), after);

    // A hostile station: a "signed form" whose unsigned part is another
    // file, and an unsigned file sent as a signed form, are refused.
    let (_, code, unsigned, signed) = &signed_now[0];
    let signed_bytes = std::fs::read(signed).unwrap();
    let unsigned_bytes = std::fs::read(unsigned).unwrap();
    let unit = "000.00.18.H44";
    let mut wrong_prefix = upload_record(code, unit, "99-khac", 1, &unsigned_bytes);
    wrong_prefix["sha256"] = sohoa::store::sha256_hex(b"another file").into();
    wrong_prefix["signed"] = serde_json::json!({
        "bytes": signed_bytes.len(), "sha256": sohoa::store::sha256_hex(&signed_bytes)
    });
    let mut not_signed = upload_record(code, unit, "98-khac", 1, &unsigned_bytes);
    not_signed["bytes"] = 1000.into();
    not_signed["signed"] = serde_json::json!({
        "bytes": unsigned_bytes.len(), "sha256": sohoa::store::sha256_hex(&unsigned_bytes)
    });
    for (record, pdf, said) in [
        (
            &wrong_prefix,
            &signed_bytes,
            "Phần chưa ký của tệp đã ký số không phải",
        ),
        (&not_signed, &unsigned_bytes, "không có chữ ký số nào"),
    ] {
        let (status, body) = post_document(&client, &server.base, &token, record, pdf);
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("E_BAD_SIGNATURE")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains(said), "{body}");
    }
    assert_eq!(held(), after, "nothing of them was kept");
}

/// The test time-stamping authority of `scripts/test_tsa.py` (answering with
/// `openssl ts -reply`, or `refuse`: HTTP 503), stopped when dropped.
struct TestTsa {
    child: std::process::Child,
    url: String,
}

impl TestTsa {
    fn start(refuse: bool) -> TestTsa {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Command::new(root.join(".venv/bin/python"));
        cmd.arg(root.join("scripts/test_tsa.py")).arg(pki());
        if refuse {
            cmd.arg("--refuse");
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        TestTsa {
            child,
            url: format!("http://127.0.0.1:{}/", port.trim()),
        }
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The total line's indicator `name` of a JSON report: (numerator, denominator).
fn indicator(report: &Value, name: &str) -> (i64, i64) {
    let r = report["total"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"));
    (
        r["numerator"].as_i64().unwrap(),
        r["denominator"].as_i64().unwrap(),
    )
}

#[test]
fn reports_count_signed_copies_and_signatures_carry_a_time_stamp() {
    let desk = Desk::new();
    let tsa = TestTsa::start(false);
    let config = |extra: &str| {
        std::fs::write(
            &desk.config,
            format!(
                "[sign]\ntrust_anchors = [{:?}]\ntsa_url = {:?}\n{extra}",
                pki_file("ca.pem"),
                tsa.url
            ),
        )
        .unwrap();
    };
    config("");
    let report = |extra: &[&str]| -> Value {
        let mut args = vec!["report", "--format", "json"];
        args.extend_from_slice(extra);
        let o = desk.run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };

    // Nothing signed: "đã ký số" is 0 of the dossiers with a digitized
    // component, and counting only signed copies nothing is digitized.
    let before = report(&[]);
    let (digitized, received) = indicator(&before, "so_hoa_ho_so");
    let (_, with_component) = indicator(&before, "ky_so");
    assert!(digitized >= 2 && with_component >= digitized, "{before}");
    assert_eq!(indicator(&before, "ky_so").0, 0);
    assert_eq!(before["signed_only"], false);
    let only = report(&["--signed-only"]);
    assert_eq!(indicator(&only, "so_hoa_ho_so"), (0, received), "{only}");
    assert_eq!(indicator(&only, "ky_so"), (0, with_component));
    assert!(
        only["title"]
            .as_str()
            .unwrap()
            .contains("(chỉ tính bản sao đã ký số)"),
        "{only}"
    );
    let o = desk.run(&["report", "missing", "--signed-only"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let code = "000.00.18.H44-230402-0001";
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains(code))
        .unwrap_or_else(|| panic!("{}", stdout(&o)))
        .to_string();
    assert!(
        line.contains("đã số hóa nhưng chưa ký số")
            && line.contains(&format!("sohoa sign --dossier {code}")),
        "{line}"
    );

    // One dossier signed, each signature time-stamped by the TSA.
    let p12 = pki_file("officer.p12");
    let password = pki_file("password.txt");
    let key = ["--pkcs12", &p12, "--password-file", &password];
    let mut args = vec!["sign", "--dossier", code];
    args.extend_from_slice(&key);
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let signed = desk.signed();
    assert!(signed.len() >= 2, "{}", stdout(&o));
    let file = signed[0].3.to_str().unwrap().to_string();
    let o = desk.run(&["verify", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("dấu thời gian: "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("do Dịch vụ cấp dấu thời gian thử nghiệm cấp"),
        "{}",
        stdout(&o)
    );
    let o = desk.run(&["verify", "--json", &file]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let stamp = &v[0]["signatures"][0]["time_stamp"];
    assert_eq!(v[0]["recorded"], true, "the check is stored: {v}");
    assert!(stamp["at"].as_str().is_some(), "{v}");
    let sig = run_tool("pdfsig", &[&file]);
    assert!(sig.contains("Signature is Valid."), "{sig}");

    // The reports follow: the dossier is signed, and counts when only
    // signed copies do; `[report] signed_only` is the same as the flag.
    let after = report(&[]);
    assert_eq!(indicator(&after, "ky_so"), (1, with_component), "{after}");
    assert_eq!(indicator(&after, "so_hoa_ho_so"), (digitized, received));
    let only = report(&["--signed-only"]);
    assert_eq!(indicator(&only, "so_hoa_ho_so"), (1, received), "{only}");
    config("[report]\nsigned_only = true\n");
    let configured = report(&[]);
    assert_eq!(configured["signed_only"], true);
    assert_eq!(indicator(&configured, "so_hoa_ho_so"), (1, received));
    let o = desk.run(&["report", "--format", "csv"]);
    let csv = stdout(&o);
    assert!(csv.contains("Đã ký số – tử số"), "{csv}");
    let o = desk.run(&["report"]);
    assert!(stdout(&o).contains("đã ký số 1/"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("chỉ tính bản số hóa mang chữ ký số hợp lệ"),
        "{}",
        stdout(&o)
    );
    let o = desk.run(&["dossier", "show", code]);
    assert!(
        stdout(&o).contains("đạt (đã số hóa theo QĐ 766/QĐ-TTg, bản sao đã ký số)"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("Dấu thời gian: ")
            && stdout(&o).contains("do Dịch vụ cấp dấu thời gian thử nghiệm cấp"),
        "{}",
        stdout(&o)
    );

    // A TSA that is down: nothing is signed, the documents are left for
    // the next run with the reason, and the operator is told what to check.
    let down = TestTsa::start(true);
    std::fs::write(
        &desk.config,
        format!(
            "[sign]\ntrust_anchors = [{:?}]\ntsa_url = {:?}\n",
            pki_file("ca.pem"),
            down.url
        ),
    )
    .unwrap();
    let before = desk.signed().len();
    let mut args = vec!["sign", "--all"];
    args.extend_from_slice(&key);
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Không lấy được dấu thời gian") && stderr(&o).contains("tsa_url"),
        "{}",
        stderr(&o)
    );
    assert_eq!(desk.signed().len(), before);
    assert!(desk.count("SELECT COUNT(*) FROM signatures WHERE state = 'unsigned'") > 0);
    // The cause is said once, not once per document left.
    let cause = "Không lấy được dấu thời gian";
    assert_eq!(stdout(&o).matches(cause).count(), 1, "{}", stdout(&o));

    // Not an address: a usage error before anything is tried.
    std::fs::write(&desk.config, "[sign]\ntsa_url = \"tsa.example.vn\"\n").unwrap();
    let o = desk.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("không hợp lệ: cần dạng http://"),
        "{}",
        stderr(&o)
    );
}
