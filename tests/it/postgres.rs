//! The same work on SQLite and on PostgreSQL (`--database-url`) gives the same
//! records: a register import, a batch over real scans, the report, the
//! missing list and a dossier record, compared field by field.

use crate::harness::{postgres_url, sohoa, stderr, stdout};
use std::path::Path;

fn run_all(data: &Path, db: &[&str], inbox: &Path) -> Vec<String> {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let register = samples.join("_register/so-tiep-nhan-2023.csv");
    let d = data.display().to_string();
    let with = |args: &[&str]| {
        let mut all: Vec<&str> = vec!["--data-dir", &d];
        all.extend_from_slice(db);
        all.extend_from_slice(args);
        let o = sohoa(&all);
        assert!(
            o.status.code() == Some(0),
            "sohoa {all:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    };
    with(&["register", "import", register.to_str().unwrap()]);
    with(&["batch", inbox.to_str().unwrap(), "--json"]);
    // Running again does no work on either store.
    let again = with(&["batch", inbox.to_str().unwrap(), "--json"]);
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["documents"], 0, "{again}");
    assert_eq!(again["skipped"], 3, "{again}");
    vec![
        with(&["report", "--year", "2023", "--format", "json"]),
        with(&[
            "report", "--year", "2023", "--by", "unit", "--format", "csv",
        ]),
        with(&["report", "missing", "--year", "2023"]),
        // The record, without what differs between two runs: times, the PDF's
        // digest (a PDF holds its creation time) and the document ids (given in
        // the order the parallel workers finish).
        with(&["dossier", "show", "000.20.18.H44-230322-0005", "--json"])
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                !l.contains("_at\"") && !l.starts_with("\"sha256\"") && !l.starts_with("\"id\"")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    ]
}

#[test]
fn postgres_records_equal_sqlite_records() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let inbox = tempfile::tempdir().unwrap();
    for d in ["000.00.18.H44-230320-0011", "000.20.18.H44-230322-0005"] {
        let to = inbox.path().join(d);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(samples.join(d)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    let lite = tempfile::tempdir().unwrap();
    let pg = tempfile::tempdir().unwrap();
    let url = postgres_url();
    let a = run_all(lite.path(), &[], inbox.path());
    let b = run_all(pg.path(), &["--database-url", &url], inbox.path());
    assert!(
        !pg.path().join("sohoa.db").exists(),
        "no SQLite file with --database-url"
    );
    assert!(a[0].contains("\"numerator\""), "{}", a[0]);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    for data in [lite.path(), pg.path()] {
        assert_eq!(crate::pdfa::assert_archive_is_pdfa(data), 3);
    }
}
