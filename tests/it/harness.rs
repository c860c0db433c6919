//! A tiny harness: fixtures made once per test run by the repo's script, the
//! binary run in temp dirs, and helpers for the tools the checks use.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Fixtures {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub manifest: Value,
}

/// The fixture tree (`good/`, `bad/`, `_truth/`), generated once.
pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("fx");
        let status = Command::new("/usr/bin/python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_samples.py"))
            .arg("fixtures")
            .arg(&root)
            .status()
            .expect("run scripts/make_samples.py (make test installs python3-pil)");
        assert!(status.success(), "fixture generation failed");
        let manifest = serde_json::from_slice(
            &std::fs::read(root.join("_truth/manifest.json")).expect("manifest"),
        )
        .expect("manifest json");
        Fixtures {
            _dir: dir,
            root,
            manifest,
        }
    })
}

impl Fixtures {
    /// Manifest components of one inbox.
    pub fn components(&self, inbox: &str) -> Vec<&Value> {
        self.manifest["components"]
            .as_array()
            .expect("components")
            .iter()
            .filter(|c| c["inbox"] == inbox)
            .collect()
    }

    pub fn truth(&self, component: &Value) -> String {
        std::fs::read_to_string(
            self.root
                .join(component["truth"].as_str().expect("truth path")),
        )
        .expect("truth file")
    }
}

/// A fresh inbox with one dossier folder holding copies of `files` (source, name).
pub fn inbox_with(dossier: &str, files: &[(&Path, &str)]) -> tempfile::TempDir {
    let inbox = tempfile::tempdir().expect("inbox");
    let folder = inbox.path().join(dossier);
    std::fs::create_dir_all(&folder).expect("dossier folder");
    for (src, name) in files {
        std::fs::copy(src, folder.join(name)).expect("copy fixture");
    }
    inbox
}

/// The binary as every test runs it: without any `SOHOA_*` variable of the
/// environment the suite runs in, from an empty working directory (so a
/// stray `./sohoa.toml` or `./var` cannot leak in); a test sets what it needs.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sohoa"));
    isolate(&mut c);
    c
}

/// What [`command`] does to the binary's command, for a command that runs it
/// through another program (`setpriv`).
pub fn isolate(c: &mut Command) {
    static EMPTY: OnceLock<tempfile::TempDir> = OnceLock::new();
    let cwd = EMPTY.get_or_init(|| tempfile::tempdir().expect("empty working directory"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SOHOA_") {
            c.env_remove(name);
        }
    }
    c.current_dir(cwd.path());
}

/// A child process killed when dropped: a test that fails half-way never
/// leaves a watcher or a worker running behind it.
pub struct Killed(Option<Child>);

impl Killed {
    pub fn new(child: Child) -> Killed {
        Killed(Some(child))
    }

    /// The child, no longer killed on drop (to wait for its output).
    pub fn into_child(mut self) -> Child {
        self.0.take().expect("a child")
    }
}

impl std::ops::Deref for Killed {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("a child")
    }
}

impl std::ops::DerefMut for Killed {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a child")
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How long any one command a test waits for may take before the test fails
/// (a hung child must fail its test, never hang the suite).
pub const CHILD_LIMIT: Duration = Duration::from_secs(300);

/// Runs `cmd` to its end, its output collected; kills it and panics after `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    output_within_child(child, limit)
}

/// The output of a child started with piped stdout/stderr; kills it and
/// panics after `limit`.
pub fn output_within_child(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.expect("wait for the command"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("process {pid} did not end within {limit:?}: killed");
        }
    }
}

