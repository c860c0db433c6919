//! `sohoa report`, `sohoa report missing`, `sohoa register import`,
//! `sohoa units import|list`: the register, the unit tree and what leaders read.

use super::{say, ExitCode};
use crate::config::Settings;
use crate::format::{count, UiLanguage};
use crate::records::Records;
use crate::report::{self, By, Period, PeriodSpec, Request};
use crate::tabular::Table;
use crate::units::{self, Level, TreeProblem, UnitTree};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

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

fn open(settings: &Settings) -> Result<Records, ExitCode> {
    Records::open_configured(settings).map_err(|e| {
        eprintln!(
            "sohoa: {}",
            say(
                settings.ui_language,
                &format!(
                    "Không mở được cơ sở dữ liệu ({e}). Hãy kiểm tra thư mục dữ liệu và quyền ghi."
                ),
                &format!(
                    "Cannot open the database ({e}). Check the data directory and its permissions."
                ),
            )
        );
        ExitCode::DataDir
    })
}

fn print_problems(problems: &[TreeProblem], lang: UiLanguage) {
    for p in problems {
        match (p.line, lang) {
            (Some(l), UiLanguage::Vi) => eprintln!("  Dòng {l}: {}", p.message),
            (Some(l), UiLanguage::En) => eprintln!("  Line {l}: {}", p.message),
            (None, _) => eprintln!("  {}", p.message),
        }
    }
}

/// The unit tree: the one imported into the database, else `units_file`.
pub fn load_tree(settings: &Settings, records: &Records) -> Result<UnitTree, ExitCode> {
    let lang = settings.ui_language;
    let stored = records.units().map_err(|e| {
        eprintln!("sohoa: {e}");
        ExitCode::DataDir
    })?;
    let (list, source) = if !stored.is_empty() {
        (stored, say(lang, "cơ sở dữ liệu", "the database"))
    } else if settings.units_file.exists() {
        match units::read_file(&settings.units_file, lang) {
            Ok(u) => (u, settings.units_file.display().to_string()),
            Err(p) => {
                eprintln!(
                    "sohoa: {}",
                    say(
                        lang,
                        &format!("Danh mục đơn vị {} có lỗi:", settings.units_file.display()),
                        &format!(
                            "The unit tree {} has errors:",
                            settings.units_file.display()
                        ),
                    )
                );
                print_problems(&p, lang);
                return Err(ExitCode::Usage);
            }
        }
    } else {
        return Ok(UnitTree::default());
    };
    UnitTree::new(list, lang).map_err(|p| {
        eprintln!(
            "sohoa: {}",
            say(
                lang,
                &format!("Danh mục đơn vị ({source}) có lỗi:"),
                &format!("The unit tree ({source}) has errors:")
            )
        );
        print_problems(&p, lang);
        ExitCode::Usage
    })
}

/// The records and the unit tree reports use.
fn open_with_tree(settings: &Settings) -> Result<(Records, UnitTree), ExitCode> {
    let records = open(settings)?;
    let tree = load_tree(settings, &records)?;
    Ok((records, tree))
}

fn period(args: &PeriodArgs, lang: UiLanguage) -> Result<Period, ExitCode> {
    let spec = PeriodSpec {
        year: args.year,
        quarter: args.quarter.clone(),
        month: args.month.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
    };
    Period::resolve(&spec, lang).map_err(|e| {
        eprintln!("sohoa: {e}");
        ExitCode::Usage
    })
}

fn json_bytes(value: &impl serde::Serialize) -> Result<Vec<u8>, ExitCode> {
    let mut v = serde_json::to_vec_pretty(value).map_err(|e| {
        eprintln!("sohoa: {e}");
        ExitCode::Internal
    })?;
    v.push(b'\n');
    Ok(v)
}

/// Writes `bytes` to `--output` or standard output.
fn emit(output: Option<&Path>, bytes: &[u8], lang: UiLanguage) -> ExitCode {
    let result = match output {
        Some(p) => crate::store::write_atomic(p, bytes).map_err(|e| e.to_string()),
        None => std::io::stdout()
            .write_all(bytes)
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => {
            if let Some(p) = output {
                eprintln!(
                    "{}",
                    say(
                        lang,
                        &format!("Đã ghi {}", p.display()),
                        &format!("Wrote {}", p.display())
                    )
                );
            }
            ExitCode::Ok
        }
        Err(e) => {
            eprintln!("sohoa: {e}");
            ExitCode::DataDir
        }
    }
}

fn request(
    settings: &Settings,
    args: &PeriodArgs,
    by: By,
    tree: &UnitTree,
) -> Result<Request, ExitCode> {
    let lang = settings.ui_language;
    if let Some(u) = &args.unit {
        if !tree.knows(u) {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!("Không có đơn vị {u} trong danh mục đơn vị."),
                    &format!("No unit {u} in the unit tree."),
                )
            );
            return Err(ExitCode::NotFound);
        }
    }
    Ok(Request {
        period: period(args, lang)?,
        level: args.level.as_deref().and_then(Level::parse),
        by,
        unit: args.unit.clone(),
        lang,
    })
}

