//! README claims that no other test checked (issue 21), each through the real
//! binary on real files, with real processes over loopback. Every child
//! process is given a deadline: on timeout it is killed and the test panics
//! with its log.

use crate::harness::{
    cpu_seconds, import_units, pdf_pages, pdf_with, pdftotext, post_document, slips, squash,
    tree_hashes, upload_record, Server,
};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sohoa");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `sohoa ARGS` as every test runs it (`harness::command`).
fn cmd(args: &[&str]) -> Command {
    let mut c = crate::harness::command();
    c.args(args);
    c
}

/// Runs `c` to its end with piped output; kills it and panics after `limit`.
fn finish(mut c: Command, limit: Duration) -> Output {
    crate::harness::output_within(&mut c, limit)
}

/// `sohoa ARGS` within two minutes.
fn run(args: &[&str]) -> Output {
    finish(cmd(args), Duration::from_secs(120))
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `sohoa ARGS`, which must exit 0; its stdout.
fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "sohoa {args:?}:\n{}{}",
        out(&o),
        err(&o)
    );
    out(&o)
}

/// Waits until `done()`, else panics after `limit` with `log()`.
fn wait_until(limit: Duration, what: &str, log: impl Fn() -> String, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A long-running `sohoa` (watch, serve) with its stderr in a file; killed when dropped.
struct Proc {
    child: Child,
    log: PathBuf,
    _logdir: tempfile::TempDir,
}

impl Proc {
    fn spawn(mut c: Command) -> Proc {
        let logdir = tempfile::tempdir().unwrap();
        let log = logdir.path().join("stderr.log");
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn sohoa");
        Proc {
            child,
            log,
            _logdir: logdir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait(&self, limit: Duration, what: &str, done: impl Fn() -> bool) {
        wait_until(limit, what, || self.log(), done);
    }

    fn wait_log(&self, text: &str) {
        self.wait(Duration::from_secs(60), text, || self.log().contains(text));
    }

    /// SIGTERM, then the exit code; kills and panics after `limit`.
    fn term(&mut self, limit: Duration) -> i32 {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("no exit within {limit:?} of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn db_count(data: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(data.join("sohoa.db"))
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn files_in(dir: &Path) -> Vec<String> {
    tree_hashes(dir).into_iter().map(|(rel, _)| rel).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `<dossier>/<name>` with a copy of slip `i` (0-based).
fn put_slip(dir: &Path, name: &str, i: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(&slips()[i], dir.join(name)).unwrap();
}

/// A loopback port nothing listens on (and no test binds: servers take port 0).
const DEAD_PORT: u16 = 1;

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------
// README "Exit codes": 5 (the data directory or the database cannot be used)
// and 1 (unexpected internal error).

#[test]
fn exit_5_when_the_data_directory_cannot_be_used() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let inbox = dir.path().join("inbox");
    put_slip(&inbox.join("000.00.18.H44-231120-0001"), "01.jpg", 0);
    for args in [
        vec!["batch", s(&inbox), "--data-dir", s(&file), "--json"],
        vec!["report", "--year", "2023", "--data-dir", s(&file)],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(5), "{args:?}: {}", err(&o));
        let last = err(&o).lines().last().unwrap_or_default().to_string();
        assert!(
            last.starts_with("sohoa: Không mở được cơ sở dữ liệu ("),
            "{args:?}: {}",
            err(&o)
        );
    }
    // A database URL nothing answers on.
    let url = format!("postgres://sohoa:x@127.0.0.1:{}/sohoa", DEAD_PORT);
    let o = run(&["report", "--year", "2023", "--database-url", &url]);
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
}

#[test]
fn exit_1_on_an_internal_error() {
    // The effective settings cannot be written out as TOML: a data directory
    // whose name is not UTF-8. (RLIMIT_NPROC does not bind root here, and a
    // panic exits 101, so this is the one internal failure a test can cause.)
    use std::os::unix::ffi::OsStrExt;
    let mut c = cmd(&["config", "--data-dir"]);
    c.arg(std::ffi::OsStr::from_bytes(b"/tmp/\xff"));
    let o = finish(c, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    assert_eq!(err(&o), "sohoa: path contains invalid UTF-8 characters\n");
}

// ---------------------------------------------------------------------------
// README "When a file is bad": `--ui-language en` on the command line turns
// the messages, the summary and usage errors to English.

#[test]
fn ui_language_en_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let code = "000.00.18.H44-231120-0001";
    std::fs::create_dir_all(inbox.join(code)).unwrap();
    std::fs::write(inbox.join(code).join("02-empty.jpg"), b"").unwrap();
    let data = dir.path().join("data");
    let o = run(&[
        "--ui-language",
        "en",
        "batch",
        s(&inbox),
        "--data-dir",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let (stdout, stderr) = (out(&o), err(&o));
    assert!(
        stderr.contains(&format!(
            "sohoa: [E_EMPTY] Empty file (0 bytes): {code}/02-empty.jpg. The scanner did not finish"
        )),
        "{stderr}"
    );
    assert!(
        stdout.starts_with(
            "Processed 1 dossier: 0 new documents (0 pages), 0 already digitized, 1 failed."
        ),
        "{stdout}"
    );
    for vi in ["Tệp rỗng", "hồ sơ", "Đã xử lý"] {
        assert!(
            !stdout.contains(vi) && !stderr.contains(vi),
            "{vi}: {stdout}{stderr}"
        );
    }
    let o = run(&["--ui-language", "en", "report", "--yaer", "2023"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).starts_with(
            "error: unexpected argument '--yaer' found\n\n  tip: a similar argument exists: '--year'\n"
        ),
        "{}",
        err(&o)
    );
}

// ---------------------------------------------------------------------------
// README "Watch mode", "Stopping, crashes": SIGTERM lets the documents in
// progress finish (at most `[watch] drain_seconds`), then exits 0; past the
// deadline it leaves, and the next start redoes what was cut.

fn watch_config(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn watcher(config: &Path, inbox: &Path, data: &Path) -> Proc {
    let w = Proc::spawn(cmd(&[
        "--config",
        s(config),
        "watch",
        s(inbox),
        "--data-dir",
        s(data),
    ]));
    w.wait_log("Bắt đầu theo dõi");
    w
}

/// A dossier whose one document is a sub-folder of `pages` slip pages,
/// made beside the inbox and moved in at once.
fn long_document(inbox: &Path, code: &str, first: usize, pages: usize) {
    let staging = inbox.with_file_name(format!("staging-{code}"));
    let d = staging.join("03-so-do");
    for p in 0..pages {
        put_slip(&d, &format!("trang-{}.jpg", p + 1), first + p);
    }
    std::fs::rename(&staging, inbox.join(code)).unwrap();
}

/// Waits until a document of `data` is in progress and the watcher has
/// spent a fifth of a CPU second on it since: its pages are being read.
fn wait_in_flight(w: &Proc, data: &Path) {
    w.wait(Duration::from_secs(60), "a job in progress", || {
        in_progress(data)
    });
    let pid = w.child.id();
    let base = cpu_seconds(pid);
    w.wait(Duration::from_secs(60), "work on the document", || {
        cpu_seconds(pid) >= base + 0.2
    });
}

fn in_progress(data: &Path) -> bool {
    data.join("sohoa.db").exists()
        && db_count(
            data,
            "SELECT COUNT(*) FROM watch_jobs WHERE state = 'in_progress'",
        ) > 0
}

#[test]
fn sigterm_drains_what_is_in_flight_and_a_cut_drain_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, data) = (dir.path().join("inbox"), dir.path().join("data"));
    std::fs::create_dir_all(&inbox).unwrap();
    let patient = watch_config(
        dir.path(),
        "patient.toml",
        "[watch]\nsettle_seconds = 0.3\ndrain_seconds = 120.0\n",
    );
    let hasty = watch_config(
        dir.path(),
        "hasty.toml",
        "[watch]\nsettle_seconds = 0.3\ndrain_seconds = 0.2\n",
    );
    let first = "000.00.18.H44-231120-0001";
    let second = "000.00.18.H44-231120-0002";

    // Pages of the two documents: a fifth of a CPU second into either, far
    // more is left (than a 0,2 s drain can finish too), on any machine.
    const N1: usize = 24;
    const N2: usize = 30;

    // In flight at SIGTERM: finished, recorded, its scans moved; then exit 0.
    let mut w = watcher(&patient, &inbox, &data);
    long_document(&inbox, first, 0, N1);
    wait_in_flight(&w, &data);
    assert_eq!(w.term(Duration::from_secs(180)), 0, "{}", w.log());
    assert!(
        w.log()
            .contains("Nhận lệnh dừng: hoàn tất tài liệu đang xử lý (tối đa 120 giây)"),
        "{}",
        w.log()
    );
    assert_eq!(
        db_count(&data, "SELECT COUNT(*) FROM documents"),
        1,
        "{}",
        w.log()
    );
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM pages"), N1 as i64);
    assert!(!inbox.join(first).exists(), "{}", w.log());
    assert_eq!(
        files_in(&data.join("processed").join(today()).join(first)).len(),
        N1
    );

    // A drain of 0,2 s: it leaves before the document is done, exit 0 still.
    let mut w = watcher(&hasty, &inbox, &data);
    long_document(&inbox, second, 40, N2);
    wait_in_flight(&w, &data);
    assert_eq!(w.term(Duration::from_secs(30)), 0, "{}", w.log());
    assert!(
        w.log().contains("(tối đa 0,2 giây)") && w.log().contains("Hết thời gian chờ; thoát ngay."),
        "{}",
        w.log()
    );
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM documents"), 1);
    assert_eq!(
        files_in(&inbox.join(second)).len(),
        N2,
        "scans left in place"
    );

    // The next start does it: every page once, no temporary file left.
    let mut w = watcher(&patient, &inbox, &data);
    w.wait(Duration::from_secs(120), "the cut document redone", || {
        !inbox.join(second).exists()
    });
    assert_eq!(w.term(Duration::from_secs(60)), 0);
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM documents"), 2);
    assert_eq!(
        db_count(&data, "SELECT COUNT(*) FROM pages"),
        (N1 + N2) as i64
    );
    assert_eq!(
        db_count(&data, "SELECT COUNT(*) FROM input_files"),
        (N1 + N2) as i64
    );
    let archive = files_in(&data.join("archive"));
    assert_eq!(archive.len(), 2, "{archive:?}");
    assert_eq!(
        files_in(&data.join("processed").join(today()).join(second)).len(),
        N2
    );
}

// ---------------------------------------------------------------------------
// README "Where the scans go": `[watch] retention_days` removes
// processed/<date>/ folders older than that; and "A file dropped again
// under the same name (a rescan) becomes a new version of its document".

#[test]
fn retention_days_and_a_rescan_under_the_same_name_through_watch() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, data) = (dir.path().join("inbox"), dir.path().join("data"));
    std::fs::create_dir_all(&inbox).unwrap();
    let code = "000.00.18.H44-231120-0007";
    let processed = data.join("processed");
    let old = processed.join("2020-01-01").join(code);
    let recent_date = (chrono::Local::now().date_naive() - chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let recent = processed.join(&recent_date).join(code);
    put_slip(&old, "01.jpg", 30);
    put_slip(&recent, "01.jpg", 31);
    let config = watch_config(
        dir.path(),
        "sohoa.toml",
        "[watch]\nsettle_seconds = 0.3\nretention_days = 3\n",
    );
    let mut w = watcher(&config, &inbox, &data);
    w.wait(Duration::from_secs(60), "the old folder removed", || {
        !processed.join("2020-01-01").exists()
    });
    assert!(recent.join("01.jpg").is_file(), "a day-old folder is kept");

    // v1, then a rescan under the same name: v2 beside it.
    put_slip(&inbox.join(code), "01-don.jpg", 32);
    // The rescan goes in as soon as the emptied folder is removed (looked at
    // every 5 ms), as a scanner would when the watcher is still busy with it.
    let start = Instant::now();
    while inbox.join(code).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "v1:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    put_slip(&inbox.join(code), "01-don.jpg", 33);
    w.wait(Duration::from_secs(60), "v2", || {
        !inbox.join(code).exists() && db_count(&data, "SELECT COUNT(*) FROM documents") == 2
    });
    assert_eq!(w.term(Duration::from_secs(60)), 0);
    let show = ok(&["dossier", "show", code, "--data-dir", s(&data), "--json"]);
    let v: Value = serde_json::from_str(&show).unwrap();
    let docs: Vec<(String, u64, bool)> = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["version"].as_u64().unwrap(),
                d["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        docs,
        [("01-don".into(), 1, false), ("01-don".into(), 2, true)],
        "{show}"
    );
    let archive = files_in(&data.join("archive"));
    assert_eq!(archive.len(), 2, "both versions kept: {archive:?}");
    // Both scans kept in processed/, today's folder untouched by retention.
    let today_files = files_in(&processed.join(today()).join(code));
    assert_eq!(today_files.len(), 2, "{today_files:?}");
}

// ---------------------------------------------------------------------------
// README "Network shares": an inbox whose change events cannot be set up is
// polled automatically; every inbox is rescanned in full (`rescan_seconds`)
// in case an event was lost; `poll_seconds` per `[[inbox]]`.
//
// The watcher runs without the capabilities that let root read any folder
// (`setpriv`), so a folder it may not read is what a service user meets on
// a share: inotify cannot watch it.

/// How many inotify watches the process `pid` holds (`/proc/<pid>/fdinfo`).
fn inotify_watches(pid: u32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:inotify")
        })
        .map(|fd| {
            let info = format!("/proc/{pid}/fdinfo/{}", fd.file_name().to_string_lossy());
            std::fs::read_to_string(info)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

fn unprivileged_watcher(config: &Path, data: &Path) -> Proc {
    let mut c = Command::new("setpriv");
    c.args(["--bounding-set=-dac_override,-dac_read_search", "--", BIN])
        .args(["--config", s(config), "watch", "--data-dir", s(data)]);
    crate::harness::isolate(&mut c);
    let w = Proc::spawn(c);
    w.wait_log("Bắt đầu theo dõi");
    w
}

fn modes(data: &Path) -> Vec<String> {
    let o = run(&["status", "--data-dir", s(data), "--json"]);
    let v: Value = serde_json::from_str(&out(&o)).unwrap();
    v["inboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mode"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn lost_events_are_caught_by_the_rescan_and_unwatchable_inboxes_are_polled() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (inbox, data) = (dir.path().join("inbox"), dir.path().join("data"));
    std::fs::create_dir_all(&inbox).unwrap();
    let config = watch_config(
        dir.path(),
        "sohoa.toml",
        &format!(
            "[watch]\nsettle_seconds = 0.3\nrescan_seconds = 6.0\n[[inbox]]\npath = \"{}\"\n",
            inbox.display()
        ),
    );
    // 1. An events inbox. A dossier folder the watcher could not read when it
    // arrived gets no watch of its own, so files put in it later make no event:
    // only the full rescan finds them.
    let mut w = unprivileged_watcher(&config, &data);
    assert_eq!(modes(&data), ["events"]);
    let code = "000.00.18.H44-231120-0011";
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::rename(&staging, inbox.join(code)).unwrap();
    // The watcher has tried to watch it once a folder made after it is
    // watched: inotify events are handled in order. (`_` folders are not
    // dossiers, but they are watched.)
    let watches = inotify_watches(w.child.id());
    std::fs::create_dir(inbox.join("_sau")).unwrap();
    w.wait(
        Duration::from_secs(60),
        "the folder made after it to be watched",
        || inotify_watches(w.child.id()) > watches,
    );
    std::fs::remove_dir(inbox.join("_sau")).unwrap();
    std::fs::set_permissions(inbox.join(code), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Just after a full scan, the file goes in: no event tells of it, so it
    // waits for the next scan (6 s later), then it is taken.
    let last_scan = || -> String {
        rusqlite::Connection::open(data.join("sohoa.db"))
            .unwrap()
            .query_row("SELECT last_scan_at FROM watch_inboxes", [], |r| r.get(0))
            .unwrap()
    };
    let before = last_scan();
    w.wait(Duration::from_secs(30), "a full rescan", || {
        last_scan() != before
    });
    put_slip(&inbox.join(code), "01.jpg", 40);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        inbox.join(code).join("01.jpg").is_file(),
        "taken before the next rescan: an event came after all:\n{}",
        w.log()
    );
    w.wait(Duration::from_secs(60), "the rescan to take it", || {
        !inbox.join(code).exists()
    });
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM documents"), 1);
    assert_eq!(w.term(Duration::from_secs(60)), 0);

    // 2. A folder inotify may not watch (here `_rieng`, the `_` folders being
    // ignored): the inbox falls back to polling at `[watch] poll_seconds`; a
    // second inbox is polled by its own `poll_seconds`.
    let private = inbox.join("_rieng");
    put_slip(&private, "bi-mat.jpg", 41);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    let config = watch_config(
        dir.path(),
        "sohoa.toml",
        &format!(
            "[watch]\nsettle_seconds = 0.3\nrescan_seconds = 600.0\npoll_seconds = 0.5\n\
             [[inbox]]\npath = \"{}\"\n[[inbox]]\npath = \"{}\"\npoll_seconds = 0.7\n",
            inbox.display(),
            share.display()
        ),
    );
    let mut w = unprivileged_watcher(&config, &data);
    assert!(
        w.log().contains(&format!(
            "Không nhận được thông báo thay đổi từ {}",
            inbox.display()
        )) && w.log().contains("chuyển sang quét định kỳ 0,5 giây"),
        "{}",
        w.log()
    );
    assert_eq!(modes(&data), ["polling", "polling"]);
    let (a, b) = ("000.00.18.H44-231120-0012", "000.00.18.H44-231120-0013");
    put_slip(&inbox.join(a), "01.jpg", 42);
    put_slip(&share.join(b), "01.jpg", 43);
    w.wait(Duration::from_secs(60), "both polled inboxes taken", || {
        !inbox.join(a).exists() && !share.join(b).exists()
    });
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM documents"), 3);
    assert_eq!(w.term(Duration::from_secs(60)), 0);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        private.join("bi-mat.jpg").is_file(),
        "an `_` folder is left alone"
    );
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM failures"), 0);
}

// ---------------------------------------------------------------------------
// README "What to put in an inbox" / "When a folder is taken": system and
// temporary files and `_` folders in a real inbox are ignored: no failure,
// not read, not moved.

#[test]
fn junk_files_and_underscore_folders_in_a_watched_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, data) = (dir.path().join("inbox"), dir.path().join("data"));
    let config = watch_config(dir.path(), "sohoa.toml", "[watch]\nsettle_seconds = 0.3\n");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut w = watcher(&config, &inbox, &data);
    let code = "000.00.18.H44-231120-0021";
    let folder = inbox.join(code);
    let temps = ["~$don.docx", "ban-nhap.tmp", "trang-2.jpg.part"];
    for name in temps {
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), b"not a scan").unwrap();
    }
    std::fs::write(folder.join("Thumbs.db"), b"junk").unwrap();
    std::fs::write(folder.join(".DS_Store"), b"junk").unwrap();
    std::fs::write(inbox.join("Thumbs.db"), b"junk").unwrap();
    let kept = inbox.join("_luu-tru");
    put_slip(&kept, "cu.jpg", 50);
    std::fs::write(kept.join("hong.jpg"), b"not an image").unwrap();
    put_slip(&folder, "01-don.jpg", 51);
    w.wait(Duration::from_secs(60), "the dossier", || {
        db_count(
            &data,
            "SELECT COUNT(*) FROM watch_jobs WHERE state = 'done'",
        ) >= 1
            && !folder.join("01-don.jpg").exists()
    });
    // Give a further rescan no chance to change its mind: the status says
    // nothing waits.
    let st = run(&["status", "--data-dir", s(&data), "--json"]);
    let v: Value = serde_json::from_str(&out(&st)).unwrap();
    assert_eq!(v["inboxes"][0]["waiting"], 0, "{v}");
    assert_eq!(w.term(Duration::from_secs(60)), 0);
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM documents"), 1);
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM input_files"), 1);
    assert_eq!(db_count(&data, "SELECT COUNT(*) FROM failures"), 0);
    assert!(files_in(&data.join("failed")).is_empty());
    let moved = files_in(&data.join("processed"));
    assert_eq!(moved, [format!("{}/{code}/01-don.jpg", today())]);
    for name in temps {
        assert!(folder.join(name).is_file(), "{name} was moved");
    }
    assert!(inbox.join("Thumbs.db").is_file());
    assert!(kept.join("cu.jpg").is_file() && kept.join("hong.jpg").is_file());
}

// ---------------------------------------------------------------------------
// README "The district server": another PDF under a version the server holds
// is `409 E_VERSION_CONFLICT`; a body over `[serve] max_upload_mib` is
// `413 E_TOO_LARGE`; `/metrics` with a `station add --monitor` token, and its
// figures move with an upload.

const COMMUNE: &str = "000.20.18.H44";
const DISTRICT: &str = "000.00.18.H44";

/// A multipart upload written to a socket by one thread while this one reads
/// the reply (which may come before the body is all sent); (status, JSON).
fn raw_upload(base: &str, token: &str, record: &Value, pdf: &[u8]) -> (u16, Value) {
    use std::io::Write;
    let addr = base.trim_start_matches("http://").to_string();
    let mut body = Vec::new();
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"record\"\r\n\r\n");
    body.extend_from_slice(record.to_string().as_bytes());
    body.extend_from_slice(
        b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"x.pdf\"\r\n\r\n",
    );
    body.extend_from_slice(pdf);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST /api/v1/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    // Up to the end of the JSON body (a reset after it is the server closing).
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert!(!reply.is_empty(), "no reply: {e}");
                break;
            }
        }
        let text = String::from_utf8_lossy(&reply);
        if let Some((_, json)) = text.split_once("\r\n\r\n") {
            if serde_json::from_str::<Value>(json).is_ok() {
                break;
            }
        }
    }
    drop(stream);
    let _ = sender.join();
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in\n{text}"))
}