/// Waits for `child` to end; kills it and panics (with `what`) after `limit`.
pub fn wait_within(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not end within {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `sohoa ARGS` and returns its output.
pub fn sohoa(args: &[&str]) -> Output {
    output_within(command().args(args), CHILD_LIMIT)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A batch run over an inbox into its own data dir, shared by the tests that only read it.
pub struct Run {
    pub data: tempfile::TempDir,
    pub output: Output,
}

/// `sohoa units import config/units.toml` into the data directory `data`
/// (the shipped sample tree; reports use only the imported one).
pub fn import_units(data: &Path) {
    import_units_with(&["--data-dir", data.to_str().expect("utf-8 path")]);
}

/// `sohoa GLOBAL… units import config/units.toml`, e.g. with `--config F`
/// or `--database-url U`.
pub fn import_units_with(global: &[&str]) {
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/units.toml");
    let mut args = global.to_vec();
    args.extend(["units", "import", units.to_str().expect("utf-8 path")]);
    let o = sohoa(&args);
    assert_eq!(o.status.code(), Some(0), "units import: {}", stderr(&o));
}

impl Run {
    /// A batch over `inbox` into a fresh data directory with the sample unit tree.
    pub fn new(inbox: &Path, extra: &[&str]) -> Run {
        let data = tempfile::tempdir().expect("data dir");
        import_units(data.path());
        let mut args = vec![
            "batch",
            inbox.to_str().expect("utf-8 path"),
            "--data-dir",
            data.path().to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        args.push("--json");
        let output = sohoa(&args);
        Run { data, output }
    }

    pub fn summary(&self) -> Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("json summary: {e}\n{}", stderr(&self.output)))
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.path().join("sohoa.db")).expect("open db")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    /// Archive path of a manifest component (current version 1).
    pub fn archived(&self, component: &Value) -> PathBuf {
        let dossier = component["dossier"].as_str().expect("dossier");
        let path = component["path"].as_str().expect("path");
        let unit = &dossier[..13];
        let year = format!("20{}", &dossier[14..16]);
        let (kind_dir, file) = match path.strip_prefix("ket-qua/") {
            Some(rest) => (Some("ket-qua"), rest),
            None => (None, path),
        };
        let name = match file.rfind('.') {
            Some(i) if !file.ends_with('/') && !file[i..].contains('/') => &file[..i],
            _ => file,
        };
        let mut p = self
            .data
            .path()
            .join("archive")
            .join(unit)
            .join(year)
            .join(dossier);
        if let Some(k) = kind_dir {
            p.push(k);
        }
        p.join(format!("{name}.pdf"))
    }
}

/// The good inbox, processed once for all the tests that inspect it.
pub fn good_run() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| Run::new(&fixtures().root.join("good"), &["--jobs", "2"]))
}

pub fn pdf_pages(pdf: &Path) -> u32 {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("Pages:")
                .map(|v| v.trim().parse().expect("page count"))
        })
        .unwrap_or_else(|| {
            panic!(
                "pdfinfo failed on {}: {}",
                pdf.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

pub fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).expect("utf-8 text")
}

/// Whitespace runs collapsed to one space, trimmed (as the peer baseline measures).
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Character error rate: Levenshtein distance / reference length.
pub fn cer(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r: Vec<char> = squash(reference).chars().collect();
    let h: Vec<char> = squash(hypothesis).chars().collect();
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut cur = vec![0; h.len() + 1];
    for i in 1..=r.len() {
        cur[0] = i;
        for j in 1..=h.len() {
            let sub = prev[j - 1] + usize::from(r[i - 1] != h[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[h.len()], r.len())
}

/// SHA-256 of every file under a folder, by relative path.
/// Every file under `root` (none if it does not exist).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

pub fn tree_hashes(root: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            (
                rel,
                hex::encode(Sha256::digest(std::fs::read(e.path()).expect("read"))),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn cer_counts_edits() {
    assert_eq!(cer("abc", "abc"), (0, 3));
    assert_eq!(cer("Hùng", "Hung"), (1, 4));
    assert_eq!(cer("a  b\nc", "a b c"), (0, 5));
}

/// A child that hangs fails its test within the limit, and is killed.
#[test]
fn a_hung_child_fails_its_test_and_is_killed() {
    for waited in ["output", "wait"] {
        let mut c = Command::new("sleep");
        c.arg("60");
        let start = Instant::now();
        let pid = std::sync::Mutex::new(None);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match waited {
            "output" => {
                let child = c
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                *pid.lock().unwrap() = Some(child.id());
                output_within_child(child, Duration::from_millis(300));
            }
            _ => {
                let mut child = c.spawn().unwrap();
                *pid.lock().unwrap() = Some(child.id());
                wait_within(&mut child, Duration::from_millis(300), "sleep");
            }
        }));
        let message = outcome.expect_err("a hung child must fail the test");
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("did not end within"),
            "{waited}: {message}"
        );
        assert!(start.elapsed() < Duration::from_secs(30), "{waited}");
        let pid = pid.lock().unwrap().expect("started");
        // Killed: gone, or a zombie the waiting thread is about to reap.
        let running = || {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            state
                .rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
        };
        let killed = Instant::now();
        while running() {
            assert!(
                killed.elapsed() < Duration::from_secs(10),
                "{waited}: sleep {pid} still runs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The binary runs without the suite's `SOHOA_*` variables, from an empty
/// working directory.
#[test]
fn the_binary_runs_without_the_suites_environment() {
    let c = command();
    let dir = c.get_current_dir().expect("a working directory");
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0, "{dir:?}");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SOHOA_") {
            assert!(
                c.get_envs().any(|(n, v)| n == name && v.is_none()),
                "{name:?} is passed on"
            );
        }
    }
}

pub use sohoa::records::testing::postgres_url;

/// 260 small receipt-slip scans, each different (`make_samples.py slips`), made once per run.
pub fn slips() -> &'static Vec<PathBuf> {
    static S: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    &S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("/usr/bin/python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_samples.py"))
            .args(["slips", dir.path().to_str().unwrap(), "--pages", "260"])
            .stdout(Stdio::null())
            .status()
            .expect("run make_samples.py slips");
        assert!(status.success());
        let files = (1..=260)
            .map(|i| dir.path().join(format!("{i:04}.jpg")))
            .collect();
        (dir, files)
    })
    .1
}

