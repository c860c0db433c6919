//! `sohoa report`, `sohoa report missing`, `sohoa register import`,
//! `sohoa units import|list`: the register, the unit tree and what leaders read.

use super::{outln, print_out, say, CliError, CliResult, ExitCode, Outcome};
use crate::config::Settings;
use crate::format::{count, UiLanguage};
use crate::records::Records;
use crate::report::{self, By, Period, PeriodSpec, Request};
use crate::tabular::Table;
use crate::units::{self, Level, TreeProblem, UnitTree};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

mod import_problems;

/// Period options shared by `report` and `report missing` (by receipt date).
#[derive(Args, Debug, Clone, Default)]
pub struct PeriodArgs {
    /// A calendar year, e.g. 2023.
    #[arg(long)]
    pub year: Option<i32>,
    /// A quarter: 2023-2 or 2023-Q2.
    #[arg(long)]
    pub quarter: Option<String>,
    /// A month: 2023-03.
    #[arg(long)]
    pub month: Option<String>,
    /// First receipt day (dd/mm/yyyy or yyyy-mm-dd).
    #[arg(long)]
    pub from: Option<String>,
    /// Last receipt day (dd/mm/yyyy or yyyy-mm-dd).
    #[arg(long)]
    pub to: Option<String>,
    /// Only dossiers received by units of this level.
    #[arg(long, value_parser = ["tinh", "huyen", "xa"])]
    pub level: Option<String>,
    /// Only this unit and the units under it (unit code).
    #[arg(long)]
    pub unit: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Count as digitized only copies carrying the officer's valid digital
    /// signature (as `[report] signed_only = true`).
    #[arg(long)]
    pub signed_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByArg {
    Level,
    Unit,
    Procedure,
    Field,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Csv,
    Json,
    Html,
    Xlsx,
}

/// The forms of `report missing` (a list: no chart, no workbook yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Csv,
    Json,
}

fn open(settings: &Settings) -> Result<Records, CliError> {
    Records::open_configured(settings).map_err(|e| {
        CliError::data_dir(say(
            settings.ui_language,
            &format!(
                "Không mở được cơ sở dữ liệu ({e}). Hãy kiểm tra thư mục dữ liệu và quyền ghi."
            ),
            &format!(
                "Cannot open the database ({e}). Check the data directory and its permissions."
            ),
        ))
    })
}

/// A heading followed by the problems of a unit tree, one per line.
fn tree_problems(heading: String, problems: &[TreeProblem], lang: UiLanguage) -> String {
    let mut out = heading;
    for p in problems {
        out += &match (p.line, lang) {
            (Some(l), UiLanguage::Vi) => format!("\n  Dòng {l}: {}", p.message),
            (Some(l), UiLanguage::En) => format!("\n  Line {l}: {}", p.message),
            (None, _) => format!("\n  {}", p.message),
        };
    }
    out
}

/// The unit tree imported into the records (empty when none is: reports say
/// so). Never a file: the figures must not depend on the folder a command
/// runs from.
pub fn load_tree(settings: &Settings, records: &Records) -> Result<UnitTree, CliError> {
    let lang = settings.ui_language;
    let stored = records.units()?;
    if stored.is_empty() {
        return Ok(UnitTree::default());
    }
    UnitTree::new(stored, lang).map_err(|p| {
        let heading = say(
            lang,
            "Danh mục đơn vị trong cơ sở dữ liệu có lỗi:",
            "The unit tree in the database has errors:",
        );
        CliError::usage(tree_problems(heading, &p, lang))
    })
}

/// The unit tree where a command can do without it: a broken tree is said
/// (as a warning, the command goes on) and counts as none.
pub fn tree_or_warn(settings: &Settings, records: &Records) -> Option<UnitTree> {
    load_tree(settings, records)
        .map_err(|e| eprintln!("sohoa: {e}"))
        .ok()
}

/// The records and the unit tree reports use.
fn open_with_tree(settings: &Settings) -> Result<(Records, UnitTree), CliError> {
    let records = open(settings)?;
    let tree = load_tree(settings, &records)?;
    Ok((records, tree))
}