pub fn report(settings: &Settings, args: &PeriodArgs, by: ByArg, format: Format) -> ExitCode {
    let lang = settings.ui_language;
    let (records, tree) = match open_with_tree(settings) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let by = match by {
        ByArg::Level => By::Level,
        ByArg::Unit => By::Unit,
        ByArg::Procedure => By::Procedure,
        ByArg::Field => By::Field,
        ByArg::Month => By::Month,
    };
    let req = match request(settings, args, by, &tree) {
        Ok(r) => r,
        Err(c) => return c,
    };
    // The HTML form also draws the period by unit and by month.
    let made = if format == Format::Html {
        report::make_with_charts(&records, &tree, &req).map(|[main, units, months]| {
            let html = report::html::render(&main, &units, &months);
            (main, html)
        })
    } else {
        report::make(&records, &tree, &req).map(|main| (main, String::new()))
    };
    let (main, html) = match made {
        Ok(m) => m,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::DataDir;
        }
    };
    if format != Format::Json {
        for w in &main.warnings {
            eprintln!("{}{w}", say(lang, "Cảnh báo: ", "Warning: "));
        }
    }
    let bytes = match format {
        Format::Text => main.to_text().into_bytes(),
        Format::Csv => main.to_csv(),
        Format::Json => match json_bytes(&main) {
            Ok(v) => v,
            Err(c) => return c,
        },
        Format::Html => html.into_bytes(),
        Format::Xlsx => {
            if args.output.is_none() && std::io::stdout().is_terminal() {
                eprintln!(
                    "sohoa: {}",
                    say(
                        lang,
                        "Hãy chỉ định tệp Excel cần ghi: --output bao-cao.xlsx",
                        "Name the Excel file to write: --output report.xlsx"
                    )
                );
                return ExitCode::Usage;
            }
            match report::xlsx::render(&main) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("sohoa: {e}");
                    return ExitCode::Internal;
                }
            }
        }
    };
    emit(args.output.as_deref(), &bytes, lang)
}

pub fn missing(settings: &Settings, args: &PeriodArgs, format: Format) -> ExitCode {
    let lang = settings.ui_language;
    let (records, tree) = match open_with_tree(settings) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let req = match request(settings, args, By::Unit, &tree) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let sel = report::selection(&req.period, req.unit.as_deref(), &tree);
    let mut rows = match records.missing(&sel) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::DataDir;
        }
    };
    if let Some(level) = req.level {
        rows.retain(|d| {
            d.received_on
                .parse()
                .ok()
                .and_then(|day| tree.at(&d.unit_code, day))
                .is_some_and(|i| tree.unit(i).level == level)
        });
    }
    let m = report::missing_report(&req.period, &rows, &tree, lang);
    let bytes = match format {
        Format::Text => m.to_text().into_bytes(),
        Format::Csv => m.to_csv(),
        Format::Json => match json_bytes(&m) {
            Ok(v) => v,
            Err(c) => return c,
        },
        Format::Html | Format::Xlsx => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    "Danh sách hồ sơ chưa số hóa có các dạng text, csv, json.",
                    "The missing list comes as text, csv or json."
                )
            );
            return ExitCode::Usage;
        }
    };
    emit(args.output.as_deref(), &bytes, lang)
}

/// What `register import` prints with `--json`.
#[derive(serde::Serialize)]
struct ImportSummary<'a> {
    file: String,
    /// Data rows read (good and bad).
    rows: usize,
    imported: crate::records::ImportCounts,
    bad_rows: &'a [crate::register::BadRow],
    unknown_units: BTreeMap<String, u64>,
}