/// A `sohoa serve` process on a loopback port of its own choosing; killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    args: Vec<String>,
    /// Its stderr so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `sohoa GLOBAL… serve --listen 127.0.0.1:0 EXTRA…`: the server binds a
    /// port the system gives it and says which; once it answers `/health`.
    /// No other process can be on that port while it lives, so whatever
    /// answers there is this server.
    pub fn start(
        global: &[&str],
        extra: &[&str],
        scheme: &str,
        client: &reqwest::blocking::Client,
    ) -> Server {
        let mut args: Vec<String> = global.iter().map(|s| s.to_string()).collect();
        args.extend(["serve", "--listen", "127.0.0.1:0"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut server = Server {
            child: Server::spawn_child(&args),
            base: String::new(),
            args,
            log: Default::default(),
        };
        let addr = server.listening();
        server.base = format!("{scheme}://{addr}");
        // A restart binds the same address (the stations know it).
        let at = server
            .args
            .iter()
            .position(|a| a == "127.0.0.1:0")
            .expect("listen");
        server.args[at] = addr;
        server.wait_ready(client);
        server
    }

    fn spawn_child(args: &[String]) -> std::process::Child {
        command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sohoa serve")
    }

    /// Reads the child's stderr into `log` until the line saying where it
    /// listens; the address. Panics with the log if the child ends first.
    fn listening(&mut self) -> String {
        use std::io::BufRead;
        let err = self.child.stderr.take().expect("stderr");
        let log = std::sync::Arc::clone(&self.log);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                // "sohoa serve: đang phục vụ tại http://127.0.0.1:PORT" (or "listening on").
                let said = ["đang phục vụ tại ", "listening on "]
                    .iter()
                    .find_map(|p| line.split_once(p))
                    .and_then(|(_, url)| url.split_once("://"));
                if let Some((_, at)) = said {
                    let _ = tx.send(at.trim().to_string());
                }
                let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = self.child.kill();
                panic!("sohoa serve did not say where it listens:\n{}", self.log());
            }
        }
    }

    /// What the server wrote on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn wait_ready(&self, client: &reqwest::blocking::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match client.get(format!("{}/health", self.base)).send() {
                Ok(_) => return,
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "sohoa serve did not answer: {e:?}\n{}",
                    self.log()
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no drain, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts again on the same address, after `kill`; it must say it
    /// listens there again before it is asked anything.
    pub fn restart(&mut self, client: &reqwest::blocking::Client) {
        self.child = Server::spawn_child(&self.args);
        let addr = self.listening();
        assert!(
            self.base.ends_with(&addr),
            "restarted on {addr}, not {}",
            self.base
        );
        self.wait_ready(client);
    }
}

