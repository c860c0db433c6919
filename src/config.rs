//! Settings, resolved once: defaults → config file → environment → flags.
//! `sohoa config` prints the effective result.

use crate::decode::Limits;
use crate::format::UiLanguage;
use crate::ocr::OcrSettings;
use crate::prepare::PrepareSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the archive and the database live.
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the embedded SQLite (`postgres://user:password@host:port/db`):
    /// the shared records of a district server; the archive stays under `data_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Worker threads for OCR; 0 = one per core.
    pub jobs: usize,
    /// Language of operator-facing text: "vi" or "en".
    pub ui_language: UiLanguage,
    /// Unit code given to dossier folders whose name is not a standard code.
    pub default_unit: Option<String>,
    /// Archive dossiers whose unit the imported unit tree does not have (in
    /// force on the code's date) instead of refusing them as a likely typo.
    pub accept_unknown_units: bool,
    pub ocr: OcrSettings,
    pub prepare: PrepareSettings,
    pub limits: Limits,
    pub watch: WatchSettings,
    /// The unit tree file `sohoa units import` reads when given none. Reports
    /// and the server use only the tree imported into the records.
    pub units_file: PathBuf,
    pub register: RegisterSettings,
    pub queue: QueueSettings,
    pub serve: ServeSettings,
    pub sync: SyncSettings,
    pub sign: SignSettings,
    pub report: ReportSettings,
    /// Inboxes for `sohoa watch` (`[[inbox]]` tables).
    #[serde(rename = "inbox", skip_serializing_if = "Vec::is_empty")]
    pub inboxes: Vec<InboxSettings>,
}

/// `[watch]`: how `sohoa watch` treats its inboxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchSettings {
    /// A dossier folder is taken once nothing in it changed for this long.
    pub settle_seconds: f64,
    /// Interval of polled inboxes (and of those whose events cannot be set up).
    pub poll_seconds: f64,
    /// Interval of the full rescan of every inbox (the safety net for lost events).
    pub rescan_seconds: f64,
    /// The file an operator drops into a folder to have it taken at once.
    pub marker: String,
    /// Days to keep inputs in `processed/`; 0 = keep them.
    pub retention_days: u32,
    /// On SIGTERM/Ctrl-C, how long in-flight work may take to finish.
    pub drain_seconds: f64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            settle_seconds: 10.0,
            poll_seconds: 5.0,
            rescan_seconds: 60.0,
            marker: "XONG".into(),
            retention_days: 0,
            drain_seconds: 60.0,
        }
    }
}

/// `[queue]`: several `sohoa batch` workers sharing one PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// A claimed dossier folder is the worker's for this long, renewed every
    /// third of it while the worker is alive; then another worker takes it.
    pub lease_seconds: i64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings { lease_seconds: 60 }
    }
}

/// `[serve]`: the district server (`sohoa serve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSettings {
    /// Largest PDF a station may upload, in MiB (a 200-page colour scan is ~100 MiB).
    pub max_upload_mib: u64,
    /// Uploads received at once; more wait (up to `upload_wait_seconds`), then get 503.
    pub max_concurrent_uploads: u32,
    /// How long an upload waits for its turn before 503 (the station retries later).
    pub upload_wait_seconds: f64,
    /// A client must send a request's headers within this many seconds (idle
    /// keep-alive connections are closed after it too).
    pub header_timeout_seconds: f64,
    /// An upload whose body sends nothing for this many seconds is dropped.
    pub body_idle_seconds: f64,
    /// Connections one address may hold open at once.
    pub max_connections_per_address: u32,
    /// `/metrics` without a token from the server itself (127.0.0.1, ::1);
    /// otherwise only with a token made by `sohoa station add … --monitor`.
    pub metrics_from_loopback: bool,
    /// A resumable upload not added to for this many hours is removed (a
    /// station offline longer starts that document again).
    pub upload_expiry_hours: f64,
    /// Resumable uploads one station may have open at once.
    pub max_open_uploads_per_station: u32,
    /// The share of time, in percent, that reports and `/metrics` may keep
    /// their turns busy; the rest is left to uploads and quick reads.
    pub report_share_percent: f64,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            max_upload_mib: 1024,
            max_concurrent_uploads: 8,
            upload_wait_seconds: 30.0,
            header_timeout_seconds: 10.0,
            body_idle_seconds: 30.0,
            max_connections_per_address: 64,
            metrics_from_loopback: false,
            upload_expiry_hours: 168.0,
            max_open_uploads_per_station: 16,
            report_share_percent: 25.0,
        }
    }
}