fn period(args: &PeriodArgs, lang: UiLanguage) -> Result<Period, CliError> {
    let spec = PeriodSpec {
        year: args.year,
        quarter: args.quarter.clone(),
        month: args.month.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
    };
    Period::resolve(&spec, lang).map_err(CliError::usage)
}

fn json_bytes(value: &impl serde::Serialize) -> Result<Vec<u8>, CliError> {
    let mut v = serde_json::to_vec_pretty(value)?;
    v.push(b'\n');
    Ok(v)
}

/// Writes `bytes` to `--output` or standard output.
fn emit(output: Option<&Path>, bytes: &[u8], lang: UiLanguage) -> CliResult {
    match output {
        Some(p) => {
            crate::store::write_atomic(p, bytes)?;
            eprintln!(
                "{}",
                say(
                    lang,
                    &format!("Đã ghi {}", p.display()),
                    &format!("Wrote {}", p.display())
                )
            );
        }
        None => print_out(bytes)?,
    }
    Ok(Outcome::Done)
}

fn request(
    settings: &Settings,
    args: &PeriodArgs,
    by: By,
    tree: &UnitTree,
) -> Result<Request, CliError> {
    let lang = settings.ui_language;
    if let Some(u) = &args.unit {
        if tree.is_empty() {
            return Err(CliError::not_found(say(
                lang,
                &format!("Dữ liệu này chưa có danh mục đơn vị nên chưa lọc được theo đơn vị {u}. Hãy nhập danh mục: sohoa units import TỆP (mẫu: config/units.toml)"),
                &format!("These records have no unit tree, so reports cannot be limited to unit {u}. Import one: sohoa units import FILE (sample: config/units.toml)"),
            )));
        }
        if !tree.knows(u) {
            return Err(CliError::not_found(say(
                lang,
                &format!("Không có đơn vị {u} trong danh mục đơn vị."),
                &format!("No unit {u} in the unit tree."),
            )));
        }
    }
    Ok(Request {
        period: period(args, lang)?,
        level: args.level.as_deref().and_then(Level::parse),
        by,
        unit: args.unit.clone(),
        signed_only: args.signed_only || settings.report.signed_only,
        lang,
    })
}

pub fn report(settings: &Settings, args: &PeriodArgs, by: ByArg, format: Format) -> CliResult {
    let lang = settings.ui_language;
    let (records, tree) = open_with_tree(settings)?;
    let by = match by {
        ByArg::Level => By::Level,
        ByArg::Unit => By::Unit,
        ByArg::Procedure => By::Procedure,
        ByArg::Field => By::Field,
        ByArg::Month => By::Month,
    };
    let req = request(settings, args, by, &tree)?;
    // The HTML form also draws the period by unit and by month.
    let made = if format == Format::Html {
        report::make_with_charts(&records, &tree, &req).map(|[main, units, months]| {
            let html = report::html::render(&main, &units, &months);
            (main, html)
        })
    } else {
        report::make(&records, &tree, &req).map(|main| (main, String::new()))
    };
    let (main, html) = made?;
    // Notes are in the report itself; they are said on stderr too when the
    // report goes somewhere the reader does not see now (a file, a pipe, CSV),
    // but not a second time under a text report on the screen.
    let shown_already = format == Format::Text && args.output.is_none();
    if format != Format::Json && !shown_already {
        for w in &main.warnings {
            eprintln!("{}{w}", say(lang, "Lưu ý: ", "Note: "));
        }
    }
    let bytes = match format {
        Format::Text => main.to_text().into_bytes(),
        Format::Csv => main.to_csv(),
        Format::Json => json_bytes(&main)?,
        Format::Html => html.into_bytes(),
        Format::Xlsx => {
            if args.output.is_none() && std::io::stdout().is_terminal() {
                return Err(CliError::usage(say(
                    lang,
                    "Hãy chỉ định tệp Excel cần ghi: --output bao-cao.xlsx",
                    "Name the Excel file to write: --output report.xlsx",
                )));
            }
            report::xlsx::render(&main).map_err(CliError::internal)?
        }
    };
    emit(args.output.as_deref(), &bytes, lang)
}

