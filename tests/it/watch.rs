//! `sohoa watch` as a service on temp dirs, with real inotify and real
//! polling: files arrive the way scanners deliver them (bursts, slow writes,
//! late results, bad files), the watcher is killed and restarted, and every
//! input must end up exactly once in the archive and records, or in failed/.

use super::harness::{fixtures, slips, sohoa, stdout, tree_hashes};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn code(n: usize) -> String {
    format!("000.00.18.H44-231120-{n:04}")
}

fn sha(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

/// A running `sohoa watch`, its stderr in a file.
struct Watch {
    child: Child,
    log: PathBuf,
}

impl Watch {
    fn start(inbox: &Path, data: &Path, extra: &[&str]) -> Watch {
        let mut args = vec!["watch", inbox.to_str().unwrap()];
        args.extend_from_slice(extra);
        Watch::spawn(data, &args)
    }

    /// `sohoa --config CONFIG watch` (the inboxes from its `[[inbox]]` tables).
    fn start_with_config(config: &Path, data: &Path, extra: &[&str]) -> Watch {
        let mut args = vec!["--config", config.to_str().unwrap(), "watch"];
        args.extend_from_slice(extra);
        Watch::spawn(data, &args)
    }

    /// `sohoa ARGS --data-dir DATA`, its stderr in a fresh log file.
    fn spawn(data: &Path, args: &[&str]) -> Watch {
        let log = data.with_extension(format!("log-{}", rand_u64() % 1_000_000));
        let err = std::fs::File::create(&log).expect("log");
        let child = super::harness::command()
            .args(args)
            .args(["--data-dir", data.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start sohoa watch");
        Watch { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then the exit code (panics if it takes longer than `limit`).
    fn term(mut self, limit: Duration) -> i32 {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < limit,
                "watch did not stop within {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// Waits until `done()` or panics after `limit` with the watcher's log.
fn wait_for(w: &Watch, limit: Duration, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(data: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(data.join("sohoa.db")).expect("db");
    db.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// The watcher has nothing left to do: the inbox is empty, and the moves
/// and the job of the last take are finished (the inbox empties as the last
/// file is moved, a moment before its move and its job are recorded done).
fn settled(inbox: &Path, data: &Path) -> bool {
    inbox_files(inbox) == 0
        && count(data, "SELECT COUNT(*) FROM watch_moves") == 0
        && count(
            data,
            "SELECT COUNT(*) FROM watch_jobs WHERE state = 'in_progress'",
        ) == 0
}

/// Non-junk files left anywhere under the inbox.
fn inbox_files(inbox: &Path) -> usize {
    walkdir::WalkDir::new(inbox)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .count()
}

/// Where each input hash is now: (documents whose inputs include it,
/// copies in processed/, copies in failed/).
fn whereabouts(data: &Path) -> HashMap<String, (i64, usize, usize)> {
    let mut out: HashMap<String, (i64, usize, usize)> = HashMap::new();
    for (rel, h) in tree_hashes(&data.join("processed")) {
        assert!(
            !rel.ends_with(".tmp"),
            "temporary file left in processed/: {rel}"
        );
        out.entry(h).or_default().1 += 1;
    }
    for (rel, h) in tree_hashes(&data.join("failed")) {
        if !rel.ends_with(".loi.txt") {
            out.entry(h).or_default().2 += 1;
        }
    }
    let db = rusqlite::Connection::open(data.join("sohoa.db")).expect("db");
    let mut stmt = db
        .prepare("SELECT i.sha256, COUNT(*) FROM input_files i JOIN documents d ON d.id = i.document_id GROUP BY i.sha256")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    for row in rows {
        let (h, n) = row.unwrap();
        out.entry(h).or_default().0 += n;
    }
    out
}

/// Every good input in exactly one document and once in processed/, every bad
/// one once in failed/ and in no document; no temporary file in the archive.
fn assert_accounted(data: &Path, good: &[String], bad: &[String]) {
    let w = whereabouts(data);
    for h in good {
        assert_eq!(
            w.get(h),
            Some(&(1, 1, 0)),
            "good input {h}: (documents, processed, failed)"
        );
    }
    for h in bad {
        assert_eq!(
            w.get(h),
            Some(&(0, 0, 1)),
            "bad input {h}: (documents, processed, failed)"
        );
    }
    assert_eq!(w.len(), good.len() + bad.len(), "no other file appeared");
    assert_eq!(
        count(data, "SELECT COUNT(*) FROM documents") as usize,
        good.len(),
        "no duplicate documents"
    );
    let archive: Vec<_> = tree_hashes(&data.join("archive"));
    assert_eq!(
        archive.len(),
        good.len(),
        "one PDF per document, no temporary files: {archive:?}"
    );
    assert_eq!(
        count(data, "SELECT COUNT(*) FROM watch_moves"),
        0,
        "no move left pending"
    );
    if !good.is_empty() {
        crate::pdfa::assert_archive_is_pdfa(data);
    }
}

#[test]
fn a_burst_late_results_bad_files_and_symlinks_on_an_event_inbox() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    let w = Watch::start(inbox.path(), &data, &["--settle", "1.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });

    // A second watcher on the same data directory refuses to start.
    let second = sohoa(&[
        "watch",
        inbox.path().to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        second.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // A burst: 200 files across 20 dossiers, copied as fast as possible.
    let mut good = Vec::new();
    for (i, slip) in slips()[..200].iter().enumerate() {
        let d = inbox.path().join(code(i / 10 + 1));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(slip, d.join(format!("{:02}.jpg", i % 10 + 1))).unwrap();
        good.push(sha(slip));
    }
    wait_for(
        &w,
        Duration::from_secs(240),
        "the burst to be processed",
        || settled(inbox.path(), &data),
    );
    assert!(
        !inbox.path().join(code(1)).exists(),
        "emptied dossier folders are removed"
    );
    assert_accounted(&data, &good, &[]);
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    assert!(data
        .join("processed")
        .join(&today)
        .join(code(3))
        .join("07.jpg")
        .is_file());

    // A result scanned later lands on the same dossier record.
    let late = inbox.path().join(code(5)).join("ket-qua");
    std::fs::create_dir_all(&late).unwrap();
    std::fs::copy(&slips()[200], late.join("quyet-dinh.jpg")).unwrap();
    good.push(sha(&slips()[200]));
    wait_for(&w, Duration::from_secs(60), "the late result", || {
        settled(inbox.path(), &data)
    });
    assert_eq!(count(&data, "SELECT COUNT(*) FROM dossiers"), 20);
    let on_record = count(
        &data,
        &format!(
            "SELECT COUNT(*) FROM documents d JOIN dossiers s ON s.id = d.dossier_id
              WHERE s.code = '{}' AND d.kind = 'ket_qua' AND d.name = 'quyet-dinh'",
            code(5)
        ),
    );
    assert_eq!(on_record, 1);

    // Bad files go to failed/ with a note; the good file next to them is archived.
    let fx = fixtures();
    let bad_src = fx.root.join("bad/000.00.18.H44-230401-0001");
    let d = inbox.path().join(code(30));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(&slips()[201], d.join("01-tot.jpg")).unwrap();
    good.push(sha(&slips()[201]));
    let mut bad = Vec::new();
    for name in ["02-empty.jpg", "04-text.jpg", "06-encrypted.pdf"] {
        std::fs::copy(bad_src.join(name), d.join(name)).unwrap();
        bad.push(sha(&d.join(name)));
    }
    // A symlink inside a dossier and a dossier folder that is a symlink out of
    // the inbox: refused, their targets untouched.
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(&slips()[202], outside.path().join("secret.jpg")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.jpg"), d.join("05-link.jpg")).unwrap();
    std::os::unix::fs::symlink(outside.path(), inbox.path().join(code(31))).unwrap();
    wait_for(&w, Duration::from_secs(60), "the bad dossier", || {
        settled(inbox.path(), &data)
    });
    assert!(
        outside.path().join("secret.jpg").is_file(),
        "a symlink's target is never moved"
    );
    let failed = data.join("failed").join(code(30));
    let note = std::fs::read_to_string(failed.join("02-empty.jpg.loi.txt"))
        .expect("note beside the failed file");
    assert!(
        note.contains("Tệp rỗng") && note.contains("E_EMPTY") && note.contains(&code(30)),
        "{note}"
    );
    let note = std::fs::read_to_string(failed.join("06-encrypted.pdf.loi.txt")).unwrap();
    assert!(note.contains("mật khẩu"), "{note}");
    assert!(
        failed.join("05-link.jpg.loi.txt").is_file(),
        "the symlink is refused with a note"
    );
    assert!(
        w.log().contains(&format!("Hồ sơ {}", code(30))),
        "operator log names the dossier:\n{}",
        w.log()
    );
    // The folder symlink is moved out as a link, with its note; what it points to stays.
    let link = data.join("failed").join(code(31));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(data
        .join("failed")
        .join(format!("{}.loi.txt", code(31)))
        .is_file());
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM failures WHERE error_code = 'E_SYMLINK'"
        ),
        2
    );
    assert_accounted(&data, &good, &bad);

    // A fixed file put back is processed.
    std::fs::create_dir_all(inbox.path().join(code(30))).unwrap();
    std::fs::copy(
        &slips()[203],
        inbox.path().join(code(30)).join("02-empty.jpg"),
    )
    .unwrap();
    good.push(sha(&slips()[203]));
    wait_for(&w, Duration::from_secs(60), "the fixed file", || {
        settled(inbox.path(), &data)
    });

    // Status tells the truth while the watcher runs.
    let st = sohoa(&["status", "--data-dir", data.to_str().unwrap(), "--json"]);
    assert_eq!(st.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&st)).unwrap();
    assert_eq!(v["watcher_running"], true);
    let ib = &v["inboxes"][0];
    assert_eq!(
        (
            ib["mode"].as_str(),
            ib["waiting"].as_u64(),
            ib["in_progress"].as_u64()
        ),
        (Some("events"), Some(0), Some(0))
    );
    assert!(ib["done_today"].as_u64().unwrap() >= 20, "{ib}");
    assert!(
        ib["done_with_failures_today"].as_u64().unwrap() >= 1,
        "{ib}"
    );
    assert!(v["recent_failures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["error_code"] == "E_ENCRYPTED"));

    // SIGTERM: drains and exits 0; then status says no watcher (exit 8).
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    assert_accounted(&data, &good, &bad);
    let st = sohoa(&["status", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(st.status.code(), Some(8));
    assert!(stdout(&st).contains("KHÔNG chạy"), "{}", stdout(&st));
}

#[test]
fn a_polled_inbox_never_reads_a_file_still_being_written() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    let w = Watch::start(inbox.path(), &data, &["--settle", "2", "--poll", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("quét định kỳ")
    });

    // A scanner writes a file in chunks over about 4 seconds.
    let src = std::fs::read(&slips()[210]).unwrap();
    let d = inbox.path().join(code(1));
    std::fs::create_dir_all(&d).unwrap();
    let mut f = std::fs::File::create(d.join("don.jpg")).unwrap();
    for chunk in src.chunks(src.len() / 10 + 1) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(400));
    }
    drop(f);
    // A partial file under a temporary name is never read or moved.
    std::fs::write(d.join("trang-2.jpg.part"), &src[..src.len() / 2]).unwrap();
    wait_for(&w, Duration::from_secs(60), "the slow file", || {
        !d.join("don.jpg").exists()
    });
    assert_eq!(
        count(&data, "SELECT COUNT(*) FROM failures"),
        0,
        "read early:\n{}",
        w.log()
    );
    let input: String = rusqlite::Connection::open(data.join("sohoa.db"))
        .unwrap()
        .query_row("SELECT sha256 FROM input_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(input, sha(&slips()[210]), "the whole file was read");
    assert!(d.join("trang-2.jpg.part").is_file());

    // The marker takes a folder at once, long before a 300 s settle.
    drop(w);
    let w = Watch::start(inbox.path(), &data, &["--settle", "300", "--poll", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    let d2 = inbox.path().join(code(2));
    std::fs::create_dir_all(&d2).unwrap();
    std::fs::copy(&slips()[211], d2.join("don.jpg")).unwrap();
    std::fs::write(d2.join("XONG"), b"").unwrap();
    wait_for(&w, Duration::from_secs(120), "the marked folder", || {
        !d2.exists()
    });

    // Pages of a folder document scanned after it was taken are kept beside
    // it, never replacing it.
    let pages = inbox.path().join(code(3)).join("03-giay-to");
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::copy(&slips()[212], pages.join("trang-1.jpg")).unwrap();
    std::fs::copy(&slips()[213], pages.join("trang-2.jpg")).unwrap();
    std::fs::write(inbox.path().join(code(3)).join("XONG"), b"").unwrap();
    wait_for(&w, Duration::from_secs(20), "the folder document", || {
        !pages.exists()
    });
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::copy(&slips()[214], pages.join("trang-3.jpg")).unwrap();
    std::fs::write(inbox.path().join(code(3)).join("XONG"), b"").unwrap();
    wait_for(&w, Duration::from_secs(20), "the added page", || {
        !pages.exists()
    });
    let db = rusqlite::Connection::open(data.join("sohoa.db")).unwrap();
    let docs: String = db
        .query_row(
            "SELECT group_concat(x, ',') FROM (SELECT name || ':' || page_count || ':' || current AS x
               FROM documents WHERE name LIKE '03-giay-to%' ORDER BY name)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(docs, "03-giay-to:2:1,03-giay-to (2):1:1");
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    crate::pdfa::assert_archive_is_pdfa(&data);
}

/// A bad file goes to failed/ with its note; once the operator puts the fixed
/// file back and it goes through, the old copy and its note leave failed/
/// for failed/da-xu-ly/<date>/ (kept, not deleted), so failed/ holds only
/// what is still to fix.
#[test]
fn a_fixed_file_takes_its_failed_copy_out_of_failed() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    let w = Watch::start(inbox.path(), &data, &["--settle", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    // The folder arrives whole (made beside the inbox, then moved in).
    let staging = tempfile::tempdir().unwrap();
    let made = staging.path().join(code(7));
    std::fs::create_dir_all(&made).unwrap();
    std::fs::write(made.join("01-don.jpg"), b"not a jpeg at all").unwrap();
    std::fs::copy(&slips()[215], made.join("02-to-khai.jpg")).unwrap();
    let d = inbox.path().join(code(7));
    std::fs::rename(&made, &d).unwrap();
    let failed = data.join("failed").join(code(7));
    wait_for(
        &w,
        Duration::from_secs(60),
        "the bad file in failed/",
        || failed.join("01-don.jpg.loi.txt").exists() && !d.exists(),
    );
    // Fixed and put back.
    std::fs::create_dir_all(&made).unwrap();
    std::fs::copy(&slips()[216], made.join("01-don.jpg")).unwrap();
    std::fs::rename(&made, &d).unwrap();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let done = data.join("failed/da-xu-ly").join(&today).join(code(7));
    wait_for(
        &w,
        Duration::from_secs(60),
        "the old copy out of failed/",
        || done.join("01-don.jpg.loi.txt").exists(),
    );
    assert_eq!(
        std::fs::read(done.join("01-don.jpg")).unwrap(),
        b"not a jpeg at all"
    );
    assert!(!failed.exists(), "nothing left to fix for this dossier");
    assert_eq!(count(&data, "SELECT COUNT(*) FROM documents"), 2);
    assert!(
        w.log().contains("Đã chuyển 1 tệp lỗi cũ nay đã xử lý xong"),
        "{}",
        w.log()
    );
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    crate::pdfa::assert_archive_is_pdfa(&data);
}

/// A watcher killed after writing its moves down and before making them
/// (the state is made here in the records, as the kill leaves it): the next
/// start makes the moves and clears the emptied dossier folder, which would
/// otherwise sit in the inbox for ever, taken by nobody.
#[test]
fn moves_finished_after_a_kill_leave_no_empty_folder_behind() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    super::harness::import_units(&data); // creates the records
    let folder = inbox.path().join(code(40));
    std::fs::create_dir_all(folder.join("03-so-do")).unwrap();
    let (src, dst) = (
        folder.join("03-so-do/trang-1.jpg"),
        data.join("processed/2026-12-01")
            .join(code(40))
            .join("03-so-do/trang-1.jpg"),
    );
    std::fs::copy(&slips()[218], &src).unwrap();
    std::fs::write(folder.join("Thumbs.db"), b"junk").unwrap();
    {
        let db = rusqlite::Connection::open(data.join("sohoa.db")).unwrap();
        db.execute(
            "INSERT INTO watch_jobs (inbox, folder, dossier_code, state, started_at)
             VALUES (?1, ?2, ?2, 'in_progress', '2026-12-01T10:00:00Z')",
            (inbox.path().to_str().unwrap(), code(40)),
        )
        .unwrap();
        db.execute(
            "INSERT INTO watch_moves (job_id, src, dst) VALUES (last_insert_rowid(), ?1, ?2)",
            (src.to_str().unwrap(), dst.to_str().unwrap()),
        )
        .unwrap();
    }
    let w = Watch::start(inbox.path(), &data, &["--settle", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    assert!(w.log().contains("hoàn tất 1 lần chuyển tệp"), "{}", w.log());
    assert!(dst.exists(), "the move was not made");
    assert!(!folder.exists(), "the emptied folder was left in the inbox");
    assert_eq!(w.term(Duration::from_secs(30)), 0);
}

/// A kill between writing a document's PDF and committing its record leaves
/// a PDF no record points at: the next start removes it (the scans are still
/// in the inbox) and the document is made once, under its own name.
#[test]
fn a_pdf_a_kill_left_unrecorded_is_removed_at_the_next_start() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    super::harness::import_units(&data); // creates the records
    let folder = inbox.path().join(code(41));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(&slips()[223], folder.join("01-don.jpg")).unwrap();
    let dossier_dir = data.join("archive/000.00.18.H44/2023").join(code(41));
    let orphan = dossier_dir.join("01-don.pdf");
    std::fs::create_dir_all(&dossier_dir).unwrap();
    std::fs::write(&orphan, b"%PDF-1.7 cut short").unwrap();
    // Another dossier's file, and one not a PDF, are not the cut job's.
    let other = data.join("archive/000.00.18.H44/2023").join(code(42));
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("01-don.pdf"), b"%PDF-1.7").unwrap();
    std::fs::write(dossier_dir.join("ghi-chu.txt"), b"x").unwrap();
    rusqlite::Connection::open(data.join("sohoa.db"))
        .unwrap()
        .execute(
            "INSERT INTO watch_jobs (inbox, folder, dossier_code, state, started_at)
             VALUES (?1, ?2, ?2, 'in_progress', '2026-12-01T10:00:00Z')",
            (inbox.path().to_str().unwrap(), code(41)),
        )
        .unwrap();
    let w = Watch::start(inbox.path(), &data, &["--settle", "0.5"]);
    wait_for(&w, Duration::from_secs(90), "the dossier", || {
        settled(inbox.path(), &data)
    });
    assert!(
        w.log().contains("xóa 1 tệp tạm hoặc tệp PDF dở dang"),
        "{}",
        w.log()
    );
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    let recorded: Vec<String> = {
        let db = rusqlite::Connection::open(data.join("sohoa.db")).unwrap();
        let mut st = db.prepare("SELECT archive_path FROM documents").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let made = format!("archive/000.00.18.H44/2023/{}/01-don.pdf", code(41));
    assert_eq!(recorded, std::slice::from_ref(&made));
    assert!(
        std::fs::read(data.join(&made)).unwrap().len() > 1000,
        "the new PDF"
    );
    assert!(other.join("01-don.pdf").is_file() && dossier_dir.join("ghi-chu.txt").is_file());
}

/// `sohoa status` names the folders waiting, and counts as finished today
/// only dossiers something was archived from: a loose file or a refused
/// folder is said apart. Its times read as the watch log's do.
#[test]
fn status_names_what_waits_and_counts_only_dossiers_as_done() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    let d = data.to_str().unwrap();
    let w = Watch::start(inbox.path(), &data, &["--settle", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    let staging = tempfile::tempdir().unwrap();
    for (folder, slip) in [(code(50), 219), ("ho so sai ma".to_string(), 220)] {
        let made = staging.path().join(&folder);
        std::fs::create_dir_all(&made).unwrap();
        std::fs::copy(&slips()[slip], made.join("01-don.jpg")).unwrap();
        std::fs::rename(&made, inbox.path().join(&folder)).unwrap();
    }
    std::fs::copy(&slips()[221], inbox.path().join("le.jpg")).unwrap();
    wait_for(&w, Duration::from_secs(90), "the inbox to empty", || {
        std::fs::read_dir(inbox.path()).unwrap().count() == 0
    });
    assert_eq!(w.term(Duration::from_secs(30)), 0);

    // Folders that wait (a settle time nobody reaches) are named.
    let w = Watch::start(inbox.path(), &data, &["--settle", "600"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().matches("Bắt đầu theo dõi").count() >= 1
    });
    for n in [52, 51] {
        std::fs::create_dir_all(inbox.path().join(code(n))).unwrap();
        std::fs::copy(&slips()[222], inbox.path().join(code(n)).join("01-don.jpg")).unwrap();
    }
    let st = sohoa(&["status", "--data-dir", d]);
    assert_eq!(st.status.code(), Some(0), "{}", super::harness::stderr(&st));
    let text = stdout(&st);
    assert!(
        text.contains(&format!("Chờ xử lý: 2 — {}, {}", code(51), code(52))),
        "{text}"
    );
    assert!(text.contains("Đang xử lý: 0\n"), "{text}");
    assert!(
        text.contains("Hôm nay: xong 1 hồ sơ; 2 mục không xử lý được"),
        "{text}"
    );
    assert!(!text.contains("Hộp thư"), "one word for the inbox: {text}");
    // Local times as dd/mm/yyyy, in status and in the watch log alike.
    let today = chrono::Local::now().format("%d/%m/%Y").to_string();
    assert!(text.contains(&format!("lần quét cuối {today} ")), "{text}");
    assert!(w.log().starts_with(&today), "{}", w.log());
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&sohoa(&["status", "--data-dir", d, "--json"]))).unwrap();
    let ib = &v["inboxes"][0];
    assert_eq!(
        (&ib["done_today"], &ib["refused_today"], &ib["waiting"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(2)
        ),
        "{ib}"
    );
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    crate::pdfa::assert_archive_is_pdfa(&data);
}

/// With a unit tree imported, a folder whose code names a unit the tree does
/// not have goes to failed/ whole with a note naming the closest units; an
/// inbox whose config accepts unknown units archives it.
#[test]
fn a_mistyped_unit_goes_to_failed_unless_the_inbox_accepts_it() {
    let (strict, open, data) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let data = data.path().join("data");
    super::harness::import_units(&data);
    let config = data.with_extension("toml");
    std::fs::write(
        &config,
        format!(
            "[[inbox]]\npath = {:?}\n\n[[inbox]]\npath = {:?}\naccept_unknown_units = true\n",
            strict.path(),
            open.path()
        ),
    )
    .unwrap();
    let w = Watch::start_with_config(&config, &data, &["--settle", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    let (typo, accepted) = ("000.99.18.H44-231201-0001", "000.99.18.H44-231201-0002");
    for (inbox, code) in [(strict.path(), typo), (open.path(), accepted)] {
        let staging = tempfile::tempdir().unwrap();
        let made = staging.path().join(code);
        std::fs::create_dir_all(&made).unwrap();
        std::fs::copy(&slips()[217], made.join("01-don.jpg")).unwrap();
        std::fs::rename(&made, inbox.join(code)).unwrap();
    }
    let note = data.join("failed").join(typo).join("01-don.jpg.loi.txt");
    wait_for(&w, Duration::from_secs(90), "both folders taken", || {
        note.exists() && !strict.path().join(typo).exists() && !open.path().join(accepted).exists()
    });
    let note = std::fs::read_to_string(&note).unwrap();
    assert!(note.contains("E_UNKNOWN_UNIT"), "{note}");
    assert!(
        note.contains("đơn vị gần giống: 000.09.18.H44 – "),
        "{note}"
    );
    assert!(note.contains("accept_unknown_units = true"), "{note}");
    assert_eq!(
        count(
            &data,
            &format!("SELECT COUNT(*) FROM documents d JOIN dossiers s ON s.id = d.dossier_id WHERE s.code = '{accepted}'")
        ),
        1
    );
    assert_eq!(count(&data, "SELECT COUNT(*) FROM documents"), 1);
    assert_eq!(w.term(Duration::from_secs(30)), 0);
    crate::pdfa::assert_archive_is_pdfa(&data);
}

#[test]
fn ten_kills_then_a_restart_account_for_every_input_exactly_once() {
    let (inbox, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = data.path().join("data");
    let bad_src = fixtures()
        .root
        .join("bad/000.00.18.H44-230401-0001/03-truncated.jpg");
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for n in 1..=30 {
        let d = inbox.path().join(code(n));
        std::fs::create_dir_all(&d).unwrap();
        for k in 0..2 {
            let slip = &slips()[(n - 1) * 2 + k];
            std::fs::copy(slip, d.join(format!("{k:02}.jpg"))).unwrap();
            good.push(sha(slip));
        }
        // A folder component of two pages: moved as a whole, never half.
        let pages = d.join("03-giay-to");
        std::fs::create_dir_all(&pages).unwrap();
        for (k, slip) in slips()[100 + 2 * n..102 + 2 * n].iter().enumerate() {
            std::fs::copy(slip, pages.join(format!("trang-{}.jpg", k + 1))).unwrap();
        }
        if n % 5 == 0 {
            std::fs::copy(&bad_src, d.join("09-hong.jpg")).unwrap();
            bad.push(sha(&bad_src));
        }
    }
    let folder_pages: Vec<String> = (1..=30)
        .flat_map(|n| slips()[100 + 2 * n..102 + 2 * n].iter().map(|p| sha(p)))
        .collect();
    // The same truncated file in six dossiers: one hash, six copies.
    bad.dedup();

    // Each life ends at an event of the watcher's work, then a random delay,
    // so kills land at different points every run whatever the machine's
    // load: just after it started (while planning), once a document was
    // committed (while moving its inputs or writing the next), while a job
    // is open (writing PDFs, committing). Every other run polls instead of
    // using events: both modes recover.
    let mut seed = rand_u64();
    let mut mid_job = 0;
    for k in 0..10 {
        if inbox_files(inbox.path()) == 0 {
            break;
        }
        let mode: &[&str] = if k % 2 == 0 {
            &["--settle", "0.3"]
        } else {
            &["--settle", "0.3", "--poll", "0.3"]
        };
        let w = Watch::start(inbox.path(), &data, mode);
        wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
            w.log().contains("Bắt đầu theo dõi")
        });
        let before = count(&data, "SELECT COUNT(*) FROM documents");
        let open_jobs = "SELECT COUNT(*) FROM watch_jobs WHERE state = 'in_progress'";
        match k % 3 {
            0 => {}
            1 => wait_for(&w, Duration::from_secs(120), "a document", || {
                count(&data, "SELECT COUNT(*) FROM documents") > before
                    || inbox_files(inbox.path()) == 0
            }),
            _ => wait_for(&w, Duration::from_secs(120), "a job", || {
                count(&data, open_jobs) > 0 || inbox_files(inbox.path()) == 0
            }),
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis((seed >> 33) % 700));
        w.kill9();
        // A job left open is one the kill cut (the next start interrupts it).
        if count(&data, open_jobs) > 0 {
            mid_job += 1;
        }
    }
    assert!(
        mid_job >= 3,
        "only {mid_job} kills landed in the middle of a job: the scenario did not happen"
    );
    let w = Watch::start(inbox.path(), &data, &["--settle", "0.3", "--poll", "0.5"]);
    wait_for(&w, Duration::from_secs(60), "the watcher to start", || {
        w.log().contains("Bắt đầu theo dõi")
    });
    wait_for(
        &w,
        Duration::from_secs(240),
        "the restart to finish",
        || settled(inbox.path(), &data),
    );
    assert_eq!(w.term(Duration::from_secs(30)), 0);

    // Each folder component is one document holding both pages.
    let docs = count(
        &data,
        "SELECT COUNT(*) FROM documents WHERE name = '03-giay-to' AND page_count = 2",
    );
    assert_eq!(docs, 30);
    let w = whereabouts(&data);
    for h in &good {
        assert_eq!(w.get(h), Some(&(1, 1, 0)), "good input {h}");
    }
    for h in &folder_pages {
        assert_eq!(w.get(h), Some(&(1, 1, 0)), "page of a folder component {h}");
    }
    assert_eq!(
        w.get(&bad[0]),
        Some(&(0, 0, 6)),
        "the truncated file, once per dossier, in failed/"
    );
    assert_eq!(
        count(&data, "SELECT COUNT(*) FROM documents") as usize,
        good.len() + 30
    );
    assert_eq!(
        tree_hashes(&data.join("archive")).len(),
        good.len() + 30,
        "no orphan or temporary file"
    );
    assert_eq!(count(&data, "SELECT COUNT(*) FROM watch_moves"), 0);
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM watch_jobs WHERE state = 'in_progress'"
        ),
        0
    );
    crate::pdfa::assert_archive_is_pdfa(&data);
}
