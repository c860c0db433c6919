//! Three `sohoa batch` workers share one PostgreSQL database and one archive
//! over 60 dossiers; one is killed while it holds dossiers. Every document is
//! made exactly once: the dead worker's dossiers are taken over when its
//! lease runs out, and what it had already recorded is not made again. A
//! worker that takes a dossier over removes the copy its former holder wrote
//! and never recorded; a former holder still running records nothing.

use crate::harness::{
    cpu_seconds, files_under, postgres_url, slips, wait_within, Killed, CHILD_LIMIT,
};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn worker(data: &Path, config: &Path, url: &str, inbox: &Path) -> Killed {
    Killed::new(
        super::harness::command()
            .args([
                "--config",
                config.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ])
            .args([
                "--database-url",
                url,
                "batch",
                inbox.to_str().unwrap(),
                "--jobs",
                "1",
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a worker"),
    )
}

fn count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).expect(sql).get(0)
}

fn count_with(db: &mut postgres::Client, sql: &str, arg: &str) -> i64 {
    db.query_one(sql, &[&arg]).expect(sql).get(0)
}

#[test]
fn three_workers_one_killed_every_document_once() {
    let inbox = tempfile::tempdir().unwrap();
    for (i, slip) in slips()[..60].iter().enumerate() {
        let d = inbox
            .path()
            .join(format!("000.20.18.H44-230501-{:04}", i + 1));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(slip, d.join("01-phieu.jpg")).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("sohoa.toml");
    // A lease long enough that a loaded machine never starves a live worker's
    // heartbeat (a third of it) past it; the killed worker's runs out meanwhile.
    std::fs::write(&config, "[queue]\nlease_seconds = 12\n").unwrap();
    let url = postgres_url();
    // The schema, before the workers race to make it (they would wait for each other).
    sohoa::records::Records::connect(&url).unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();

    let mut workers: Vec<Killed> = (0..3)
        .map(|_| worker(data.path(), &config, &url, inbox.path()))
        .collect();
    // Kill the second worker while it holds dossiers, after some work is done. A kill
    // can land just after it finished its dossiers and before it claimed more; then a
    // new worker takes its place and is killed in turn.
    let mut held_at_death: Vec<i64> = Vec::new();
    for attempt in 0..5 {
        if attempt > 0 {
            workers[1] = worker(data.path(), &config, &url, inbox.path());
        }
        let victim = format!("%:{}", workers[1].id());
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                Instant::now() < deadline,
                "the second worker never held a dossier"
            );
            let held = count_with(
                &mut db,
                "SELECT COUNT(*) FROM work_queue WHERE state = 'claimed' AND worker LIKE $1",
                &victim,
            );
            let done = count(
                &mut db,
                "SELECT COUNT(*) FROM work_queue WHERE state = 'done'",
            );
            if held > 0 && done >= 5 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        workers[1].kill().unwrap();
        wait_within(&mut workers[1], CHILD_LIMIT, "a killed worker");
        held_at_death = db
            .query(
                "SELECT id FROM work_queue WHERE state = 'claimed' AND worker LIKE $1",
                &[&victim],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !held_at_death.is_empty() {
            break;
        }
    }
    assert!(
        !held_at_death.is_empty(),
        "no worker was killed while holding a dossier"
    );
    for (i, w) in workers.iter_mut().enumerate().filter(|(i, _)| *i != 1) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = w.try_wait().unwrap() {
                assert!(status.success(), "worker {i} exited with {status}");
                break;
            }
            assert!(Instant::now() < deadline, "worker {i} did not finish");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM dossiers"), 60);
    assert_eq!(
        count(&mut db, "SELECT COUNT(*) FROM documents"),
        60,
        "one document per dossier"
    );
    assert_eq!(
        count(&mut db, "SELECT COUNT(*) FROM documents WHERE version > 1"),
        0,
        "nothing made twice"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM work_queue WHERE state = 'done'"
        ),
        60
    );
    assert!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM work_queue WHERE attempts > 1"
        ) >= 1,
        "the killed worker's dossier was taken over"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM failures"), 0);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM work_queue WHERE state IN ('queued', 'claimed')"
        ),
        0,
        "nothing left held by the killed watcher"
    );
    assert_eq!(archive_pdfs(data.path()), recorded_pdfs(&mut db));
}

