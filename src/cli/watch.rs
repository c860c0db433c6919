//! `sohoa watch` (signals, the drain deadline, operator log lines) and
//! `sohoa status`.

use super::{print_json, print_out, CliError, CliResult, ExitCode, Outcome};
use crate::config::Settings;
use crate::format::{count, plural, size, UiLanguage, LOCAL_TIME};
use crate::pipeline::BatchError;
use crate::records::Records;
use crate::watch::{self, LockError, WatchError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An operator line on stderr, with the local time.
fn say(line: &str) {
    eprintln!("{}  {line}", chrono::Local::now().format(LOCAL_TIME));
}

pub fn watch(
    settings: &Settings,
    inboxes: &[PathBuf],
    settle: Option<f64>,
    poll: Option<f64>,
) -> CliResult {
    let lang = settings.ui_language;
    let specs = watch::inbox_specs(settings, inboxes, settle, poll);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // A second signal ends the process at once (what is in flight is redone
        // at the next start); the first asks for a drain.
        let registered =
            signal_hook::flag::register_conditional_shutdown(sig, 0, Arc::clone(&stop))
                .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)));
        registered.map_err(|e| CliError::internal(format!("cannot handle signals: {e}")))?;
    }
    // The drain deadline: in-flight work gets `drain_seconds`, then we leave;
    // the next start redoes what was cut short.
    let drain = settings.watch.drain_seconds.max(0.0);
    let watchdog = Arc::clone(&stop);
    std::thread::spawn(move || {
        while !watchdog.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
        say(&watch::text_stopping(lang, drain));
        std::thread::sleep(Duration::from_secs_f64(drain));
        say(&watch::text_drain_timeout(lang));
        std::process::exit(0);
    });
    // The station's sync loop runs beside the watcher, on its own connection.
    if settings.sync.server.is_some() {
        let (settings, stop) = (settings.clone(), Arc::clone(&stop));
        std::thread::spawn(move || crate::sync::run_loop(&settings, &stop, &say));
    }
    // `[sign] mode = "auto"`: the key is opened (and its PIN asked) before
    // the first folder; each dossier archived is signed after its line.
    let auto = super::sign::OfficerKey::auto(settings)?;
    let records = match &auto {
        Some(_) => Some(Records::open_configured(settings)?),
        None => None,
    };
    let archived = |code: &str| {
        let (Some(key), Some(records)) = (&auto, &records) else {
            return;
        };
        match key.sign_new(settings, records, &[code.to_string()], &say) {
            Ok(s) => {
                if let Some(line) = key.said(&s) {
                    say(&line);
                }
            }
            Err(e) => say(&e.to_string()),
        }
    };
    watch::run(settings, specs, &stop, &say, &archived).map_err(|e| fatal(&e, lang))?;
    Ok(Outcome::Done)
}

/// What the operator reads when the watcher cannot start, and the exit code.
fn fatal(e: &WatchError, lang: UiLanguage) -> CliError {
    let exit = match e {
        WatchError::Lock(LockError::Held { .. }) => ExitCode::AlreadyRunning,
        WatchError::Lock(LockError::Io { .. }) | WatchError::Records(_) => ExitCode::DataDir,
        WatchError::Pipeline(BatchError::Ocr(_)) => ExitCode::MissingDependency,
        WatchError::Pipeline(BatchError::Records(_)) => ExitCode::DataDir,
        WatchError::Inbox(_) | WatchError::NoInbox => ExitCode::Usage,
        WatchError::Pipeline(_) => ExitCode::Internal,
    };
    let message = match (e, lang) {
        (WatchError::Lock(LockError::Held { path, holder }), UiLanguage::Vi) => format!(
            "đã có một tiến trình sohoa watch khác chạy trên thư mục dữ liệu {} ({holder}); không chạy thêm tiến trình thứ hai",
            path.display()
        ),
        (WatchError::Inbox(p), UiLanguage::Vi) => {
            format!("thư mục tiếp nhận {} không tồn tại hoặc không phải thư mục", p.display())
        }
        (WatchError::NoInbox, UiLanguage::Vi) => {
            "chưa có thư mục tiếp nhận nào: hãy ghi đường dẫn trên dòng lệnh hoặc khai báo [[inbox]] trong tệp cấu hình".into()
        }
        _ => e.to_string(),
    };
    CliError::new(exit, message)
}

#[derive(serde::Serialize)]
struct Status {
    watcher_running: bool,
    watcher: Option<String>,
    inboxes: Vec<InboxLine>,
    recent_failures: Vec<crate::records::RecentFailure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sync: Option<SyncStatus>,
}