pub fn missing(settings: &Settings, args: &PeriodArgs, format: ListFormat) -> CliResult {
    let lang = settings.ui_language;
    let (records, tree) = open_with_tree(settings)?;
    let req = request(settings, args, By::Unit, &tree)?;
    let sel = report::selection(&req, &tree);
    let mut rows = records.missing(&sel)?;
    if let Some(level) = req.level {
        rows.retain(|d| {
            d.received_on
                .parse()
                .ok()
                .and_then(|day| tree.at(&d.unit_code, day))
                .is_some_and(|i| tree.unit(i).level == level)
        });
    }
    let m = report::missing_report(&req.period, &rows, &tree, req.signed_only, lang);
    let bytes = match format {
        ListFormat::Text => m.to_text().into_bytes(),
        ListFormat::Csv => m.to_csv(),
        ListFormat::Json => json_bytes(&m)?,
    };
    emit(args.output.as_deref(), &bytes, lang)
}

/// What `register import` prints with `--json`.
#[derive(serde::Serialize)]
struct ImportSummary<'a> {
    file: String,
    /// Data rows read (imported and refused).
    rows: usize,
    /// Rows imported, contradictory ones included.
    imported_rows: usize,
    imported: crate::records::ImportCounts,
    /// Refused rows per reason.
    refused: BTreeMap<crate::register::Refusal, usize>,
    /// Imported rows with contradictory flags, and rows per contradiction.
    contradictory_rows: usize,
    contradictions: BTreeMap<crate::register::Contradiction, usize>,
    /// The full list of refused and contradictory rows (none when there are none).
    problems_file: Option<String>,
    bad_rows: &'a [crate::register::BadRow],
    unknown_units: BTreeMap<String, u64>,
}