pub fn register_import(settings: &Settings, file: &Path, json: bool) -> ExitCode {
    let lang = settings.ui_language;
    let table = match Table::read(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!("Không đọc được sổ tiếp nhận: {e}. Hãy xuất lại tệp dạng CSV (UTF-8) hoặc XLSX."),
                    &format!("Cannot read the register: {e}. Export it again as CSV (UTF-8) or XLSX."),
                )
            );
            return if matches!(e, crate::tabular::TableError::Read { .. }) {
                ExitCode::Usage
            } else {
                ExitCode::InputsFailed
            };
        }
    };
    let (rows, bad) = match crate::register::parse(table, &settings.register.columns, lang) {
        Ok(x) => x,
        Err(crate::register::MissingColumns(m)) => {
            eprintln!("sohoa: {m}");
            return ExitCode::InputsFailed;
        }
    };
    let records = match open(settings) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let tree = load_tree(settings, &records).unwrap_or_default();
    let imported = match records.upsert_register(&rows) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::DataDir;
        }
    };
    let mut unknown_units: BTreeMap<String, u64> = BTreeMap::new();
    if !tree.is_empty() {
        for r in rows
            .iter()
            .filter(|r| tree.at(&r.unit_code, r.received_on).is_none())
        {
            *unknown_units.entry(r.unit_code.clone()).or_default() += 1;
        }
    }
    if json {
        let code = super::print_json(&ImportSummary {
            file: file.display().to_string(),
            rows: rows.len() + bad.len(),
            imported,
            bad_rows: &bad,
            unknown_units,
        });
        return if code != ExitCode::Ok || bad.is_empty() {
            code
        } else {
            ExitCode::InputsFailed
        };
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
    println!(
        "{}",
        match lang {
            UiLanguage::Vi => format!("Đã nhập sổ tiếp nhận {file}: {good} dòng hợp lệ ({added} hồ sơ mới, {updated} cập nhật, {unchanged} không đổi); {skipped} dòng lỗi bị bỏ qua."),
            UiLanguage::En => format!("Imported register {file}: {good} good rows ({added} new dossiers, {updated} updated, {unchanged} unchanged); {skipped} bad rows skipped."),
        }
    );
    for b in &bad {
        let code = if b.code.is_empty() {
            String::new()
        } else {
            format!(" ({})", b.code)
        };
        println!(
            "  {} {}{code}: {}",
            say(lang, "Dòng", "Line"),
            b.line,
            b.reason
        );
    }
    if !bad.is_empty() {
        println!(
            "{}",
            say(
                lang,
                "Hãy sửa các dòng lỗi trong tệp rồi nhập lại; các dòng đã nhập không bị nhân đôi.",
                "Fix the bad rows in the file and import it again; rows already imported are not duplicated.",
            )
        );
    }
    if !unknown_units.is_empty() {
        let list: Vec<String> = unknown_units
            .iter()
            .map(|(u, k)| format!("{u} ({})", n(*k)))
            .collect();
        println!(
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
        );
    }
    if bad.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::InputsFailed
    }
}

pub fn units_import(settings: &Settings, file: &Path) -> ExitCode {
    let lang = settings.ui_language;
    let checked =
        units::read_file(file, lang).and_then(|u| UnitTree::new(u.clone(), lang).map(|_| u));
    let list = match checked {
        Ok(u) => u,
        Err(p) => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!("Danh mục đơn vị {} có lỗi, chưa nhập gì:", file.display()),
                    &format!(
                        "The unit tree {} has errors; nothing was imported:",
                        file.display()
                    ),
                )
            );
            print_problems(&p, lang);
            return ExitCode::InputsFailed;
        }
    };
    let records = match open(settings) {
        Ok(r) => r,
        Err(c) => return c,
    };
    if let Err(e) = records.replace_units(&list) {
        eprintln!("sohoa: {e}");
        return ExitCode::DataDir;
    }
    let per = |l: Level| count(list.iter().filter(|u| u.level == l).count() as u64, lang);
    let (all, file) = (count(list.len() as u64, lang), file.display());
    let (t, h, x) = (per(Level::Tinh), per(Level::Huyen), per(Level::Xa));
    println!(
        "{}",
        match lang {
            UiLanguage::Vi => format!("Đã nhập danh mục {all} đơn vị từ {file} (cấp tỉnh {t}, cấp huyện {h}, cấp xã {x})."),
            UiLanguage::En => format!("Imported {all} units from {file} (province level {t}, district level {h}, commune level {x})."),
        }
    );
    ExitCode::Ok
}

pub fn units_list(settings: &Settings) -> ExitCode {
    let lang = settings.ui_language;
    let (_, tree) = match open_with_tree(settings) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if tree.is_empty() {
        eprintln!(
            "{}",
            say(
                lang,
                "Chưa có danh mục đơn vị. Hãy nhập: sohoa units import TỆP",
                "No unit tree. Import one: sohoa units import FILE"
            )
        );
        return ExitCode::NotFound;
    }
    let mut stack: Vec<usize> = tree.children(None).into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        let u = tree.unit(i);
        let validity = match (u.valid_from, u.valid_to) {
            (None, None) => String::new(),
            (f, t) => format!(
                " [{} – {}]",
                f.map(report::period::vn_date).unwrap_or_default(),
                t.map(report::period::vn_date).unwrap_or_default()
            ),
        };
        println!(
            "{}{} {} – {}{validity}",
            "  ".repeat(tree.depth(i)),
            u.code,
            u.name,
            u.level.label(lang)
        );
        stack.extend(tree.children(Some(i)).into_iter().rev());
    }
    ExitCode::Ok
}

/// After a batch: the digitization figure per level and in total, over every dossier known.
pub fn print_digitization(settings: &Settings) {
    let Ok(records) = Records::open_configured(settings) else {
        return;
    };
    let Ok(tree) = load_tree(settings, &records) else {
        return;
    };
    let req = Request {
        period: Period::resolve(&PeriodSpec::default(), settings.ui_language).expect("all time"),
        level: None,
        by: By::Level,
        unit: None,
        lang: settings.ui_language,
    };
    if let Ok(r) = report::make(&records, &tree, &req) {
        for l in r.all_lines() {
            println!("{}: {}", l.label, r.sentence_short(l));
        }
    }
}