/// The PDFs of the archive under `data`, relative to it, sorted.
fn archive_pdfs(data: &Path) -> Vec<String> {
    let mut pdfs: Vec<String> = walkdir::WalkDir::new(data.join("archive"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .map(|e| e.path().strip_prefix(data).unwrap().display().to_string())
        .collect();
    pdfs.sort();
    pdfs
}

/// The archive paths the records point at, sorted.
fn recorded_pdfs(db: &mut postgres::Client) -> Vec<String> {
    let mut recorded: Vec<String> = db
        .query("SELECT archive_path FROM documents", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    recorded.sort();
    recorded
}

/// One dossier of one 4-page component (`01-phieu/`, long enough that a
/// worker is still reading it when the test acts), data dir with a 2-second
/// lease, and a fresh database: (inbox, data, config, url).
fn one_slow_dossier() -> (
    tempfile::TempDir,
    tempfile::TempDir,
    std::path::PathBuf,
    String,
) {
    let inbox = tempfile::tempdir().unwrap();
    let pages = inbox.path().join("000.20.18.H44-230501-0001/01-phieu");
    std::fs::create_dir_all(&pages).unwrap();
    for (i, slip) in slips()[..4].iter().enumerate() {
        std::fs::copy(slip, pages.join(format!("{}.jpg", i + 1))).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("sohoa.toml");
    std::fs::write(&config, "[queue]\nlease_seconds = 2\n").unwrap();
    let url = postgres_url();
    sohoa::records::Records::connect(&url).unwrap();
    (inbox, data, config, url)
}

/// Waits until `w` holds the dossier and has spent a third of a CPU second
/// since: it is reading the pages (planned, nothing written yet).
fn reading(db: &mut postgres::Client, w: &Killed) {
    let me = format!("%:{}", w.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_with(
        db,
        "SELECT COUNT(*) FROM work_queue WHERE state = 'claimed' AND worker LIKE $1",
        &me,
    ) == 0
    {
        assert!(
            Instant::now() < deadline,
            "the worker never held the dossier"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let base = cpu_seconds(w.id());
    while cpu_seconds(w.id()) < base + 0.3 {
        assert!(
            Instant::now() < deadline,
            "the worker did not read its pages"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Nothing is recorded yet (the worker was cut while reading its pages).
fn nothing_recorded(db: &mut postgres::Client) {
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM documents"),
        0,
        "the worker finished its 4 pages before the test could act"
    );
}

const PHIEU: &str = "archive/000.20.18.H44/2023/000.20.18.H44-230501-0001/01-phieu.pdf";

/// A worker killed after it wrote its copy and before it recorded it leaves
/// a PDF no record points at. The worker that takes the dossier over when
/// the lease runs out removes it, and its own copy takes the name (rather
/// than going beside it as `01-phieu-2.pdf`).
#[test]
fn a_copy_a_killed_worker_left_unrecorded_goes_when_its_dossier_is_taken_over() {
    let (inbox, data, config, url) = one_slow_dossier();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut first = worker(data.path(), &config, &url, inbox.path());
    reading(&mut db, &first);
    first.kill().unwrap();
    wait_within(&mut first, CHILD_LIMIT, "a killed worker");
    nothing_recorded(&mut db);
    // What it leaves when the kill lands between the two steps.
    let orphan = data.path().join(PHIEU);
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"%PDF-1.7\n% written, never recorded\n").unwrap();

    let mut second = worker(data.path(), &config, &url, inbox.path());
    assert!(wait_within(&mut second, CHILD_LIMIT, "the second worker").success());
    assert_eq!(recorded_pdfs(&mut db), vec![PHIEU.to_string()]);
    assert_eq!(archive_pdfs(data.path()), vec![PHIEU.to_string()]);
    let pdf = std::fs::read(&orphan).unwrap();
    let sha: String = db
        .query_one("SELECT sha256 FROM documents", &[])
        .unwrap()
        .get(0);
    assert_eq!(sohoa::store::sha256_hex(&pdf), sha, "the recorded copy");
}

/// A worker stopped while it holds a dossier loses it when its lease runs
/// out; another worker makes the document. Resumed, the first records
/// nothing (no second version) and removes the copy it wrote, leaving the
/// other's in place.
#[test]
fn a_worker_that_lost_its_lease_records_nothing_and_keeps_no_copy() {
    let (inbox, data, config, url) = one_slow_dossier();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut first = worker(data.path(), &config, &url, inbox.path());
    reading(&mut db, &first);
    let pid = first.id() as i32;
    // SAFETY: a plain signal to a child this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    nothing_recorded(&mut db);

    let mut second = worker(data.path(), &config, &url, inbox.path());
    let done = wait_within(&mut second, CHILD_LIMIT, "the second worker");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    assert!(done.success());
    assert!(wait_within(&mut first, CHILD_LIMIT, "the resumed worker").success());

    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM work_queue WHERE attempts = 2"
        ),
        1,
        "the second worker took the dossier over"
    );
    assert_eq!(
        recorded_pdfs(&mut db),
        vec![PHIEU.to_string()],
        "one version"
    );
    assert_eq!(archive_pdfs(data.path()), vec![PHIEU.to_string()]);
}

#[test]
fn workers_starting_together_on_an_empty_database() {
    let url = postgres_url();
    let data = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..4)
        .map(|_| {
            super::harness::command()
                .args([
                    "--data-dir",
                    data.path().to_str().unwrap(),
                    "--database-url",
                    &url,
                    "report",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = super::harness::output_within_child(c, CHILD_LIMIT);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A watcher as machine `host`; its log is appended to `<data>/<host>.log`
/// (see `logs`).
fn watcher(host: &str, data: &Path, config: &Path, url: &str, inbox: &Path) -> Killed {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join(format!("{host}.log")))
        .expect("watcher log");
    Killed::new(
        super::harness::command()
            .args(["--config", config.to_str().unwrap()])
            .args(["--data-dir", data.to_str().unwrap(), "--database-url", url])
            .args(["watch", inbox.to_str().unwrap(), "--jobs", "1"])
            .env("SOHOA_HOST", host)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a watcher"),
    )
}

/// The logs of the data dir and what is left in the inbox, for a failure message.
fn logs(data: &Path, inbox: &Path) -> String {
    let mut out = String::from("left in the inbox:\n");
    for e in walkdir::WalkDir::new(inbox)
        .min_depth(1)
        .into_iter()
        .flatten()
    {
        out += &format!("  {}\n", e.path().display());
    }
    let mut logs: Vec<_> = std::fs::read_dir(data)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        out += &format!("--- {}\n{text}", log.display());
    }
    out
}

/// Waits until `log` says the watcher started; panics with the logs if it
/// ended or did not within the deadline.
fn started(w: &mut Child, log: &Path, data: &Path, inbox: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("Bắt đầu theo dõi")
    {
        assert!(
            w.try_wait().unwrap().is_none(),
            "a watcher died at start\n{}",
            logs(data, inbox)
        );
        assert!(
            Instant::now() < deadline,
            "a watcher did not start\n{}",
            logs(data, inbox)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Two machines (two host names) watch one inbox over one PostgreSQL database
/// and one data directory; one is killed mid-run and comes back. Every dossier
/// is made once and every scan moved to processed/ once.
#[test]
fn watchers_on_two_machines_share_an_inbox() {
    let inbox = tempfile::tempdir().unwrap();
    let staging = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("sohoa.toml");
    std::fs::write(
        &config,
        "[queue]\nlease_seconds = 12\n[watch]\nsettle_seconds = 0.5\nrescan_seconds = 2.0\n",
    )
    .unwrap();
    let url = postgres_url();
    sohoa::records::Records::connect(&url).unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let n = 30;
    let mut codes = Vec::new();
    for (i, slip) in slips()[160..160 + n].iter().enumerate() {
        let code = format!("000.21.18.H44-230601-{:04}", i + 1);
        let d = staging.path().join(&code);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(slip, d.join("01-phieu.jpg")).unwrap();
        codes.push(code);
    }
    let mut one = watcher("may-1", data.path(), &config, &url, inbox.path());
    let mut two = watcher("may-2", data.path(), &config, &url, inbox.path());
    // Each machine watches once: once may-2's watcher holds its lock (it said
    // it started), a second watcher on may-2 is refused.
    for (w, host) in [(&mut one, "may-1"), (&mut two, "may-2")] {
        let log = data.path().join(format!("{host}.log"));
        started(w, &log, data.path(), inbox.path());
    }
    let mut third = super::harness::command()
        .args(["--config", config.to_str().unwrap()])
        .args([
            "--data-dir",
            data.path().to_str().unwrap(),
            "--database-url",
            &url,
        ])
        .args(["watch", inbox.path().to_str().unwrap()])
        .env("SOHOA_HOST", "may-2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Refused at once; never left running should it not be.
    let status = wait_within(
        &mut third,
        Duration::from_secs(60),
        "a second watcher on may-2",
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut third.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(7), "{err}");
    for c in &codes {
        std::fs::rename(staging.path().join(c), inbox.path().join(c)).unwrap();
    }
    let wait = |db: &mut postgres::Client, what: &str, sql: &str, n: i64| {
        let deadline = Instant::now() + Duration::from_secs(180);
        while count(db, sql) < n {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n{}",
                logs(data.path(), inbox.path())
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait(
        &mut db,
        "some documents",
        "SELECT COUNT(*) FROM documents",
        6,
    );
    // Machine one dies and comes back.
    one.kill().unwrap();
    wait_within(&mut one, CHILD_LIMIT, "the killed watcher");
    one = watcher("may-1", data.path(), &config, &url, inbox.path());
    // A dossier whose job was cut by the kill after its document was recorded is
    // finished by the restarted watcher's recovery (its moves), not by a new job.
    wait(
        &mut db,
        "every dossier",
        "SELECT COUNT(*) FROM documents",
        n as i64,
    );
    let deadline = Instant::now() + Duration::from_secs(180);
    while std::fs::read_dir(inbox.path()).unwrap().count() > 0 {
        assert!(
            Instant::now() < deadline,
            "the inbox never emptied\n{}",
            logs(data.path(), inbox.path())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for w in [&mut one, &mut two] {
        let _ = Command::new("kill")
            .args(["-TERM", &w.id().to_string()])
            .status();
        assert!(wait_within(w, Duration::from_secs(120), "a watcher told to stop").success());
    }

    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), n as i64);
    assert_eq!(
        count(&mut db, "SELECT COUNT(*) FROM documents WHERE version > 1"),
        0,
        "nothing made twice"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM failures"), 0);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(DISTINCT host) FROM watch_jobs WHERE state = 'done'"
        ),
        2,
        "both machines took dossiers"
    );
    let processed: Vec<_> = files_under(&data.path().join("processed"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "01-phieu.jpg"))
        .collect();
    assert_eq!(processed.len(), n, "every scan moved once: {processed:?}");
    assert!(!data.path().join("failed").exists());
    let pdfs = files_under(&data.path().join("archive"));
    assert_eq!(
        pdfs.len(),
        n,
        "one PDF per dossier, no temporary files: {pdfs:?}"
    );
}

/// PostgreSQL goes away under a watcher (every connection cut, none allowed
/// for longer than the pool waits): the watcher says so, waits, and takes up
/// its work again when the database is back, scans dropped meanwhile
/// included. It never dies, and every document is made once.
#[test]
fn a_watcher_waits_out_a_database_outage() {
    let inbox = tempfile::tempdir().unwrap();
    let staging = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("sohoa.toml");
    std::fs::write(
        &config,
        "[watch]\nsettle_seconds = 0.5\nrescan_seconds = 2.0\n",
    )
    .unwrap();
    let url = postgres_url();
    sohoa::records::Records::connect(&url).unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut codes = Vec::new();
    for (i, slip) in slips()[200..206].iter().enumerate() {
        let code = format!("000.22.18.H44-230602-{:04}", i + 1);
        let d = staging.path().join(&code);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(slip, d.join("01-phieu.jpg")).unwrap();
        codes.push(code);
    }
    let log = data.path().join("watch.log");
    let mut w = super::harness::command()
        .args(["--config", config.to_str().unwrap()])
        .args([
            "--data-dir",
            data.path().to_str().unwrap(),
            "--database-url",
            &url,
        ])
        .args(["watch", inbox.path().to_str().unwrap(), "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let documents = |db: &mut postgres::Client, n: i64, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while count(db, "SELECT COUNT(*) FROM documents") < n {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n{}",
                logs(data.path(), inbox.path())
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let drop_in = |codes: &[String]| {
        for c in codes {
            std::fs::rename(staging.path().join(c), inbox.path().join(c)).unwrap();
        }
    };
    drop_in(&codes[..3]);
    documents(&mut db, 3, "the first three");

    // The outage: no new connection to this database, and every one cut, from
    // the cluster's own `postgres` database.
    let (base, name) = url.rsplit_once('/').unwrap();
    let mut admin =
        postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .unwrap();
    drop_in(&codes[3..]);
    // It noticed, said so, and keeps running.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("Mất kết nối tới cơ sở dữ liệu")
    {
        assert!(
            Instant::now() < deadline,
            "the watcher never noticed the outage\n{}",
            logs(data.path(), inbox.path())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        w.try_wait().unwrap().is_none(),
        "the watcher died in the outage\n{}",
        logs(data.path(), inbox.path())
    );
    admin
        .batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .unwrap();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    documents(&mut db, 6, "the three dropped during the outage");
    let deadline = Instant::now() + Duration::from_secs(180);
    while std::fs::read_dir(inbox.path()).unwrap().count() > 0 {
        assert!(
            Instant::now() < deadline,
            "the inbox never emptied\n{}",
            logs(data.path(), inbox.path())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &w.id().to_string()])
        .status();
    assert!(wait_within(&mut w, Duration::from_secs(120), "the watcher told to stop").success());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("Mất kết nối tới cơ sở dữ liệu; sohoa thử lại sau"),
        "{said}"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM documents"), 6);
    assert_eq!(
        count(&mut db, "SELECT COUNT(*) FROM documents WHERE version > 1"),
        0,
        "nothing made twice"
    );
    assert_eq!(count(&mut db, "SELECT COUNT(*) FROM failures"), 0);
    let processed = files_under(&data.path().join("processed"));
    assert_eq!(processed.len(), 6, "{processed:?}");
    assert_eq!(files_under(&data.path().join("archive")).len(), 6);
}