/// `[sync]`: a station pushing its documents to the district server
/// (`sohoa sync`, and the sync loop of `sohoa watch` when `server` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// The district server, e.g. `https://sohoa.tuyenhoa.example:8443`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// This station's token (`sohoa station add` on the server prints it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// PEM certificate to trust for the server, besides the system's (a
    /// self-signed district certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds between passes of the watch loop while all goes well.
    pub interval_seconds: f64,
    /// Longest wait between tries while the server cannot be reached; waits
    /// double from one second up to this, with jitter.
    pub max_backoff_seconds: f64,
    /// Longest the server may take to answer a request beyond the time its
    /// body needs on the link (a part of an upload is given the time it takes
    /// at a quarter of the measured speed on top): then it is tried again.
    pub request_timeout_seconds: f64,
    /// Cap on the station's upload rate in KB/s (0: none), so the one-stop
    /// system's own traffic keeps its share of the link.
    pub max_kbps: f64,
    /// If set, e.g. `"17:30-07:30"` (local time): documents larger than
    /// `big_mib` are sent only in these hours; smaller ones go at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    /// What counts as a big document for `hours`, in MiB.
    pub big_mib: f64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            server: None,
            token: None,
            ca_file: None,
            interval_seconds: 10.0,
            max_backoff_seconds: 300.0,
            request_timeout_seconds: 60.0,
            max_kbps: 0.0,
            hours: None,
            big_mib: 2.0,
        }
    }
}

/// `[sign]`: digital signatures of the archive copies.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignSettings {
    /// PEM files of the certificate authorities whose signatures `sohoa
    /// verify` (and the check after each signing) trusts: the government
    /// root CA, loaded by the user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trust_anchors: Vec<PathBuf>,
    /// `manual`: documents are signed by `sohoa sign`; `auto`: `batch` and
    /// `watch` sign each new document as it is archived, with the key below.
    pub mode: SignMode,
    /// The officer's name in the block [default: the certificate's name].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    /// The officer's position (chức vụ / vị trí) in the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The agency of SAO Y copies, e.g. "UBND xã Cao Quảng".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The key: a PKCS#12 file (.p12, .pfx) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkcs12: Option<PathBuf>,
    /// ... and a file holding its password (else `SOHOA_SIGN_PASSWORD`, else asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Or a PKCS#11 token: its module (the token's driver, a .so) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkcs11_module: Option<PathBuf>,
    /// ... the token's label ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_label: Option<String>,
    /// ... the key's label, when the token holds several keys ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// ... and a file holding the PIN (else `SOHOA_SIGN_PIN`, else asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_file: Option<PathBuf>,
    /// An RFC 3161 time-stamping authority (`http://…` or `https://…`): each
    /// signature carries its token (PAdES B-T); none: B-B.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_url: Option<String>,
}

/// When documents are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignMode {
    /// By `sohoa sign`.
    #[default]
    Manual,
    /// As each new document is archived (`batch`, `watch`).
    Auto,
}

/// `[report]`: how reports count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Count as digitized only copies carrying the officer's valid digital
    /// signature (Circular 01/2023/TT-VPCP, Art. 8.1); `--signed-only` too.
    pub signed_only: bool,
}

/// `[register]`: how `sohoa register import` reads one-stop exports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterSettings {
    /// Extra header names per column, e.g. `code = ["Số hồ sơ"]`.
    pub columns: crate::register::ColumnNames,
}

/// `[[inbox]]`: one folder `sohoa watch` serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxSettings {
    pub path: PathBuf,
    /// Unit code for folders whose name is not a standard dossier code.
    #[serde(default)]
    pub unit: Option<String>,
    /// Overrides `[watch] settle_seconds`.
    #[serde(default)]
    pub settle_seconds: Option<f64>,
    /// Poll this inbox at this interval instead of waiting for events (for
    /// network shares, where inotify sees nothing).
    #[serde(default)]
    pub poll_seconds: Option<f64>,
    /// Overrides `accept_unknown_units` for this inbox.
    #[serde(default)]
    pub accept_unknown_units: Option<bool>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("var"),
            database_url: None,
            jobs: 0,
            ui_language: UiLanguage::Vi,
            default_unit: None,
            accept_unknown_units: false,
            ocr: OcrSettings::default(),
            prepare: PrepareSettings::default(),
            limits: Limits::default(),
            watch: WatchSettings::default(),
            units_file: PathBuf::from("config/units.toml"),
            register: RegisterSettings::default(),
            queue: QueueSettings::default(),
            serve: ServeSettings::default(),
            sync: SyncSettings::default(),
            sign: SignSettings::default(),
            report: ReportSettings::default(),
            inboxes: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value {value:?} for {var}")]
    Env { var: &'static str, value: String },
}

