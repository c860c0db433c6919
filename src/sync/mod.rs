//! `sohoa sync`: a commune station pushes its archived documents (PDF and
//! record) to the district server and pulls the register rows of its units.
//!
//! The outbox is in the station's own records: every document until the
//! server acknowledges it, so nothing recorded offline is forgotten, across
//! dropped connections, server restarts and station reboots. Each goes up as
//! a resumable upload (`resumable`): a cut link costs the bytes in flight, not
//! the document. A document is marked sent only after the server's reply; if
//! the reply is lost, the next try finds the same PDF on the server (uploads
//! are idempotent by SHA-256) and gets its id back.
//!
//! A pass takes the documents due smallest first (then oldest): over a slow
//! link, most documents reach the server soonest, and a big one never holds
//! up the small ones behind it; each pass reaches every due document, so a
//! big one waits at most one pass. A document that fails alone (the server
//! busy, damaged in transit) waits its own backoff while the pass goes on; one
//! the server refuses for good (4xx but 401/408/429, and 507: another unit's
//! dossier, a version conflict, a name its archive cannot take) is set aside
//! with the server's message for the operator. Only a server out of reach or
//! a refused token stops the pass; passes are then spaced by an exponential
//! backoff with jitter (`backoff`). With `[sync] hours`, documents over
//! `big_mib` wait for those hours.

pub mod resumable;
pub mod text;

pub use resumable::Progress;
pub use text::{pass_line, waiting_line};

use crate::api::{paths, RegisterPage, UploadReply};
use crate::config::Settings;
use crate::errors::ErrorCode;
use crate::format::UiLanguage;
use crate::records::{Due, ImportCounts, Records, RecordsError, RegisterCursor};
use reqwest::StatusCode;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sync facts kept in `sync_state`.
const LAST_OK: &str = "last_ok_at";
const LAST_ERROR: &str = "last_error";
const REGISTER_CURSOR: &str = "register_cursor";
/// The link speed last measured, in bytes/s.
const LINK_RATE: &str = "link_bytes_per_second";

/// Register rows asked for at once: a page fits a few seconds of a poor link.
const REGISTER_PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no server configured")]
    NoServer,
    #[error("no station token configured")]
    NoToken,
    #[error("cannot read the CA certificate {path}: {message}")]
    Ca { path: String, message: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("[sync] hours = {0:?}: expected two local times like \"17:30-07:30\"")]
    Hours(String),
    #[error("{0}")]
    Records(#[from] RecordsError),
}

/// The station's side of the API.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
    lang: UiLanguage,
    /// `[sync] max_backoff_seconds`, also the longest a failed document waits.
    max_backoff: f64,
    /// `[sync] request_timeout_seconds`.
    request_timeout: Duration,
    /// `[sync] max_kbps` in bytes/s.
    max_bps: Option<f64>,
    /// `[sync] hours` and what counts as big for them.
    hours: Option<Hours>,
    big_bytes: u64,
    /// The link speed measured so far (bytes/s).
    rate: Mutex<Option<f64>>,
    progress: Arc<Progress>,
}

/// Local hours of the day, e.g. 17:30–07:30 (across midnight).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hours {
    start: chrono::NaiveTime,
    end: chrono::NaiveTime,
}

impl Hours {
    pub fn parse(s: &str) -> Option<Hours> {
        let (a, b) = s.split_once('-')?;
        let t = |x: &str| chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
        Some(Hours {
            start: t(a)?,
            end: t(b)?,
        })
    }