#[test]
fn version_conflict_body_limit_and_metrics_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_units(&data);
    let config = watch_config(dir.path(), "sohoa.toml", "[serve]\nmax_upload_mib = 1\n");
    let g = ["--config", s(&config), "--data-dir", s(&data)];
    let with = |rest: &[&str]| {
        let mut a = g.to_vec();
        a.extend_from_slice(rest);
        ok(&a).lines().last().unwrap().to_string()
    };
    let token = with(&["station", "add", "xa-dong-le", "--unit", COMMUNE]);
    let monitor = with(&[
        "station",
        "add",
        "giam-sat",
        "--unit",
        DISTRICT,
        "--monitor",
    ]);
    let client = reqwest::blocking::Client::new();
    let server = Server::start(&g, &[], "http", &client);
    let base = server.base.clone();
    let metrics = |t: &str| {
        let r = client
            .get(format!("{base}/metrics"))
            .bearer_auth(t)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(metrics(&token).0, 403, "a station token reads no /metrics");
    let (st, before) = metrics(&monitor);
    assert_eq!(st, 200, "{before}");
    assert_eq!(metric(&before, "sohoa_documents_total"), 0.0);
    assert_eq!(metric(&before, "sohoa_pages_total"), 0.0);

    let code = "000.20.18.H44-230401-0009";
    let small = pdf_with(b"q Q", "", Some((10, 10, &[128u8; 100])));
    let (st, body) = post_document(
        &client,
        &base,
        &token,
        &upload_record(code, COMMUNE, "01-don", 1, &small),
        &small,
    );
    assert_eq!(st, 201, "{body}");
    let (_, after) = metrics(&monitor);
    assert_eq!(metric(&after, "sohoa_documents_total"), 1.0, "{after}");
    assert_eq!(metric(&after, "sohoa_pages_total"), 1.0, "{after}");
    // The same bytes again: the id it has; other bytes under v1: a conflict.
    let (st, body) = post_document(
        &client,
        &base,
        &token,
        &upload_record(code, COMMUNE, "01-don", 1, &small),
        &small,
    );
    assert_eq!((st, &body["duplicate"]), (200, &json!(true)), "{body}");
    let mut other = small.clone();
    other.extend_from_slice(b"\n% rescanned elsewhere\n%%EOF\n");
    let (st, body) = post_document(
        &client,
        &base,
        &token,
        &upload_record(code, COMMUNE, "01-don", 1, &other),
        &other,
    );
    assert_eq!(
        (st, body["error"].as_str()),
        (409, Some("E_VERSION_CONFLICT")),
        "{body}"
    );
    // Under the cap (1 MiB) goes; a PDF over it, and a body far over it, do not.
    let pixels = vec![128u8; 1000 * 1000];
    let under = pdf_with(b"q Q", "", Some((1000, 1000, &pixels)));
    assert!(under.len() < 1 << 20);
    let (st, body) = post_document(
        &client,
        &base,
        &token,
        &upload_record(code, COMMUNE, "02-ban-ve", 1, &under),
        &under,
    );
    assert_eq!(st, 201, "{body}");
    // A PDF over the cap but within the body limit (the cap and 1 MiB for the
    // record), and a body over that limit: the client is still sending when
    // the reply comes, so it is sent over a plain socket, reading as it writes.
    for side in [1100, 1800] {
        let pixels = vec![128u8; side * side];
        let over = pdf_with(b"q Q", "", Some((side as u32, side as u32, &pixels)));
        assert!(over.len() > 1 << 20);
        let (st, body) = raw_upload(
            &base,
            &token,
            &upload_record(code, COMMUNE, "03-to", 1, &over),
            &over,
        );
        assert_eq!(
            (st, body["error"].as_str()),
            (413, Some("E_TOO_LARGE")),
            "{} bytes: {body}",
            over.len()
        );
    }
    let (_, last) = metrics(&monitor);
    assert_eq!(metric(&last, "sohoa_documents_total"), 2.0, "{last}");
    assert_eq!(metric(&last, "sohoa_pages_total"), 2.0, "{last}");
    let incoming = files_in(&data.join("archive/.incoming"));
    assert!(incoming.is_empty(), "{incoming:?}");
}