/// A one-page PDF whose page draws `content` (a stream with `filter`, if any)
/// and an image XObject `image` of `w`×`h` grey samples, with a correct xref.
pub fn pdf_with(content: &[u8], filter: &str, image: Option<(u32, u32, &[u8])>) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im 5 0 R >> >> >>",
    );
    let mut c = format!("<< /Length {}{filter} >>\nstream\n", content.len()).into_bytes();
    c.extend_from_slice(content);
    c.extend_from_slice(b"\nendstream");
    obj(&mut out, &c);
    let (w, h, samples) = image.unwrap_or((1, 1, &[0u8]));
    let mut i = format!(
        "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
        samples.len()
    )
    .into_bytes();
    i.extend_from_slice(samples);
    i.extend_from_slice(b"\nendstream");
    obj(&mut out, &i);
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A fresh copy of the tree under `src` (files and folders), in a new temp dir.
pub fn copy_tree(src: &Path) -> tempfile::TempDir {
    let dst = tempfile::tempdir().expect("temp dir");
    for e in walkdir::WalkDir::new(src).min_depth(1) {
        let e = e.expect("walk");
        let to = dst.path().join(e.path().strip_prefix(src).expect("prefix"));
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("copy folder");
        } else {
            std::fs::copy(e.path(), &to).expect("copy file");
        }
    }
    dst
}

/// Every file and folder under `root` by relative path, with its SHA-256 (files),
/// size, permissions and modification time: what "untouched" means for an inbox.
pub fn tree_state(root: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let hashes: std::collections::HashMap<String, String> = tree_hashes(root).into_iter().collect();
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.expect("walk");
            let rel = e
                .path()
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            let m = e.path().symlink_metadata().expect("metadata");
            let state = format!(
                "{} {} {:o} {:?}",
                hashes.get(&rel).map_or("-", String::as_str),
                m.len(),
                m.permissions().mode(),
                m.modified().expect("mtime")
            );
            (rel, state)
        })
        .collect();
    out.sort();
    out
}

/// Every archive PDF a [`Run`] made is checked against the PDF/A-2b rules
/// (`pdfa.rs`) when the run is dropped at the end of its test, unless the test
/// is already failing. (`good_run()` lives on: its tests check it explicitly.)
impl Drop for Run {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            for pdf in crate::pdfa::archive_pdfs(self.data.path()) {
                crate::pdfa::assert_pdfa(&pdf);
            }
        }
    }
}

/// `POST /api/v1/documents` of a record (JSON) and PDF bytes with `token`:
/// the status and the JSON answer.
pub fn post_document(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    record: &Value,
    pdf: &[u8],
) -> (u16, Value) {
    let form = reqwest::blocking::multipart::Form::new()
        .text("record", record.to_string())
        .part(
            "pdf",
            reqwest::blocking::multipart::Part::bytes(pdf.to_vec()).file_name("x.pdf"),
        );
    let r = client
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// An upload record (JSON) for `pdf`, one page, of a dossier of `unit`.
pub fn upload_record(
    code: &str,
    unit: &str,
    name: &str,
    version: u32,
    pdf: &[u8],
) -> serde_json::Value {
    serde_json::json!({
        "dossier": {"code": code, "unit": unit},
        "kind": "thanh_phan", "name": name, "version": version,
        "bytes": pdf.len(), "sha256": sohoa::store::sha256_hex(pdf),
        "input_sha256": "00", "inputs": [],
        "ocr_engine": "tesseract", "ocr_version": "5", "ocr_languages": "vie",
        "mean_confidence": null,
        "pages": [{"page_no": 1, "width_px": 100, "height_px": 100, "dpi": [300.0, 300.0],
                   "color": "rgb", "turn": 0, "deskew_deg": 0.0, "blank": false,
                   "mean_confidence": null, "words": 0}]
    })
}

/// CPU seconds the process `pid` has used (all its threads).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second).
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}