    pub fn contains(&self, t: chrono::NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl std::fmt::Display for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}–{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl Client {
    pub fn new(settings: &Settings) -> Result<Client, SyncError> {
        let s = &settings.sync;
        let base = s.server.as_deref().ok_or(SyncError::NoServer)?;
        let token = s.token.as_deref().ok_or(SyncError::NoToken)?;
        let hours = match s.hours.as_deref() {
            None => None,
            Some(h) => Some(Hours::parse(h).ok_or_else(|| SyncError::Hours(h.to_string()))?),
        };
        crate::serve::install_crypto_provider();
        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(concat!("sohoa/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs_f64(s.request_timeout_seconds.max(1.0)));
        if let Some(ca) = &s.ca_file {
            let err = |message: String| SyncError::Ca {
                path: ca.display().to_string(),
                message,
            };
            let pem = std::fs::read(ca).map_err(|e| err(e.to_string()))?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| err(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        Ok(Client {
            http: builder
                .build()
                .map_err(|e| SyncError::Client(e.to_string()))?,
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            lang: settings.ui_language,
            max_backoff: s.max_backoff_seconds,
            request_timeout: Duration::from_secs_f64(s.request_timeout_seconds.max(1.0)),
            max_bps: (s.max_kbps > 0.0).then_some(s.max_kbps * 1024.0),
            hours,
            big_bytes: (s.big_mib.max(0.0) * 1_048_576.0) as u64,
            rate: Mutex::new(None),
            progress: Arc::new(Progress::default()),
        })
    }

    /// How far the current pass has got (for a progress bar).
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Whether a document of `bytes` may go now (`[sync] hours`).
    fn may_send_now(&self, bytes: u64) -> bool {
        match self.hours {
            Some(h) if bytes > self.big_bytes => h.contains(chrono::Local::now().time()),
            _ => true,
        }
    }

    pub fn hours(&self) -> Option<Hours> {
        self.hours
    }

    pub fn server(&self) -> &str {
        &self.base
    }

    fn whoami(&self) -> Result<(), Sent> {
        let resp = self
            .http
            .get(format!("{}{}", self.base, paths::STATION))
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| Sent::Offline(text::unreachable(self.lang, &self.base, &e)))?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            s => Err(classify(s, server_error(resp))),
        }
    }
}

/// How one upload ended.
#[derive(Debug)]
enum Sent {
    Ok(UploadReply),
    /// Not now, but this document may go later (it alone failed).
    Retry(String),
    /// Never, as things are: set aside with the reason.
    Refused(String),
    /// The server cannot be reached or is unwell: stop the pass.
    Offline(String),
    /// The token is refused: stop the pass.
    Unauthorized(String),
}

/// What one pass did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Pass {
    pub sent: u64,
    /// Acknowledged as already on the server (a reply lost earlier).
    pub duplicates: u64,
    /// Refused in this pass, with the reason.
    pub refused: Vec<String>,
    /// Failed in this pass and left for a later one.
    pub retry: u64,
    /// Big documents kept for `[sync] hours`.
    pub deferred: u64,
    /// Bytes of the documents the server acknowledged.
    pub bytes_sent: u64,
    /// Why the pass stopped early: the server cannot be reached, or the token.
    pub offline: Option<String>,
    pub unauthorized: Option<String>,
    pub register: Option<ImportCounts>,
    /// Documents still waiting after the pass.
    pub waiting: u64,
}

impl Pass {
    pub fn stopped(&self) -> bool {
        self.offline.is_some() || self.unauthorized.is_some()
    }
}

/// One pass: queue what is new, push what is due in id order, then pull the
/// register rows of the station's units. `on_sent` hears of each document the
/// server acknowledged ("code / name").
pub fn pass(
    records: &mut Records,
    data_dir: &Path,
    client: &Client,
    on_sent: &mut dyn FnMut(&str),
) -> Result<Pass, RecordsError> {
    let mut p = Pass::default();
    records.enqueue_outbox()?;
    if client.link_rate().is_none() {
        if let Some(r) = link_rate(records) {
            client.measured_before(r);
        }
    }
    client.progress.done.store(0, Ordering::Relaxed);
    client.progress.current.store(0, Ordering::Relaxed);
    // Documents tried in this pass (a deferred one stays due, but not for this pass).
    let mut tried = std::collections::HashSet::new();
    // One small request first: a server out of reach or a refused token is
    // known before any PDF is read (a server answers 401 before reading an
    // upload's body, which a client still sending may see as a cut connection).
    match client.whoami() {
        Ok(()) => {}
        Err(Sent::Unauthorized(why)) => p.unauthorized = Some(why),
        Err(Sent::Ok(_)) => {}
        Err(Sent::Offline(why) | Sent::Retry(why) | Sent::Refused(why)) => p.offline = Some(why),
    }
    'push: while !p.stopped() {
        let due: Vec<Due> = records
            .outbox_due(&now(), 64 + tried.len() as u32)?
            .into_iter()
            .filter(|d| tried.insert(d.id))
            .collect();
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for d in due {
            if !client.may_send_now(d.bytes) {
                p.deferred += 1;
                continue;
            }
            let (id, attempts) = (d.id, d.attempts);
            let (sent, label, sha256) = push(records, data_dir, client, &d)?;
            if let Some(r) = client.link_rate() {
                records.sync_set(LINK_RATE, &format!("{r:.0}"))?;
            }
            match sent {
                Sent::Ok(reply) => {
                    records.outbox_sent(id, reply.id, &sha256)?;
                    on_sent(&label);
                    p.sent += 1;
                    p.bytes_sent += d.bytes;
                    p.duplicates += u64::from(reply.duplicate);
                    progressed = true;
                }
                Sent::Retry(why) => {
                    let next = chrono::Utc::now()
                        + chrono::Duration::from_std(backoff(attempts + 1, client.max_backoff))
                            .unwrap_or_default();
                    records.outbox_failed(id, &why, Some(stamp(next)))?;
                    p.retry += 1;
                }
                Sent::Refused(why) => {
                    records.outbox_refused(id, &why)?;
                    p.refused.push(why);
                    progressed = true;
                }
                Sent::Offline(why) => {
                    records.outbox_failed(id, &why, None)?;
                    p.offline = Some(why);
                    break 'push;
                }
                Sent::Unauthorized(why) => {
                    p.unauthorized = Some(why);
                    break 'push;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    if !p.stopped() {
        match pull_register(records, client) {
            Ok(counts) => p.register = Some(counts),
            Err(Sent::Unauthorized(why)) => p.unauthorized = Some(why),
            Err(Sent::Offline(why) | Sent::Retry(why) | Sent::Refused(why)) => {
                p.offline = Some(why)
            }
            Err(Sent::Ok(_)) => {}
        }
    }
    match p.offline.as_ref().or(p.unauthorized.as_ref()) {
        Some(why) => records.sync_set(LAST_ERROR, &format!("{} {why}", now()))?,
        None => {
            records.sync_set(LAST_OK, &now())?;
            records.sync_set(LAST_ERROR, "")?;
        }
    }
    let summary = records.outbox_summary()?;
    p.waiting = summary.waiting;
    Ok(p)
}

/// The link speed last measured, in bytes/s.
pub fn link_rate(records: &Records) -> Option<f64> {
    records
        .sync_get(LINK_RATE)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
}

/// When the station last reached the server without error, and the last error.
pub fn last_contact(records: &Records) -> Result<(Option<String>, Option<String>), RecordsError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    Ok((
        nonempty(records.sync_get(LAST_OK)?),
        nonempty(records.sync_get(LAST_ERROR)?),
    ))
}

/// Sends one document; also returns "code / name" for progress lines, and
/// the SHA-256 of the file sent (the signed form's, if it has one).
fn push(
    records: &Records,
    data_dir: &Path,
    client: &Client,
    due: &Due,
) -> Result<(Sent, String, String), RecordsError> {
    let Some(rec) = records.upload_record(due.id)? else {
        return Ok((
            Sent::Refused(format!("document {} not found", due.id)),
            String::new(),
            String::new(),
        ));
    };
    let label = format!("{} / {}", rec.dossier.code, rec.document.name);
    let sha256 = rec
        .signed
        .as_ref()
        .map_or(&rec.document.sha256, |s| &s.sha256)
        .clone();
    Ok((
        resumable::send(client, records, due, &rec, data_dir)?,
        label,
        sha256,
    ))
}

/// The server's `{error, message}` as one line.
fn server_error(resp: reqwest::blocking::Response) -> (String, String) {
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(v) => (
            v["error"].as_str().unwrap_or_default().to_string(),
            format!(
                "[{}] {}",
                v["error"].as_str().unwrap_or("?"),
                v["message"].as_str().unwrap_or(&body)
            ),
        ),
        Err(_) => (String::new(), format!("HTTP {status}: {}", body.trim())),
    }
}

/// What a server's error reply means for the document and the pass.
fn classify(status: StatusCode, (code, message): (String, String)) -> Sent {
    let code = ErrorCode::from_api_wire(&code);
    match status.as_u16() {
        401 => Sent::Unauthorized(message),
        // Damaged in transit, the server too busy for one more upload, a body
        // stalled, an upload to start again: this document later, the others
        // now (a 503 for the database or a full disk is the whole server out
        // of reach, below).
        _ if matches!(
            code,
            Some(
                ErrorCode::HashMismatch
                    | ErrorCode::Busy
                    | ErrorCode::TooSlow
                    | ErrorCode::UploadGone
                    | ErrorCode::UploadOffset
            )
        ) =>
        {
            Sent::Retry(message)
        }
        408 | 429 => Sent::Retry(message),
        // For good, as things are: set aside with the server's message.
        400..=499 | 507 => Sent::Refused(message),
        _ => Sent::Offline(message),
    }
}

fn pull_register(records: &mut Records, client: &Client) -> Result<ImportCounts, Sent> {
    let mut total = ImportCounts::default();
    let mut cursor: RegisterCursor = records
        .sync_get(REGISTER_CURSOR)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let lang = client.lang;
    let mut cuts = 0;
    loop {
        let page = client
            .http
            .get(format!("{}{}", client.base, paths::REGISTER))
            .query(&[
                ("after_seq", cursor.seq.to_string()),
                ("after_code", cursor.code.clone()),
                ("limit", REGISTER_PAGE.to_string()),
            ])
            .bearer_auth(&client.token)
            .send()
            .map_err(Ok)
            .and_then(|resp| {
                let status = resp.status();
                if !status.is_success() {
                    return Err(Err(classify(status, server_error(resp))));
                }
                resp.json::<RegisterPage>().map_err(Ok)
            });
        let page = match page {
            Ok(page) => page,
            Err(Err(sent)) => return Err(sent),
            // Cut: the same page again, a few times (the cursor keeps what came).
            Err(Ok(e)) => {
                cuts += 1;
                if cuts >= 5 {
                    return Err(Sent::Offline(text::unreachable(lang, &client.base, &e)));
                }
                std::thread::sleep(Duration::from_millis(500 << cuts));
                continue;
            }
        };
        if !page.rows.is_empty() {
            let c = records
                .upsert_register(&page.rows)
                .map_err(|e| Sent::Retry(e.to_string()))?;
            total.added += c.added;
            total.updated += c.updated;
            total.unchanged += c.unchanged;
        }
        cursor = page.cursor;
        let saved = serde_json::to_string(&cursor).unwrap_or_default();
        records
            .sync_set(REGISTER_CURSOR, &saved)
            .map_err(|e| Sent::Retry(e.to_string()))?;
        if !page.more {
            return Ok(total);
        }
    }
}

/// The wait before try number `attempt` (1, 2, …): doubling from one second
/// up to `max_seconds`, then a random share of it between a half and the whole
/// ("equal jitter"), so stations coming back together do not call at once.
pub fn backoff(attempt: u32, max_seconds: f64) -> Duration {
    let full = 2f64
        .powi(attempt.saturating_sub(1).min(30) as i32)
        .min(max_seconds.max(1.0));
    Duration::from_secs_f64(full * (0.5 + 0.5 * unit_random()))
}

/// A number in [0, 1) from the standard library's random hash keys.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

fn now() -> String {
    stamp(chrono::Utc::now())
}

/// The timestamp form of the records (RFC 3339, UTC, seconds), which sorts as text.
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The sync loop of `sohoa watch`: a pass every `interval_seconds` while the
/// server answers, spaced by `backoff` while it does not, until `stop`.
pub fn run_loop(settings: &Settings, stop: &AtomicBool, say: &(dyn Fn(&str) + Sync)) {
    let lang = settings.ui_language;
    let client = match Client::new(settings) {
        Ok(c) => c,
        Err(e) => {
            say(&text::cannot_start(lang, &e));
            return;
        }
    };
    let mut failures = 0u32;
    let mut records: Option<Records> = None;
    while !stop.load(Ordering::Relaxed) {
        let result = match records.take() {
            Some(r) => Ok(r),
            None => Records::open_configured(settings),
        }
        .and_then(|mut r| {
            let p = pass(&mut r, &settings.data_dir, &client, &mut |_| {});
            records = Some(r);
            p
        });
        let wait = match result {
            Ok(p) => {
                // Days offline are not a line every few minutes: the first failure
                // and every tenth one are said.
                let quiet = p.stopped() && failures > 0 && !(failures + 1).is_multiple_of(10);
                if let Some(line) = pass_line(&p, client.server(), lang).filter(|_| !quiet) {
                    say(&line);
                }
                if p.stopped() {
                    failures += 1;
                    let wait = backoff(failures, settings.sync.max_backoff_seconds);
                    if !quiet {
                        say(&text::retry_in(lang, wait, p.waiting));
                    }
                    wait
                } else {
                    failures = 0;
                    Duration::from_secs_f64(settings.sync.interval_seconds.max(0.5))
                }
            }
            Err(e) => {
                failures += 1;
                records = None;
                say(&format!("sync: {e}"));
                backoff(failures, settings.sync.max_backoff_seconds)
            }
        };
        sleep_unless(stop, wait);
    }
}

/// Sleeps `d`, waking early when `stop` is raised.
pub fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = std::time::Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        for attempt in 1..12 {
            let full = 2f64.powi(attempt as i32 - 1).min(60.0);
            let d = backoff(attempt, 60.0).as_secs_f64();
            assert!(d >= full * 0.5 - 1e-9 && d <= full + 1e-9, "{attempt}: {d}");
        }
        let draws: std::collections::HashSet<u64> = (0..20)
            .map(|_| backoff(8, 600.0).as_millis() as u64)
            .collect();
        assert!(draws.len() > 10, "jitter spreads the waits: {draws:?}");
    }

    #[test]
    fn refusals_and_retries_by_status() {
        let m = |c: &str| (c.to_string(), format!("[{c}] …"));
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, m("E_BAD_TOKEN")),
            Sent::Unauthorized(_)
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, m("E_OTHER_UNIT")),
            Sent::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::CONFLICT, m("E_VERSION_CONFLICT")),
            Sent::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, m("E_HASH_MISMATCH")),
            Sent::Retry(_)
        ));
        assert!(matches!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, m("E_BAD_PDF")),
            Sent::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, m("E_DATABASE")),
            Sent::Offline(_)
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, m("E_BUSY")),
            Sent::Retry(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, (String::new(), "HTTP 502".into())),
            Sent::Offline(_)
        ));
        // A name the server's archive cannot take: this document, for good.
        assert!(matches!(
            classify(StatusCode::INSUFFICIENT_STORAGE, m("E_STORE")),
            Sent::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, m("E_STORE_FULL")),
            Sent::Offline(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, m("E_BAD_UPLOAD")),
            Sent::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::GONE, m("E_UPLOAD_GONE")),
            Sent::Retry(_)
        ));
        assert!(matches!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                (String::new(), "HTTP 429".into())
            ),
            Sent::Retry(_)
        ));
    }

    #[test]
    fn hours_across_midnight() {
        let t = |s: &str| chrono::NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let night = Hours::parse("17:30-07:30").unwrap();
        assert!(night.contains(t("23:00")) && night.contains(t("06:59")));
        assert!(!night.contains(t("12:00")) && !night.contains(t("07:30")));
        let day = Hours::parse(" 08:00 - 11:00 ").unwrap();
        assert!(day.contains(t("08:00")) && !day.contains(t("11:00")));
        assert_eq!(night.to_string(), "17:30–07:30");
        assert_eq!(Hours::parse("17h30-7h"), None);
    }
}
