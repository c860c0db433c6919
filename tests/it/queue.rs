//! Three `sohoa batch` workers share one PostgreSQL database and one archive
//! over 60 dossiers; one is killed while it holds dossiers. Every document is
//! made exactly once: the dead worker's dossiers are taken over when its
//! lease runs out, and what it had already recorded is not made again.

use crate::harness::{files_under, postgres_url, slips, wait_within, Killed, CHILD_LIMIT};
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
    // The archive holds exactly the recorded PDFs.
    let mut pdfs = Vec::new();
    for e in walkdir::WalkDir::new(data.path().join("archive")) {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "pdf") {
            pdfs.push(
                e.path()
                    .strip_prefix(data.path())
                    .unwrap()
                    .display()
                    .to_string(),
            );
        }
    }
    pdfs.sort();
    let mut recorded: Vec<String> = db
        .query("SELECT archive_path FROM documents", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    recorded.sort();
    assert_eq!(pdfs, recorded);
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