// ---------------------------------------------------------------------------
// README "Commune stations": sync over HTTPS to a district certificate signed
// by its own CA (`[sync] ca_file`), the token from `SOHOA_SYNC_TOKEN`, and
// the `--server`/`--token` flags.

/// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
fn ca_and_server_cert(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ossl = |args: &[&str]| {
        let mut c = Command::new("openssl");
        c.args(args).current_dir(dir);
        let o = finish(c, Duration::from_secs(60));
        assert!(o.status.success(), "openssl {args:?}: {}", err(&o));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut a = vec!["req", "-x509", "-days", "2", "-subj", "/CN=sohoa test CA"];
    a.extend(ec);
    a.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    ossl(&a);
    let mut a = vec!["req", "-subj", "/CN=127.0.0.1"];
    a.extend(ec);
    a.extend(["-keyout", "key.pem", "-out", "server.csr"]);
    ossl(&a);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

#[test]
fn sync_over_https_with_ca_file_env_token_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = ca_and_server_cert(dir.path());
    let server_data = dir.path().join("server");
    import_units(&server_data);
    let sg = ["--data-dir", s(&server_data)];
    let token = {
        let mut a = sg.to_vec();
        a.extend(["station", "add", "xa-dong-le", "--unit", COMMUNE]);
        ok(&a).lines().last().unwrap().to_string()
    };
    sohoa::serve::install_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let server = Server::start(
        &sg,
        &["--tls-cert", s(&cert), "--tls-key", s(&key)],
        "https",
        &client,
    );
    let base = server.base.clone();
    assert!(base.starts_with("https://"));

    // The station: a server and CA in its config, no token there.
    let station = dir.path().join("station");
    import_units(&station);
    let inbox = dir.path().join("inbox");
    let (c1, c2) = ("000.20.18.H44-230301-0001", "000.20.18.H44-230302-0002");
    put_slip(&inbox.join(c1), "01-phieu.jpg", 60);
    ok(&["batch", s(&inbox), "--data-dir", s(&station)]);
    let no_ca = watch_config(
        dir.path(),
        "no-ca.toml",
        &format!(
            "data_dir = \"{}\"\n[sync]\nserver = \"{base}\"\nmax_backoff_seconds = 1.0\n",
            station.display()
        ),
    );
    let with_ca = watch_config(
        dir.path(),
        "station.toml",
        &format!(
            "data_dir = \"{}\"\n[sync]\nserver = \"{base}\"\nca_file = \"{}\"\nmax_backoff_seconds = 1.0\n",
            station.display(),
            ca.display()
        ),
    );
    let server_docs = || db_count(&server_data, "SELECT COUNT(*) FROM documents");
    // Without the CA the district certificate is not trusted: nothing goes.
    let mut c = cmd(&["--config", s(&no_ca), "sync", "--wait", "0"]);
    c.env("SOHOA_SYNC_TOKEN", &token);
    let o = finish(c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(9), "{}{}", out(&o), err(&o));
    assert_eq!(server_docs(), 0);
    // With it, and the token from the environment.
    let mut c = cmd(&["--config", s(&with_ca), "sync", "--wait", "0"]);
    c.env("SOHOA_SYNC_TOKEN", &token);
    let o = finish(c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains(&format!("Đồng bộ với máy chủ {base}: đã gửi 1 tài liệu")),
        "{}",
        out(&o)
    );
    assert_eq!(server_docs(), 1);

    // The flags: --server over a config naming another (dead) server, and
    // --token over a wrong SOHOA_SYNC_TOKEN.
    put_slip(&inbox.join(c2), "01-phieu.jpg", 61);
    ok(&["batch", s(&inbox), "--data-dir", s(&station)]);
    let elsewhere = watch_config(
        dir.path(),
        "elsewhere.toml",
        &format!(
            "data_dir = \"{}\"\n[sync]\nserver = \"https://127.0.0.1:{}\"\nca_file = \"{}\"\nmax_backoff_seconds = 1.0\n",
            station.display(),
            DEAD_PORT,
            ca.display()
        ),
    );
    let mut c = cmd(&["--config", s(&elsewhere), "sync", "--wait", "0"]);
    c.env("SOHOA_SYNC_TOKEN", "sai-ma");
    c.args(["--server", &base]);
    let o = finish(c, Duration::from_secs(120));
    assert_eq!(
        o.status.code(),
        Some(9),
        "a wrong token: {}{}",
        out(&o),
        err(&o)
    );
    assert_eq!(server_docs(), 1);
    let mut c = cmd(&["--config", s(&elsewhere), "sync", "--wait", "0"]);
    c.env("SOHOA_SYNC_TOKEN", "sai-ma");
    c.args(["--server", &base, "--token", &token]);
    let o = finish(c, Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert_eq!(server_docs(), 2);
    let codes: Vec<String> = {
        let db = rusqlite::Connection::open(server_data.join("sohoa.db")).unwrap();
        let mut st = db
            .prepare("SELECT code FROM dossiers ORDER BY code")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(codes, [c1, c2]);
}

// ---------------------------------------------------------------------------
// README "Configuration": defaults → config file (`--config`, `SOHOA_CONFIG`
// or `./sohoa.toml`) → `SOHOA_*` environment → flags, as `sohoa config` says.

#[test]
fn config_precedence_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let file = |name: &str, data_dir: &str, jobs: u32| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("data_dir = \"{data_dir}\"\njobs = {jobs}\n")).unwrap();
        p
    };
    std::fs::write(
        cwd.join("sohoa.toml"),
        "data_dir = \"/tu/thu-muc-hien-tai\"\njobs = 3\n",
    )
    .unwrap();
    let from_env = file("env.toml", "/tu/sohoa-config", 4);
    let from_flag = file("flag.toml", "/tu/co-config", 5);
    let effective = |envs: &[(&str, &str)], args: &[&str]| -> (String, String) {
        let mut a = vec!["config"];
        a.extend_from_slice(args);
        let mut c = cmd(&a);
        c.current_dir(&cwd);
        for (k, v) in envs {
            c.env(k, v);
        }
        let o = finish(c, Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let text = out(&o);
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = ")))
                .unwrap_or_else(|| panic!("{key} in {text}"))
                .to_string()
        };
        (get("data_dir"), get("jobs"))
    };
    let pair = |d: &str, j: &str| (format!("\"{d}\""), j.to_string());
    // Nothing else: ./sohoa.toml of the current folder.
    assert_eq!(effective(&[], &[]), pair("/tu/thu-muc-hien-tai", "3"));
    // SOHOA_CONFIG over ./sohoa.toml (one file is read, not both).
    let env = [("SOHOA_CONFIG", s(&from_env))];
    assert_eq!(effective(&env, &[]), pair("/tu/sohoa-config", "4"));
    // --config over SOHOA_CONFIG.
    let flag = ["--config", s(&from_flag)];
    assert_eq!(effective(&env, &flag), pair("/tu/co-config", "5"));
    // SOHOA_* variables over the file.
    let vars = [
        ("SOHOA_CONFIG", s(&from_env)),
        ("SOHOA_DATA_DIR", "/tu/bien-moi-truong"),
        ("SOHOA_JOBS", "7"),
    ];
    assert_eq!(effective(&vars, &flag), pair("/tu/bien-moi-truong", "7"));
    // Flags over the variables.
    let mut all = flag.to_vec();
    all.extend(["--data-dir", "/tu/co-dong-lenh"]);
    assert_eq!(effective(&vars, &all), pair("/tu/co-dong-lenh", "7"));
    // And with no file at all, the defaults.
    let empty = tempfile::tempdir().unwrap();
    let mut c = cmd(&["config"]);
    c.current_dir(empty.path());
    let text = out(&finish(c, Duration::from_secs(60)));
    assert!(text.starts_with("data_dir = \"var\"\njobs = 0\n"), "{text}");
}