/// What waits to go to the district server.
#[derive(serde::Serialize)]
struct SyncStatus {
    server: Option<String>,
    #[serde(flatten)]
    outbox: crate::records::OutboxSummary,
    last_ok_at: Option<String>,
    last_error: Option<String>,
    /// The link speed last measured, in bytes/s.
    link_bytes_per_second: Option<f64>,
}

#[derive(serde::Serialize)]
struct InboxLine {
    #[serde(flatten)]
    status: crate::records::InboxStatus,
    waiting: usize,
    /// The entries waiting, by name in natural order.
    waiting_folders: Vec<String>,
}

/// How many waiting or in-progress folders the status text names.
const NAMED: usize = 5;

/// "3 — A, B, C" (the first few names, then "…").
fn named(n: usize, names: &[String], lang: UiLanguage) -> String {
    if names.is_empty() {
        return count(n as u64, lang);
    }
    let mut shown = names[..names.len().min(NAMED)].join(", ");
    if n > NAMED {
        shown += ", …";
    }
    format!("{} — {shown}", count(n as u64, lang))
}

pub fn status(settings: &Settings, json: bool) -> CliResult {
    let lang = settings.ui_language;
    let holder = watch::holder(&settings.data_dir, settings.database_url.is_some());
    let (inboxes, recent_failures, sync) =
        if settings.database_url.is_some() || settings.database_path().exists() {
            let records = Records::open_configured(settings)?;
            let inboxes = records.inbox_status().unwrap_or_default();
            let failures = records.recent_failures(5).unwrap_or_default();
            (inboxes, failures, sync_status(settings, &records))
        } else {
            (Vec::new(), Vec::new(), None)
        };
    let marker = &settings.watch.marker;
    let inboxes: Vec<InboxLine> = inboxes
        .into_iter()
        .map(|status| {
            let waiting_folders: Vec<String> =
                watch::waiting(std::path::Path::new(&status.path), marker)
                    .into_iter()
                    .filter(|f| !status.in_progress_folders.contains(f))
                    .collect();
            InboxLine {
                waiting: waiting_folders.len(),
                waiting_folders,
                status,
            }
        })
        .collect();
    let status = Status {
        watcher_running: holder.is_some(),
        watcher: holder,
        inboxes,
        recent_failures,
        sync,
    };
    if json {
        print_json(&status)?;
    } else {
        print_out(render(&status, lang).as_bytes())?;
    }
    Ok(if status.watcher_running {
        Outcome::Done
    } else {
        Outcome::NoWatcher
    })
}

/// The outbox, when this station syncs (or did).
fn sync_status(settings: &Settings, records: &Records) -> Option<SyncStatus> {
    let outbox = records.outbox_summary().ok()?;
    let used = outbox.sent > 0 || !outbox.refused.is_empty();
    if settings.sync.server.is_none() && !used {
        return None;
    }
    let (last_ok_at, last_error) = crate::sync::last_contact(records).ok()?;
    Some(SyncStatus {
        server: settings.sync.server.clone(),
        outbox,
        last_ok_at,
        last_error,
        link_bytes_per_second: crate::sync::link_rate(records),
    })
}

/// A stored UTC timestamp as local time, the way operators read dates.
pub(crate) fn local_time(ts: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format(LOCAL_TIME)
                .to_string()
        })
        .unwrap_or_else(|_| ts.to_string())
}