/// Writes the full list of problem rows beside the data:
/// `<data_dir>/register-import-<yyyymmdd-hhmmss>.csv` (`-2`, `-3`… when two
/// imports share a second; never over an existing file). A list that cannot be
/// written is said, and the import stands.
fn write_problems(settings: &Settings, csv: &[u8]) -> Option<PathBuf> {
    let lang = settings.ui_language;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let dir = &settings.data_dir;
    let first = dir.join(format!("register-import-{stamp}.csv"));
    let placed = (|| -> std::io::Result<PathBuf> {
        use std::io::Write;
        std::fs::create_dir_all(dir)?;
        let tmp = crate::store::temp_path(dir, "register-import.csv");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(csv)?;
        f.sync_all()?;
        // A hard link never replaces a file: the list appears whole under a free name.
        let mut result = Err(std::io::Error::other("no free name"));
        for k in 1..=100 {
            let target = match k {
                1 => first.clone(),
                k => dir.join(format!("register-import-{stamp}-{k}.csv")),
            };
            match std::fs::hard_link(&tmp, &target) {
                Ok(()) => {
                    result = Ok(target);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(&tmp);
        result
    })();
    placed
        .map_err(|e| {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!(
                        "không ghi được danh sách các dòng có vấn đề {}: {e}",
                        first.display()
                    ),
                    &format!(
                        "cannot write the list of problem rows {}: {e}",
                        first.display()
                    ),
                )
            )
        })
        .ok()
}

pub fn register_import(settings: &Settings, file: &Path, json: bool) -> CliResult {
    let lang = settings.ui_language;
    let table = Table::read(file).map_err(|e| {
        // A file that cannot be read is a bad path; one that reads but is no
        // table is an import with bad rows (all of them).
        let exit = if matches!(e, crate::tabular::TableError::Read { .. }) {
            ExitCode::Usage
        } else {
            ExitCode::InputsFailed
        };
        CliError::new(
            exit,
            say(
                lang,
                &format!("Không đọc được sổ tiếp nhận: {e}. Hãy xuất lại tệp dạng CSV (UTF-8) hoặc XLSX."),
                &format!("Cannot read the register: {e}. Export it again as CSV (UTF-8) or XLSX."),
            ),
        )
    })?;
    let (rows, bad) = crate::register::parse(table, &settings.register.columns, lang)
        .map_err(|crate::register::MissingColumns(m)| CliError::new(ExitCode::InputsFailed, m))?;
    let records = open(settings)?;
    let tree = tree_or_warn(settings, &records).unwrap_or_default();
    let imported = records.upsert_register(&rows)?;
    let mut unknown_units: BTreeMap<String, u64> = BTreeMap::new();
    if !tree.is_empty() {
        for r in rows
            .iter()
            .filter(|r| tree.at(&r.unit_code, r.received_on).is_none())
        {
            *unknown_units.entry(r.unit_code.clone()).or_default() += 1;
        }
    }
    let problems = import_problems::Problems::new(&rows, &bad);
    let problems_file = if problems.is_empty() {
        None
    } else {
        write_problems(settings, &problems.to_csv(lang))
    };
    // Contradictory rows are imported (a warning); only refused rows fail the import.
    let outcome = if bad.is_empty() {
        Outcome::Done
    } else {
        Outcome::InputsFailed
    };
    if json {
        super::print_json(&ImportSummary {
            file: file.display().to_string(),
            rows: rows.len() + bad.len(),
            imported_rows: rows.len(),
            imported,
            refused: problems.refused_counts(),
            contradictory_rows: problems.contradicted_rows(),
            contradictions: problems.contradiction_counts(),
            problems_file: problems_file.as_ref().map(|p| p.display().to_string()),
            bad_rows: &bad,
            unknown_units,
        })?;
        return Ok(outcome);
    }
    let n = |x: u64| count(x, lang);
    let (file, good, added, updated, unchanged, skipped) = (
        file.display(),
        n(rows.len() as u64),
        n(imported.added),
        n(imported.updated),
        n(imported.unchanged),
        n(bad.len() as u64),
    );
    outln!(
        "{}",
        match lang {
            UiLanguage::Vi => format!("Đã nhập sổ tiếp nhận {file}: {good} dòng hợp lệ ({added} hồ sơ mới, {updated} cập nhật, {unchanged} không đổi); {skipped} dòng lỗi bị bỏ qua."),
            UiLanguage::En => {
                let (rows_, dossiers) = (
                    if rows.len() == 1 { "row" } else { "rows" },
                    if imported.added == 1 { "dossier" } else { "dossiers" },
                );
                let bad_ = if bad.len() == 1 { "row" } else { "rows" };
                format!("Imported register {file}: {good} good {rows_} ({added} new {dossiers}, {updated} updated, {unchanged} unchanged); {skipped} bad {bad_} skipped.")
            }
        }
    )?;
    for line in problems.summary(lang) {
        outln!("{line}")?;
    }
    if let Some(p) = &problems_file {
        outln!(
            "{}",
            say(
                lang,
                &format!(
                    "Danh sách đầy đủ các dòng trên (dòng, mã hồ sơ, lý do): {}",
                    p.display()
                ),
                &format!(
                    "The full list of these rows (line, dossier code, reason): {}",
                    p.display()
                ),
            )
        )?;
    }
    if problems.contradicted_rows() > 0 {
        outln!(
            "{}",
            say(
                lang,
                "Hãy đề nghị bộ phận một cửa sửa các dòng có cờ mâu thuẫn trong hệ thống; khi nhập lại, các dòng đã sửa được cập nhật.",
                "Ask the one-stop office to correct the contradictory rows in its system; an import after that updates them.",
            )
        )?;
    }
    if !bad.is_empty() {
        outln!(
            "{}",
            say(
                lang,
                "Hãy sửa các dòng lỗi trong tệp rồi nhập lại; các dòng đã nhập không bị nhân đôi.",
                "Fix the bad rows in the file and import it again; rows already imported are not duplicated.",
            )
        )?;
    }
    if !unknown_units.is_empty() {
        let list: Vec<String> = unknown_units
            .iter()
            .map(|(u, k)| format!("{u} ({})", n(*k)))
            .collect();
        outln!(
            "{}",
            say(
                lang,
                &format!(
                    "Cảnh báo: mã đơn vị không có trong danh mục đơn vị: {}. Báo cáo sẽ tính các hồ sơ này vào \"chưa xác định\" cho đến khi danh mục được bổ sung (sohoa units import TỆP).",
                    list.join(", ")
                ),
                &format!(
                    "Warning: unit codes missing from the unit tree: {}. Reports count these dossiers as \"unknown\" until the tree is completed (sohoa units import FILE).",
                    list.join(", ")
                ),
            )
        )?;
    }
    Ok(outcome)
}

pub fn units_import(settings: &Settings, file: &Path) -> CliResult {
    let lang = settings.ui_language;
    let checked =
        units::read_file(file, lang).and_then(|u| UnitTree::new(u.clone(), lang).map(|_| u));
    let list = checked.map_err(|p| {
        let shown = file.display();
        let heading = say(
            lang,
            &format!("Danh mục đơn vị {shown} có lỗi, chưa nhập gì:"),
            &format!("The unit tree {shown} has errors; nothing was imported:"),
        );
        CliError::new(ExitCode::InputsFailed, tree_problems(heading, &p, lang))
    })?;
    let records = open(settings)?;
    records.replace_units(&list)?;
    let per = |l: Level| count(list.iter().filter(|u| u.level == l).count() as u64, lang);
    let (all, file) = (count(list.len() as u64, lang), file.display());
    let (t, h, x) = (per(Level::Tinh), per(Level::Huyen), per(Level::Xa));
    outln!(
        "{}",
        match lang {
            UiLanguage::Vi => format!("Đã nhập danh mục {all} đơn vị từ {file} (cấp tỉnh {t}, cấp huyện {h}, cấp xã {x})."),
            UiLanguage::En => format!("Imported {all} units from {file} (province level {t}, district level {h}, commune level {x})."),
        }
    )?;
    Ok(Outcome::Done)
}

pub fn units_list(settings: &Settings) -> CliResult {
    let lang = settings.ui_language;
    let (_, tree) = open_with_tree(settings)?;
    if tree.is_empty() {
        return Err(CliError::not_found(say(
            lang,
            "Chưa có danh mục đơn vị. Hãy nhập: sohoa units import TỆP",
            "No unit tree. Import one: sohoa units import FILE",
        )));
    }
    let mut out = String::new();
    let mut stack: Vec<usize> = tree.children(None).into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        let u = tree.unit(i);
        let d = report::period::vn_date;
        let validity = match (u.valid_from, u.valid_to, lang) {
            (None, None, _) => String::new(),
            (Some(f), None, UiLanguage::Vi) => format!(" (hiệu lực từ {})", d(f)),
            (None, Some(t), UiLanguage::Vi) => format!(" (hiệu lực đến {})", d(t)),
            (Some(f), Some(t), UiLanguage::Vi) => {
                format!(" (hiệu lực từ {} đến {})", d(f), d(t))
            }
            (Some(f), None, UiLanguage::En) => format!(" (in force from {})", d(f)),
            (None, Some(t), UiLanguage::En) => format!(" (in force until {})", d(t)),
            (Some(f), Some(t), UiLanguage::En) => {
                format!(" (in force from {} to {})", d(f), d(t))
            }
        };
        out += &format!(
            "{}{} {} – {}{validity}\n",
            "  ".repeat(tree.depth(i)),
            u.code,
            u.name,
            u.level.label(lang)
        );
        stack.extend(tree.children(Some(i)).into_iter().rev());
    }
    print_out(out.as_bytes())?;
    Ok(Outcome::Done)
}

/// After a batch: the digitization figure per level and in total, over every dossier known.
pub fn print_digitization(settings: &Settings) -> Result<(), CliError> {
    let Ok(records) = Records::open_configured(settings) else {
        return Ok(());
    };
    let Some(tree) = tree_or_warn(settings, &records) else {
        return Ok(());
    };
    let req = Request {
        period: Period::resolve(&PeriodSpec::default(), settings.ui_language).expect("all time"),
        level: None,
        by: By::Level,
        unit: None,
        signed_only: settings.report.signed_only,
        lang: settings.ui_language,
    };
    if let Ok(r) = report::make(&records, &tree, &req) {
        for l in r.all_lines() {
            outln!("{}: {}", l.label, r.sentence_short(l))?;
        }
    }
    Ok(())
}