// ---------------------------------------------------------------------------
// README "Reports for leaders": `--by field`, `--level tinh`, `report missing
// --format csv`, against the sample register (figures worked out by hand
// from samples/_register/so-tiep-nhan-2023.csv in the comments).

#[test]
fn reports_by_field_level_tinh_and_missing_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_units(&data);
    let d = s(&data).to_string();
    let register = root().join("samples/_register/so-tiep-nhan-2023.csv");
    ok(&["--data-dir", &d, "register", "import", s(&register)]);
    // Digitized: 230315-0003 (a component; no paper result), 20…-230322-0005
    // (a component and its result), 25…-230410-0001 (a component, its paper
    // result not yet scanned).
    let inbox = dir.path().join("inbox");
    put_slip(
        &inbox.join("000.00.18.H44-230315-0003"),
        "01-to-khai.jpg",
        70,
    );
    put_slip(&inbox.join("000.20.18.H44-230322-0005"), "01-giay.jpg", 71);
    put_slip(
        &inbox.join("000.20.18.H44-230322-0005/ket-qua"),
        "giay-khai-sinh.jpg",
        72,
    );
    put_slip(
        &inbox.join("000.25.18.H44-230410-0001"),
        "01-to-khai.jpg",
        73,
    );
    ok(&["--data-dir", &d, "batch", s(&inbox), "--json"]);

    let text = ok(&[
        "--data-dir",
        &d,
        "report",
        "--year",
        "2023",
        "--by",
        "field",
    ]);
    let lines: Vec<&str> = text.lines().skip(1).take(5).collect();
    assert_eq!(
        lines,
        [
            // rows 0003, 0007, 0003 (230502): the first digitized; none has a paper
            // result, so every resolved one counts; DVC: 0003, 0007; fee: all, 2 paid.
            "Chứng thực: số hóa 1/3 hồ sơ, đạt 33,33%; số hóa thành phần khi tiếp nhận 1/3 hồ sơ, đạt 33,33%; số hóa kết quả 3/3 hồ sơ, đạt 100,00%; nộp trực tuyến 1/2 hồ sơ, đạt 50,00%; thanh toán trực tuyến 2/3 hồ sơ, đạt 66,67%; đã ký số 0/1 hồ sơ, đạt 0,00%.",
            // rows 0005 (complete), 0002, 0001 (component only); all resolved with a
            // paper result; all DVC, two online; no fee.
            "Hộ tịch: số hóa 1/3 hồ sơ, đạt 33,33%; số hóa thành phần khi tiếp nhận 2/3 hồ sơ, đạt 66,67%; số hóa kết quả 1/3 hồ sơ, đạt 33,33%; nộp trực tuyến 2/3 hồ sơ, đạt 66,67%; thanh toán trực tuyến 0/0 hồ sơ, không áp dụng; đã ký số 0/2 hồ sơ, đạt 0,00%.",
            // row 0011: not resolved, online, fee not paid online.
            "Thành lập và hoạt động của hộ kinh doanh: số hóa 0/1 hồ sơ, đạt 0,00%; số hóa thành phần khi tiếp nhận 0/1 hồ sơ, đạt 0,00%; số hóa kết quả 0/0 hồ sơ, không áp dụng; nộp trực tuyến 1/1 hồ sơ, đạt 100,00%; thanh toán trực tuyến 0/1 hồ sơ, đạt 0,00%; đã ký số 0/0 hồ sơ, không áp dụng.",
            // row 0027: resolved with a paper result, not DVC, fee not paid online.
            "Đất đai: số hóa 0/1 hồ sơ, đạt 0,00%; số hóa thành phần khi tiếp nhận 0/1 hồ sơ, đạt 0,00%; số hóa kết quả 0/1 hồ sơ, đạt 0,00%; nộp trực tuyến 0/0 hồ sơ, không áp dụng; thanh toán trực tuyến 0/1 hồ sơ, đạt 0,00%; đã ký số 0/0 hồ sơ, không áp dụng.",
            "Tổng cộng: số hóa 2/8 hồ sơ, đạt 25,00%; số hóa thành phần khi tiếp nhận 3/8 hồ sơ, đạt 37,50%; số hóa kết quả 4/7 hồ sơ, đạt 57,14%; nộp trực tuyến 4/6 hồ sơ, đạt 66,67%; thanh toán trực tuyến 2/5 hồ sơ, đạt 40,00%; đã ký số 0/3 hồ sơ, đạt 0,00%.",
        ],
        "{text}"
    );

    let csv = ok(&[
        "--data-dir",
        &d,
        "report",
        "missing",
        "--year",
        "2023",
        "--format",
        "csv",
    ]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "\u{feff}Mã đơn vị;Đơn vị;Mã hồ sơ;Ngày tiếp nhận;Mã TTHC;Tên TTHC;Còn thiếu"
    );
    let missing: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| {
            let f: Vec<&str> = r.split(';').collect();
            (f[2], *f.last().unwrap())
        })
        .collect();
    assert_eq!(
        missing,
        [
            (
                "000.00.18.H44-230314-0027",
                "chưa có thành phần hồ sơ và kết quả số hóa"
            ),
            (
                "000.00.18.H44-230320-0011",
                "chưa có thành phần hồ sơ số hóa"
            ),
            (
                "000.03.18.H44-230405-0007",
                "chưa có thành phần hồ sơ số hóa"
            ),
            (
                "000.20.18.H44-230323-0002",
                "chưa có thành phần hồ sơ và kết quả số hóa"
            ),
            (
                "000.25.18.H44-230410-0001",
                "chưa có kết quả số hóa (thủ tục trả kết quả giấy)"
            ),
            (
                "000.31.18.H44-230502-0003",
                "chưa có thành phần hồ sơ số hóa"
            ),
        ],
        "{csv}"
    );

    // The sample register has no provincial unit: one row of the provincial
    // Sở Tư pháp, digitized; cấp tỉnh counts it alone, not the district's eight.
    let extra = dir.path().join("so-tinh.csv");
    std::fs::write(
        &extra,
        "Mã hồ sơ,Mã TTHC,Tên TTHC,Lĩnh vực,Mã đơn vị,Ngày tiếp nhận,Hình thức nộp,DVC toàn trình,Có phí,Thanh toán trực tuyến,Ngày hẹn trả,Ngày trả kết quả,Có kết quả giấy\n\
         000.00.02.H44-230601-0001,2.000908,Chứng thực bản sao từ bản chính,Chứng thực,000.00.02.H44,01/06/2023,Trực tuyến,Có,Có,Có,01/06/2023,01/06/2023,Không\n",
    )
    .unwrap();
    ok(&["--data-dir", &d, "register", "import", s(&extra)]);
    let tinh = dir.path().join("inbox-tinh");
    put_slip(
        &tinh.join("000.00.02.H44-230601-0001"),
        "01-ban-sao.jpg",
        74,
    );
    ok(&["--data-dir", &d, "batch", s(&tinh), "--json"]);
    let text = ok(&[
        "--data-dir",
        &d,
        "report",
        "--year",
        "2023",
        "--level",
        "tinh",
    ]);
    assert!(
        text.contains("\nCấp tỉnh: số hóa 1/1 hồ sơ, đạt 100,00%; số hóa thành phần khi tiếp nhận 1/1 hồ sơ, đạt 100,00%; số hóa kết quả 1/1 hồ sơ, đạt 100,00%; nộp trực tuyến 1/1 hồ sơ, đạt 100,00%; thanh toán trực tuyến 1/1 hồ sơ, đạt 100,00%; đã ký số 0/1 hồ sơ, đạt 0,00%.\n"),
        "{text}"
    );
    assert!(text.contains("\nTổng cộng: số hóa 1/1 hồ sơ"), "{text}");
}

