//! Command-line contract: exit codes, `dossier show`, `report`, `config`.

use crate::harness::*;

#[test]
fn missing_inbox_is_a_usage_error_in_vietnamese() {
    let data = tempfile::tempdir().unwrap();
    let o = sohoa(&[
        "batch",
        "/nonexistent/inbox",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Không tìm thấy thư mục tiếp nhận"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_ocr_language_exits_3_and_says_how_to_install_it() {
    let data = tempfile::tempdir().unwrap();
    let inbox = fixtures().root.join("good");
    let o = sohoa(&[
        "batch",
        inbox.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "--languages",
        "xyz",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("apt-get install"), "{}", stderr(&o));
}

#[test]
fn dossier_show_lists_documents_flags_and_unknown_dossier_exits_6() {
    let run = good_run();
    let data = run.data.path().to_str().unwrap();
    let o = sohoa(&[
        "dossier",
        "show",
        "000.20.18.H44-230405-0013",
        "--data-dir",
        data,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("Hồ sơ 000.20.18.H44-230405-0013"), "{text}");
    assert!(text.contains("Ngày tiếp nhận: 05/04/2023"), "{text}");
    assert!(text.contains("trang trắng"), "{text}");
    assert!(text.contains("dưới 200 dpi"), "{text}");
    assert!(text.contains("không phải ảnh màu"), "{text}");
    // What a new operator asked for: the unit's name, a verdict, confidence in
    // per cent, sizes in KB/MB, and no "xoay 0°".
    assert!(
        text.contains("Đơn vị: 000.20.18.H44 – UBND thị trấn Đồng Lê"),
        "{text}"
    );
    assert!(
        text.contains("Kết luận: đạt (đã số hóa theo QĐ 766/QĐ-TTg)"),
        "{text}"
    );
    assert!(
        text.contains("độ tin cậy trung bình") && text.contains("%\n"),
        "{text}"
    );
    assert!(text.contains(" KB, ") || text.contains(" MB, "), "{text}");
    assert!(
        text.contains("      Chữ ký số: chưa ký số\n"),
        "a document not yet signed says so: {text}"
    );
    assert!(
        !text.contains("xoay 0°") && !text.contains(" byte,"),
        "{text}"
    );
    let o = sohoa(&[
        "dossier",
        "show",
        "000.20.18.H44-230405-9999",
        "--data-dir",
        data,
    ]);
    assert_eq!(o.status.code(), Some(6));
}

#[test]
fn report_counts_digitized_dossiers_per_unit_in_vietnamese_format() {
    let run = good_run();
    let data = run.data.path().to_str().unwrap();
    // No register imported: every dossier counts by the date in its code, levels from the
    // shipped unit tree (config/units.toml).
    let o = sohoa(&["report", "--data-dir", data]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("\nCấp huyện: số hóa 2/2 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    assert!(
        text.contains("\nCấp xã: số hóa 1/1 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    assert!(
        text.contains("\nTổng cộng: số hóa 3/3 hồ sơ, đạt 100,00%;"),
        "{text}"
    );
    let o = sohoa(&["report", "--data-dir", data, "--by", "unit"]);
    let text = stdout(&o);
    assert!(
        text.contains("\n  UBND huyện Tuyên Hóa (000.00.18.H44): số hóa 3/3 hồ sơ"),
        "the district line includes its communes: {text}"
    );
    assert!(
        text.contains("\n    UBND thị trấn Đồng Lê (000.20.18.H44): số hóa 1/1 hồ sơ"),
        "{text}"
    );
    let o = sohoa(&["report", "--data-dir", data, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"]["indicators"][0]["numerator"], 3);
    assert_eq!(v["total"]["indicators"][0]["percent"], "100,00%");
}

#[test]
fn config_prints_effective_settings_with_flags_applied() {
    let o = sohoa(&["config", "--data-dir", "/srv/sohoa"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("data_dir = \"/srv/sohoa\""), "{text}");
    assert!(text.contains("languages = \"vie+eng\""), "{text}");
    let o = sohoa(&[
        "config",
        "--database-url",
        "postgres://sohoa:bi-mat@db/sohoa",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains("database_url = \"postgres://sohoa:***@db/sohoa\""),
        "{text}"
    );
    assert!(!text.contains("bi-mat"), "{text}");
}

/// Runs `sohoa ARGS` with its stdout a pipe whose reader is already gone (as
/// in `sohoa … | head -0`), or with it thrown away (`None`); returns the exit
/// code and stderr.
fn with_reader_gone(args: &[&str], gone: bool) -> (Option<i32>, String) {
    let mut child = super::harness::command()
        .args(args)
        .stdout(if gone {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = super::harness::output_within_child(child, super::harness::CHILD_LIMIT);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every command ends quietly when its reader goes away: no panic, no error
/// text, the exit it would have had (read-only commands are run again with
/// stdout thrown away to compare).
#[test]
fn commands_end_quietly_when_the_reader_goes_away() {
    let scratch = tempfile::tempdir().unwrap();
    // A copy of the good run's records: the commands below write.
    let data = scratch.path().join("good");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(good_run().data.path())
        .arg(&data)
        .status()
        .unwrap();
    assert!(cp.success());
    let data = data.to_str().unwrap();
    let inbox = fixtures().root.join("good");
    let code = "000.20.18.H44-230405-0013";
    let register = scratch.path().join("so.csv");
    std::fs::write(
        &register,
        format!(
            "Mã hồ sơ,Mã đơn vị,Ngày tiếp nhận\n{code},{},14/03/2023\n",
            &code[..13]
        ),
    )
    .unwrap();
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/units.toml");
    let copy = scratch.path().join("data");
    for args in [
        vec!["batch", inbox.to_str().unwrap(), "--data-dir", data],
        vec!["report", "--year", "2023", "--data-dir", data],
        vec!["report", "missing", "--year", "2023", "--data-dir", data],
        vec!["dossier", "show", code, "--json", "--data-dir", data],
        vec!["units", "list", "--data-dir", data],
        vec!["status", "--data-dir", data],
        vec![
            "register",
            "import",
            register.to_str().unwrap(),
            "--data-dir",
            copy.to_str().unwrap(),
        ],
        vec![
            "units",
            "import",
            units.to_str().unwrap(),
            "--data-dir",
            copy.to_str().unwrap(),
        ],
        vec![
            "station",
            "add",
            "xa",
            "--unit",
            "000.20.18.H44",
            "--data-dir",
            copy.to_str().unwrap(),
        ],
    ] {
        let (exit, err) = with_reader_gone(&args, true);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "sohoa {args:?}: {err}"
        );
        assert!(exit.is_some(), "sohoa {args:?} was killed: {err}");
        let writes = matches!(args[0], "batch" | "register" | "station")
            || (args[0] == "units" && args[1] == "import");
        if writes {
            assert!(
                matches!(exit, Some(0 | 1)),
                "sohoa {args:?} exited {exit:?}: {err}"
            );
        } else {
            assert_eq!(
                exit,
                with_reader_gone(&args, false).0,
                "sohoa {args:?}: {err}"
            );
        }
    }
}

/// The unit tree in force lives with the records: a report run from `/`, or
/// from a folder whose own `config/units.toml` says something else, counts
/// the same as one run from anywhere; `units import` with no file reads the
/// configured `units_file`.
#[test]
fn reports_do_not_depend_on_the_folder_they_run_from() {
    let run = good_run();
    let data = run.data.path().to_str().unwrap();
    let from = |dir: &std::path::Path| {
        let o = super::harness::output_within(
            super::harness::command()
                .args(["--data-dir", data, "report", "--by", "unit"])
                .current_dir(dir),
            super::harness::CHILD_LIMIT,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let units = stdout(&sohoa(&["--data-dir", data, "units", "list"]));
    assert!(units.contains(" (hiệu lực đến 30/06/2025)"), "{units}");
    assert!(units.contains(" (hiệu lực từ 01/07/2025)"), "{units}");
    assert!(!units.contains("[ –") && !units.contains("– ]"), "{units}");
    let here = from(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(here.contains("UBND huyện Tuyên Hóa"), "{here}");
    assert!(!here.contains("Chưa xác định"), "{here}");
    assert_eq!(from(std::path::Path::new("/")), here);
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("config")).unwrap();
    std::fs::write(
        other.path().join("config/units.toml"),
        "[[unit]]\ncode = \"000.00.18.H44\"\nname = \"Khác\"\nlevel = \"xa\"\n",
    )
    .unwrap();
    assert_eq!(from(other.path()), here);

    // `units import` without a file takes units_file (here config/units.toml of that folder).
    let fresh = tempfile::tempdir().unwrap();
    let o = super::harness::output_within(
        super::harness::command()
            .args([
                "--data-dir",
                fresh.path().to_str().unwrap(),
                "units",
                "import",
            ])
            .current_dir(other.path()),
        super::harness::CHILD_LIMIT,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Đã nhập danh mục 1 đơn vị từ config/units.toml"),
        "{}",
        stdout(&o)
    );
}

/// A report's note is said once: in a text report on the screen, not again
/// on stderr; beside a CSV (which has no room for it), on stderr.
#[test]
fn a_report_note_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let report = |format: &str| {
        let o = super::harness::output_within(
            super::harness::command()
                .args([
                    "--data-dir",
                    "d",
                    "report",
                    "--year",
                    "2023",
                    "--format",
                    format,
                ])
                .current_dir(dir.path()),
            super::harness::CHILD_LIMIT,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (stdout(&o), stderr(&o))
    };
    let note = "Lưu ý: Dữ liệu này chưa có danh mục đơn vị";
    let (out, err) = report("text");
    assert!(
        out.contains(note) && !err.contains(note),
        "{out}\n---\n{err}"
    );
    let (out, err) = report("csv");
    assert!(
        !out.contains(note) && err.contains(note),
        "{out}\n---\n{err}"
    );
}

/// Help offers only what the command does, each default once, every option
/// and argument described; in Vietnamese by default, and so are usage errors;
/// in English as a setting.
#[test]
fn help_and_usage_errors_speak_the_operators_language() {
    let help = stdout(&sohoa(&["report", "missing", "--help"]));
    assert!(
        help.contains("Dạng danh sách: text (văn bản), csv, json [mặc định: text]"),
        "{help}"
    );
    assert!(!help.contains("html"), "{help}");
    assert_eq!(
        sohoa(&["report", "missing", "--format", "html"])
            .status
            .code(),
        Some(2)
    );
    let help = stdout(&sohoa(&["report", "--help"]));
    assert_eq!(help.matches("[mặc định: level]").count(), 1, "{help}");
    for path in [
        vec![],
        vec!["batch"],
        vec!["watch"],
        vec!["status"],
        vec!["dossier", "show"],
        vec!["report"],
        vec!["report", "missing"],
        vec!["register", "import"],
        vec!["units", "import"],
        vec!["units", "list"],
        vec!["serve"],
        vec!["sync"],
        vec!["station", "add"],
        vec!["station", "list"],
        vec!["station", "revoke"],
        vec!["config"],
    ] {
        let mut args = path.clone();
        args.push("--help");
        let o = sohoa(&args);
        assert_eq!(o.status.code(), Some(0), "{path:?}");
        let help = stdout(&o);
        assert!(help.contains("Cách dùng: sohoa"), "{help}");
        for english in [
            "Usage:",
            "Options:",
            "Arguments:",
            "Print help",
            "[default:",
        ] {
            assert!(!help.contains(english), "{english:?} in {path:?}:\n{help}");
        }
        // Each option or argument line: the name, then a description.
        for line in help.lines().filter(|l| {
            let t = l.trim_start();
            l.starts_with("  ") && (t.starts_with('-') || t.starts_with('<') || t.starts_with('['))
        }) {
            let described = line
                .trim()
                .split_once("  ")
                .is_some_and(|(_, d)| !d.trim().is_empty());
            assert!(described, "no description in {path:?}: {line:?}");
        }
    }
    let o = sohoa(&["report", "--yaer", "2023"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .starts_with("sohoa: lệnh này không có tùy chọn --yaer; có phải ý bạn là --year?"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("Xem thêm: sohoa report --help"),
        "{}",
        stderr(&o)
    );
    let o = sohoa(&["help", "dossier", "show"]);
    assert!(
        stdout(&o).contains("Mã hồ sơ, ví dụ 000.00.18.H44-230314-0027"),
        "{}",
        stdout(&o)
    );
    let help = stdout(&sohoa(&["--ui-language", "en", "report", "--help"]));
    let format = help.lines().find(|l| l.contains("--format")).unwrap();
    assert!(format.contains("How the report is written"), "{help}");
    assert!(help.contains("Options:"), "{help}");
}