impl Settings {
    /// Defaults, then the file (explicit path, else `$SOHOA_CONFIG`, else
    /// `./sohoa.toml` if present), then `SOHOA_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let from_env = std::env::var_os("SOHOA_CONFIG").map(PathBuf::from);
        let local = PathBuf::from("sohoa.toml");
        let path = file
            .map(Path::to_path_buf)
            .or(from_env)
            .or_else(|| local.exists().then_some(local));
        let mut s = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.clone(),
                    message: e.to_string(),
                })?
            }
            None => Settings::default(),
        };
        s.apply_env(|k| std::env::var(k).ok())?;
        Ok(s)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("SOHOA_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("SOHOA_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("SOHOA_JOBS") {
            self.jobs = v.parse().map_err(|_| ConfigError::Env {
                var: "SOHOA_JOBS",
                value: v,
            })?;
        }
        if let Some(v) = get("SOHOA_UI_LANGUAGE") {
            self.ui_language = match v.as_str() {
                "vi" => UiLanguage::Vi,
                "en" => UiLanguage::En,
                _ => {
                    return Err(ConfigError::Env {
                        var: "SOHOA_UI_LANGUAGE",
                        value: v,
                    })
                }
            };
        }
        if let Some(v) = get("SOHOA_UNIT") {
            self.default_unit = Some(v);
        }
        if let Some(v) = get("SOHOA_LANGUAGES") {
            self.ocr.languages = v;
        }
        if let Some(v) = get("SOHOA_TESSDATA") {
            self.ocr.tessdata = Some(v);
        }
        if let Some(v) = get("SOHOA_SYNC_SERVER") {
            self.sync.server = Some(v);
        }
        if let Some(v) = get("SOHOA_SYNC_TOKEN") {
            self.sync.token = Some(v);
        }
        Ok(())
    }

    /// Worker threads actually used.
    pub fn effective_jobs(&self) -> usize {
        if self.jobs > 0 {
            self.jobs
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("sohoa.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_equals_defaults() {
        let text = include_str!("../config/sohoa.example.toml");
        let s: Settings = toml::from_str(text).expect("example config parses");
        let d = Settings::default();
        assert_eq!(s.data_dir, d.data_dir);
        assert_eq!(s.ocr, d.ocr);
        assert_eq!(s.prepare, d.prepare);
        assert_eq!(s.limits, d.limits);
        assert_eq!(s.jobs, d.jobs);
        assert_eq!(s.watch, d.watch);
        assert_eq!(s.units_file, d.units_file);
        assert_eq!(s.register, d.register);
        assert_eq!(s.queue, d.queue);
        assert_eq!(s.sign, d.sign);
        assert_eq!(s.report, d.report);
        // The commented [[inbox]] example is valid too.
        let inbox: String = text
            .lines()
            .skip_while(|l| !l.starts_with("# [[inbox]]"))
            .filter(|l| !l.starts_with("# #"))
            .map(|l| l.trim_start_matches("# "))
            .collect::<Vec<_>>()
            .join("\n");
        let s: Settings = toml::from_str(&inbox).expect("inbox example parses");
        assert_eq!(s.inboxes.len(), 1);
        assert_eq!(s.inboxes[0].poll_seconds, Some(5.0));
    }

    #[test]
    fn env_overrides_file() {
        let mut s = Settings::default();
        s.apply_env(|k| match k {
            "SOHOA_JOBS" => Some("3".into()),
            "SOHOA_LANGUAGES" => Some("vie".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.jobs, 3);
        assert_eq!(s.ocr.languages, "vie");
        assert!(s
            .apply_env(|k| (k == "SOHOA_JOBS").then(|| "x".into()))
            .is_err());
    }
}