// ---------------------------------------------------------------------------
// README "Progress and summaries": without --json and with stderr not a
// terminal, one line per document; the summary in Vietnamese with decimal
// commas; no colour codes anywhere.

#[test]
fn batch_progress_lines_and_text_summary_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let code = "000.00.18.H44-231120-0031";
    put_slip(&inbox.join(code), "01-don.jpg", 80);
    put_slip(&inbox.join(code), "02-phieu.jpg", 81);
    let data = dir.path().join("data");
    import_units(&data);
    let o = run(&["batch", s(&inbox), "--data-dir", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let (stdout, stderr) = (out(&o), err(&o));
    for text in [&stdout, &stderr] {
        assert!(!text.contains('\u{1b}'), "a colour code: {text:?}");
    }
    let mut progress: Vec<&str> = stderr.lines().collect();
    progress.sort();
    assert_eq!(
        progress,
        [
            "sohoa: bắt đầu 2 tài liệu (2 tệp)".to_string(),
            format!("sohoa: xong {code} / 01-don: 1 trang"),
            format!("sohoa: xong {code} / 02-phieu: 1 trang"),
        ],
        "{stderr}"
    );
    let first = stdout.lines().next().unwrap();
    let rest = first
        .strip_prefix("Đã xử lý 1 hồ sơ: 2 tài liệu mới (2 trang), 0 tài liệu đã số hóa trước đó, 0 lỗi. Tốc độ ")
        .unwrap_or_else(|| panic!("{stdout}"));
    // "Tốc độ 31,7 trang/phút, thời gian 7,6 giây."
    let (rate, time) = rest
        .strip_suffix(" giây.")
        .and_then(|r| r.split_once(" trang/phút, thời gian "))
        .unwrap_or_else(|| panic!("{first}"));
    for n in [rate, time] {
        let (int, frac) = n
            .split_once(',')
            .unwrap_or_else(|| panic!("decimal comma: {first}"));
        assert!(
            int.chars().all(|c| c.is_ascii_digit() || c == '.') && frac.len() == 1,
            "{first}"
        );
    }
    assert!(
        stdout.contains("\nTổng cộng: số hóa 1/1 hồ sơ, đạt 100,00%"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------------------
// README intro: multi-page TIFF with Deflate compression is read.

#[test]
fn a_deflate_tiff_is_read_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let tiff = dir.path().join("02-giay-to.tif");
    let script = "import sys\nfrom PIL import Image\n\
                  ims = [Image.open(p).convert('RGB') for p in sys.argv[2:]]\n\
                  ims[0].save(sys.argv[1], 'TIFF', compression='tiff_adobe_deflate', save_all=True, append_images=ims[1:], dpi=(300, 300))\n";
    let mut c = Command::new("/usr/bin/python3");
    c.args(["-c", script, s(&tiff), s(&slips()[90]), s(&slips()[91])]);
    let o = finish(c, Duration::from_secs(60));
    assert!(o.status.success(), "{}", err(&o));
    let info = finish(
        {
            let mut c = Command::new("tiffinfo");
            c.arg(&tiff);
            c
        },
        Duration::from_secs(30),
    );
    let info = out(&info);
    assert_eq!(
        info.matches("Compression Scheme: AdobeDeflate").count(),
        2,
        "{info}"
    );
    let inbox = dir.path().join("inbox");
    let code = "000.00.18.H44-231120-0041";
    std::fs::create_dir_all(inbox.join(code)).unwrap();
    std::fs::copy(&tiff, inbox.join(code).join("02-giay-to.tif")).unwrap();
    let data = dir.path().join("data");
    let o = run(&["batch", s(&inbox), "--data-dir", s(&data), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let pdf = data.join(format!("archive/000.00.18.H44/2023/{code}/02-giay-to.pdf"));
    assert_eq!(pdf_pages(&pdf), 2);
    let text = squash(&pdftotext(&pdf));
    for n in ["0091", "0092"] {
        assert!(text.contains(&format!("tiếp nhận số {n}")), "{text}");
    }
}
