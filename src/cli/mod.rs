//! Command-line glue: parse flags, resolve settings once, run, map the outcome
//! to an exit code. Behaviour lives in the library.

mod dossier;
mod exit;
mod help;
mod logging;
mod progress;
mod report;
mod serve;
mod sign;
mod sync;
mod watch;

pub use exit::{CliError, CliResult, ExitCode, Outcome};
pub use help::parse;
pub use logging::{env_filter, log_filter};

use crate::config::Settings;
use crate::format::UiLanguage;
use crate::pipeline::{self, BatchError};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sohoa",
    version,
    about = "Số hóa hồ sơ TTHC: scans → searchable PDF/A attached to dossier records"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Config file (TOML); see config/sohoa.example.toml.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory holding archive/ and sohoa.db [default: ./var].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL records instead of <data-dir>/sohoa.db (postgres://user:password@host:port/db).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Language of messages and reports: vi or en.
    #[arg(long, global = true, value_parser = ["vi", "en"])]
    pub ui_language: Option<String>,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Digitize every dossier folder under the inboxes (inputs are never modified).
    Batch {
        /// Inboxes: each folder under one is a dossier.
        #[arg(required = true)]
        inboxes: Vec<PathBuf>,
        /// OCR worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Tesseract languages, e.g. vie+eng.
        #[arg(long)]
        languages: Option<String>,
        /// Unit code for folders whose name is not a standard dossier code.
        #[arg(long)]
        unit: Option<String>,
        /// Archive dossiers whose unit is not in the imported unit tree.
        #[arg(long)]
        accept_unknown_units: bool,
        /// Print a machine-readable summary (JSON) on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Serve hot folders: take each dossier folder once it settles, archive it,
    /// and move its scans to processed/ (or failed/ with a .loi.txt note).
    Watch {
        /// Inboxes to watch [default: the config's [[inbox]] tables].
        inboxes: Vec<PathBuf>,
        /// Seconds a folder must stay unchanged before it is taken [default: 10].
        #[arg(long)]
        settle: Option<f64>,
        /// Poll the inboxes every SECS seconds instead of waiting for change
        /// events (network shares).
        #[arg(long, value_name = "SECS")]
        poll: Option<f64>,
        /// OCR worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Whether a watcher runs, and per inbox what waits, runs, is done or failed.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Dossier records.
    Dossier {
        #[command(subcommand)]
        command: DossierCommand,
    },
    /// Digitization and register indicators (Decision 766) per level, unit,
    /// procedure, field or month; `report missing` lists dossiers still to scan.
    #[command(args_conflicts_with_subcommands = true)]
    Report {
        #[command(subcommand)]
        command: Option<ReportCommand>,
        #[command(flatten)]
        period: report::PeriodArgs,
        /// Lines of the report.
        #[arg(long, value_enum, default_value = "level")]
        by: report::ByArg,
        /// How the report is written (html: a page to print, with charts;
        /// xlsx: a workbook, with --output).
        #[arg(long, value_enum, default_value = "text")]
        format: report::Format,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// The receipt register exported from the one-stop system.
    Register {
        #[command(subcommand)]
        command: RegisterCommand,
    },
    /// The unit tree reports roll up on.
    Units {
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// HTTP API over the records for the district server and its stations.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// PEM private key for --tls-cert.
        #[arg(long)]
        tls_key: Option<PathBuf>,
    },
    /// Push the documents waiting on this station to the district server and
    /// pull the register rows of its units (also done by `sohoa watch` when
    /// [sync] server is set).
    Sync {
        /// The district server [default: [sync] server].
        #[arg(long)]
        server: Option<String>,
        /// This station's token [default: [sync] token or SOHOA_SYNC_TOKEN].
        #[arg(long)]
        token: Option<String>,
        /// Keep retrying (with backoff) for up to SECS seconds while the server
        /// cannot be reached; 0 = one pass.
        #[arg(long, value_name = "SECS", default_value_t = 60.0)]
        wait: f64,
        /// Put documents the server refused back in line first.
        #[arg(long)]
        retry_refused: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign the current documents not yet signed with the officer's digital
    /// signature (the copier's name, position and time at the top left of
    /// page 1), beside the unsigned files.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["dossiers", "all"])))]
    Sign {
        /// Only the documents of this dossier (may be repeated).
        #[arg(long = "dossier", value_name = "CODE")]
        dossiers: Vec<String>,
        /// The documents of every dossier.
        #[arg(long)]
        all: bool,
        /// The officer's name in the block [default: [sign] officer, else the certificate's name].
        #[arg(long)]
        officer: Option<String>,
        /// The officer's position (chức vụ / vị trí) [default: [sign] position, else the certificate's title].
        #[arg(long)]
        position: Option<String>,
        #[command(flatten)]
        key: sign::KeyArgs,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make the agency's SAO Y copy of a signed document (Decree 30/2020:
    /// "SAO Y", the agency and the time at the top right of page 1).
    SaoY {
        /// The document's number (#N in `sohoa dossier show`).
        document: i64,
        /// The agency, e.g. "UBND xã Cao Quảng" [default: [sign] agency].
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        key: sign::KeyArgs,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the digital signatures of signed PDF copies: each signature's
    /// bytes, value, certificate chain and coverage of the file.
    Verify {
        /// The PDF files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A PEM file of a certificate authority to trust [default: [sign] trust_anchors].
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stations (offices, workers) allowed to call `sohoa serve`.
    Station {
        #[command(subcommand)]
        command: StationCommand,
    },
    /// Print the effective settings.
    Config,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Dossiers received in the period and not yet digitized, per unit, oldest first.
    Missing {
        #[command(flatten)]
        period: report::PeriodArgs,
        /// How the list is written.
        #[arg(long, value_enum, default_value = "text")]
        format: report::ListFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum StationCommand {
    /// Create a station of UNIT and print its token, once, alone on the last line.
    Add {
        /// The station's name, e.g. xa-cao-quang.
        name: String,
        /// The station's unit: it sees and sends only that unit's dossiers and those of the units under it.
        #[arg(long)]
        unit: String,
        /// The token may also read the server's own figures (/metrics), for monitoring.
        #[arg(long)]
        monitor: bool,
    },
    /// List the stations, their units, and how many documents each sent.
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a station's token: its requests are refused from now on.
    Revoke {
        /// The station's name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum RegisterCommand {
    /// Import (upsert by dossier code) a register: CSV (comma or semicolon, UTF-8) or XLSX.
    Import {
        /// The register file (.csv or .xlsx).
        file: PathBuf,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UnitsCommand {
    /// Replace the unit tree with FILE: .toml ([[unit]] tables), .csv or .xlsx (headers
    /// Mã đơn vị, Tên đơn vị, Cấp, Mã đơn vị cấp trên, Hiệu lực từ, Hiệu lực đến).
    Import {
        /// The file; without it, `units_file` of the settings (config/units.toml).
        file: Option<PathBuf>,
    },
    /// Print the unit tree in use.
    List,
}

#[derive(Subcommand, Debug)]
pub enum DossierCommand {
    /// Show a dossier record, its documents and flags.
    Show {
        /// The dossier code, e.g. 000.00.18.H44-230314-0027.
        code: String,
        /// Print the dossier as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a parsed command line and returns the process exit code: the one
/// place a command's error is printed.
pub fn run(cli: Cli) -> ExitCode {
    match try_run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("sohoa: {e}");
            e.exit_code()
        }
    }
}

/// Runs a parsed command line.
pub fn try_run(cli: Cli) -> CliResult {
    let mut settings =
        Settings::load(cli.global.config.as_deref()).map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(d) = cli.global.data_dir {
        settings.data_dir = d;
    }
    if let Some(u) = cli.global.database_url {
        settings.database_url = Some(u);
    }
    if let Some(l) = cli.global.ui_language.as_deref() {
        settings.ui_language = if l == "en" {
            UiLanguage::En
        } else {
            UiLanguage::Vi
        };
    }
    // The OCR model folder is settled once, after every override of the languages.
    let settle_model = |s: &mut Settings| {
        s.ocr.settle_model();
    };
    match cli.command {
        Command::Batch {
            inboxes,
            jobs,
            languages,
            unit,
            accept_unknown_units,
            json,
        } => {
            if let Some(j) = jobs {
                settings.jobs = j;
            }
            if let Some(l) = languages {
                settings.ocr.languages = l;
            }
            if unit.is_some() {
                settings.default_unit = unit;
            }
            settings.accept_unknown_units |= accept_unknown_units;
            settle_model(&mut settings);
            batch(&settings, &inboxes, json)
        }
        Command::Watch {
            inboxes,
            settle,
            poll,
            jobs,
        } => {
            if let Some(j) = jobs {
                settings.jobs = j;
            }
            settle_model(&mut settings);
            watch::watch(&settings, &inboxes, settle, poll)
        }
        Command::Status { json } => watch::status(&settings, json),
        Command::Dossier {
            command: DossierCommand::Show { code, json },
        } => dossier::show(&settings, &code, json),
        Command::Report {
            command: Some(ReportCommand::Missing { period, format }),
            ..
        } => report::missing(&settings, &period, format),
        Command::Report {
            command: None,
            period,
            by,
            format,
            json,
        } => {
            let format = if json { report::Format::Json } else { format };
            report::report(&settings, &period, by, format)
        }
        Command::Register {
            command: RegisterCommand::Import { file, json },
        } => report::register_import(&settings, &file, json),
        Command::Units {
            command: UnitsCommand::Import { file },
        } => report::units_import(&settings, file.as_deref().unwrap_or(&settings.units_file)),
        Command::Units {
            command: UnitsCommand::List,
        } => report::units_list(&settings),
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => serve::run(&settings, &listen, tls_cert, tls_key),
        Command::Station {
            command:
                StationCommand::Add {
                    name,
                    unit,
                    monitor,
                },
        } => serve::add_station(&settings, &name, &unit, monitor),
        Command::Verify { files, trust, json } => sign::verify(&settings, &files, &trust, json),
        Command::Sign {
            dossiers,
            all: _,
            officer,
            position,
            key,
            json,
        } => sign::sign(&settings, &dossiers, officer, position, key, json),
        Command::SaoY {
            document,
            agency,
            key,
            json,
        } => sign::sao_y(&settings, document, agency, key, json),
        Command::Station {
            command: StationCommand::List { json },
        } => serve::list_stations(&settings, json),
        Command::Station {
            command: StationCommand::Revoke { name },
        } => serve::revoke_station(&settings, &name),
        Command::Sync {
            server,
            token,
            wait,
            retry_refused,
            json,
        } => {
            if server.is_some() {
                settings.sync.server = server;
            }
            if token.is_some() {
                settings.sync.token = token;
            }
            sync::run(&settings, wait, retry_refused, json)
        }
        Command::Config => {
            settle_model(&mut settings);
            // Printed settings end up in tickets and chats: no password.
            settings.database_url = settings
                .database_url
                .as_deref()
                .map(crate::records::redact_url);
            settings.sync.token = settings.sync.token.as_ref().map(|_| "***".into());
            let text = toml::to_string_pretty(&settings).map_err(CliError::internal)?;
            print_out(text.as_bytes())?;
            Ok(Outcome::Done)
        }
    }
}

fn batch(settings: &Settings, inboxes: &[PathBuf], json: bool) -> CliResult {
    let lang = settings.ui_language;
    // Opened before any OCR: a wrong PIN stops the run before hours of work.
    let auto = sign::OfficerKey::auto(settings)?;
    let progress = progress::for_stderr(lang);
    let archived = progress::Archived::new(progress.as_ref());
    let summary =
        pipeline::run_batch(settings, inboxes, &archived).map_err(|e| batch_error(&e, lang))?;
    let signed = match &auto {
        Some(key) => {
            let records = crate::records::Records::open_configured(settings)?;
            let to_stderr = |line: &str| eprintln!("sohoa: {line}");
            Some(key.sign_new(settings, &records, &archived.codes(), &to_stderr)?)
        }
        None => None,
    };
    let signing_left = signed
        .as_ref()
        .is_some_and(|s| s.outcome() != Outcome::Done);
    if json {
        #[derive(serde::Serialize)]
        struct WithSigning<'a> {
            #[serde(flatten)]
            batch: &'a pipeline::BatchSummary,
            #[serde(skip_serializing_if = "Option::is_none")]
            signing: Option<&'a sign::SignSummary>,
        }
        print_json(&WithSigning {
            batch: &summary,
            signing: signed.as_ref(),
        })?;
    } else {
        outln!("{}", summary.render(lang))?;
        if let Some(line) = auto
            .as_ref()
            .zip(signed.as_ref())
            .and_then(|(k, s)| k.said(s))
        {
            outln!("{line}")?;
        }
        // On one terminal, the problems are on screen already, above the bar.
        if !progress::problems_shown_live() {
            for f in &summary.failures {
                outln!("  [{}] {}", f.code, f.message)?;
            }
        } else if !summary.failures.is_empty() {
            outln!(
                "{}",
                say(
                    lang,
                    "(Chi tiết các lỗi ở trên.)",
                    "(The failures are listed above.)"
                )
            )?;
        }
        report::print_digitization(settings)?;
    }
    Ok(if summary.failures.is_empty() && !signing_left {
        Outcome::Done
    } else {
        Outcome::InputsFailed
    })
}

/// Why a batch (or the watcher's pipeline) could not run, and its exit code.
fn batch_error(e: &BatchError, lang: UiLanguage) -> CliError {
    let exit = match e {
        BatchError::Ocr(_) => ExitCode::MissingDependency,
        BatchError::Records(_) => ExitCode::DataDir,
        BatchError::Inbox(_) => ExitCode::Usage,
        BatchError::Threads(_) => ExitCode::Internal,
    };
    let message = match (e, lang) {
        (BatchError::Ocr(_), UiLanguage::Vi) => format!(
            "Không khởi động được Tesseract ({e}). Hãy cài dữ liệu ngôn ngữ (ví dụ: apt-get install tesseract-ocr-vie) hoặc sửa cấu hình [ocr] languages."
        ),
        (BatchError::Records(_), UiLanguage::Vi) => {
            format!("Không mở được cơ sở dữ liệu ({e}). Hãy kiểm tra thư mục dữ liệu và quyền ghi.")
        }
        (BatchError::Inbox(p), UiLanguage::Vi) => format!("Không tìm thấy thư mục tiếp nhận: {}. Hãy kiểm tra lại đường dẫn.", p.display()),
        _ => e.to_string(),
    };
    CliError::new(exit, message)
}

/// The operator's language picks one of two texts.
pub(crate) fn say(lang: UiLanguage, vi: &str, en: &str) -> String {
    match lang {
        UiLanguage::Vi => vi.to_string(),
        UiLanguage::En => en.to_string(),
    }
}

/// Writes results on stdout (logs go to stderr). A reader that went away
/// (`| head`) is a normal end, not an error.
/// `println!` that ends quietly when the reader has gone (`… | head`)
/// instead of panicking; other write errors are returned.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::print_out(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}
pub(crate) use outln;

pub(crate) fn print_out(bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    print_out(&bytes)
}