fn render(s: &Status, lang: UiLanguage) -> String {
    let n = |v: usize| count(v as u64, lang);
    let mut out = String::new();
    let vi = lang == UiLanguage::Vi;
    out += &match (&s.watcher, vi) {
        (Some(h), true) => format!("Tiến trình theo dõi (sohoa watch): đang chạy ({h})\n"),
        (Some(h), false) => format!("Watcher (sohoa watch): running ({h})\n"),
        (None, true) => {
            "Tiến trình theo dõi (sohoa watch): KHÔNG chạy — hồ sơ mới sẽ không được xử lý\n".into()
        }
        (None, false) => {
            "Watcher (sohoa watch): NOT running — new dossiers are not being taken\n".into()
        }
    };
    for i in &s.inboxes {
        let st = &i.status;
        let mode = match (st.mode.as_str(), vi) {
            ("events", true) => "theo sự kiện".to_string(),
            ("events", false) => "events".to_string(),
            (_, true) => "quét định kỳ".to_string(),
            (_, false) => "polling".to_string(),
        };
        let last = st.last_scan_at.as_deref().map_or("-".into(), local_time);
        let waiting = named(i.waiting, &i.waiting_folders, lang);
        let in_progress = named(st.in_progress as usize, &st.in_progress_folders, lang);
        let (done, with_failures, refused) = (
            st.done_today as usize,
            st.done_with_failures_today as usize,
            st.refused_today as usize,
        );
        out += &if vi {
            let mut today = format!("xong {} hồ sơ", n(done));
            if with_failures > 0 {
                today += &format!(" (trong đó {} hồ sơ có tệp lỗi)", n(with_failures));
            }
            if refused > 0 {
                today += &format!(
                    "; {} mục không xử lý được (thư mục sai mã, tệp nằm ngoài thư mục hồ sơ…), đã chuyển vào failed/",
                    n(refused)
                );
            }
            format!(
                "Thư mục tiếp nhận {} ({mode}; lần quét cuối {last})\n  Chờ xử lý: {waiting}\n  Đang xử lý: {in_progress}\n  Hôm nay: {today}\n",
                st.path
            )
        } else {
            let mut today = plural(done as u64, "dossier", "dossiers", lang) + " done";
            if with_failures > 0 {
                today += &format!(" ({with_failures} with bad files)");
            }
            if refused > 0 {
                today += &format!(
                    "; {} that could not be taken (wrong folder code, loose files…), moved to failed/",
                    plural(refused as u64, "entry", "entries", lang)
                );
            }
            format!(
                "Inbox {} ({mode}; last scan {last})\n  Waiting: {waiting}\n  In progress: {in_progress}\n  Today: {today}\n",
                st.path
            )
        };
    }
    if let Some(sync) = &s.sync {
        let server = sync.server.as_deref().unwrap_or("-");
        let since = sync.outbox.waiting_since.as_deref().map(local_time);
        let last_ok = sync.last_ok_at.as_deref().map_or("-".into(), local_time);
        let waiting = crate::sync::waiting_line(sync.outbox.waiting, since.as_deref(), lang);
        out += &if vi {
            format!(
                "Đồng bộ lên máy chủ {server}: {waiting}; đã gửi {}; lần liên lạc thành công cuối {last_ok}\n",
                n(sync.outbox.sent as usize)
            )
        } else {
            format!(
                "Sync to {server}: {waiting}; sent {}; last successful contact {last_ok}\n",
                sync.outbox.sent
            )
        };
        let rate = sync
            .link_bytes_per_second
            .map(|r| format!("{}/s", size(r as u64, lang)));
        if sync.outbox.waiting > 0 {
            out += &if vi {
                format!(
                    "  Còn chờ gửi: {}; tốc độ đường truyền đo được: {}\n",
                    size(sync.outbox.waiting_bytes, lang),
                    rate.as_deref().unwrap_or("chưa đo")
                )
            } else {
                format!(
                    "  Still to send: {}; measured link speed: {}\n",
                    size(sync.outbox.waiting_bytes, lang),
                    rate.as_deref().unwrap_or("not measured yet")
                )
            };
        } else if let Some(rate) = &rate {
            out += &if vi {
                format!("  Tốc độ đường truyền đo được: {rate}\n")
            } else {
                format!("  Measured link speed: {rate}\n")
            };
        }
        if let Some(p) = &sync.outbox.partial {
            out += &if vi {
                format!(
                    "  Đang gửi dở {} / {}: máy chủ đã nhận {} trên {} ({})\n",
                    p.dossier_code,
                    p.name,
                    size(p.offset, lang),
                    size(p.bytes, lang),
                    crate::format::percent(p.offset, p.bytes, lang)
                )
            } else {
                format!(
                    "  Partly sent {} / {}: the server holds {} of {} ({})\n",
                    p.dossier_code,
                    p.name,
                    size(p.offset, lang),
                    size(p.bytes, lang),
                    crate::format::percent(p.offset, p.bytes, lang)
                )
            };
        }
        if let Some(e) = &sync.last_error {
            out += &if vi {
                format!("  Lỗi gần nhất: {e}\n")
            } else {
                format!("  Last error: {e}\n")
            };
        }
        if !sync.outbox.refused.is_empty() {
            out += &if vi {
                format!(
                    "  Bị từ chối ({}; sửa rồi chạy sohoa sync --retry-refused):\n",
                    n(sync.outbox.refused.len())
                )
            } else {
                format!(
                    "  Refused ({}; fix, then run sohoa sync --retry-refused):\n",
                    sync.outbox.refused.len()
                )
            };
            for r in &sync.outbox.refused {
                out += &format!("    {} / {}: {}\n", r.dossier_code, r.name, r.error);
            }
        }
    }
    if !s.recent_failures.is_empty() {
        out += if vi {
            "Lỗi gần đây:\n"
        } else {
            "Recent failures:\n"
        };
        for f in &s.recent_failures {
            out += &format!(
                "  {}  {}  [{}] {}\n",
                local_time(&f.at),
                f.dossier_code,
                f.error_code,
                f.message
            );
        }
    }
    out
}
