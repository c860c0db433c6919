//! `sohoa sync`: push what waits to the district server, pull the register.

use super::{print_json, print_out, say, CliError, CliResult, ExitCode, Outcome};
use crate::config::Settings;
use crate::format::{count, size};
use crate::records::{ImportCounts, Records};
use crate::sync::{self, Client, Pass};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(serde::Serialize)]
struct Summary {
    server: String,
    sent: u64,
    bytes_sent: u64,
    duplicates: u64,
    register: ImportCounts,
    waiting: u64,
    waiting_bytes: u64,
    /// Big documents kept for `[sync] hours`, and those hours.
    deferred: u64,
    hours: Option<String>,
    /// The link speed measured, in bytes/s.
    link_bytes_per_second: Option<f64>,
    waiting_since: Option<String>,
    refused: Vec<crate::records::Refused>,
    unauthorized: Option<String>,
    offline: Option<String>,
}

pub fn run(settings: &Settings, wait: f64, retry_refused: bool, json: bool) -> CliResult {
    let lang = settings.ui_language;
    let client = Client::new(settings)
        .map_err(|e| CliError::new(ExitCode::Usage, sync::text::cannot_start(lang, &e)))?;
    let mut records = Records::open_configured(settings)?;
    if retry_refused {
        let n = records.outbox_retry_refused()?;
        eprintln!(
            "{}",
            say(
                lang,
                &format!(
                    "Đưa lại {} tài liệu bị từ chối vào hàng chờ gửi.",
                    count(n, lang)
                ),
                &format!("{n} refused documents put back in line."),
            )
        );
    }
    let deadline = Instant::now() + Duration::from_secs_f64(wait.max(0.0));
    let never = AtomicBool::new(false);
    let (mut sent, mut duplicates, mut register) = (0, 0, ImportCounts::default());
    let mut bytes_sent = 0u64;
    let mut failures = 0u32;
    // A bar of bytes on a terminal (sent of waiting, the rate), a line per
    // document in logs (as `batch` does).
    let progress = client.progress();
    let bar = std::io::stderr().is_terminal().then(|| {
        let total = records.outbox_summary().map_or(0, |s| s.waiting_bytes);
        let (label, left) = (say(lang, "đã gửi", "sent"), say(lang, "còn", "left"));
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {{bar:30}} {label} {{sent}}/{{waiting}} · {{rate}} · {left} {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "sent",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&size(s.pos(), lang));
            },
        )
        .with_key(
            "waiting",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&size(s.len().unwrap_or(0), lang));
            },
        )
        .with_key(
            "rate",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", size(s.per_sec() as u64, lang));
            },
        );
        ProgressBar::new(total).with_style(style)
    });
    let done = AtomicBool::new(false);
    // Bytes acknowledged in earlier passes of this run.
    let before = AtomicU64::new(0);
    let last: Pass = std::thread::scope(|scope| -> Result<Pass, CliError> {
        if let Some(b) = &bar {
            let (b, progress, done, before) = (b.clone(), progress.clone(), &done, &before);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    b.set_position(before.load(Ordering::Relaxed) + progress.sent());
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
        }
        let mut on_sent = |label: &str| {
            if bar.is_none() {
                eprintln!(
                    "sohoa: {}",
                    say(lang, &format!("đã gửi {label}"), &format!("sent {label}"))
                )
            }
        };
        let last = loop {
            let p = match sync::pass(&mut records, &settings.data_dir, &client, &mut on_sent) {
                Ok(p) => p,
                Err(e) => {
                    done.store(true, Ordering::Relaxed);
                    return Err(e.into());
                }
            };
            sent += p.sent;
            bytes_sent += p.bytes_sent;
            before.fetch_add(p.bytes_sent, Ordering::Relaxed);
            duplicates += p.duplicates;
            if let Some(c) = p.register {
                register.added += c.added;
                register.updated += c.updated;
                register.unchanged += c.unchanged;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            // Big documents kept for [sync] hours do not make this run wait.
            if p.unauthorized.is_some() || p.waiting <= p.deferred || left.is_zero() {
                break p;
            }
            failures += 1;
            let pause = sync::backoff(failures, settings.sync.max_backoff_seconds).min(left);
            // The summary at the end says the rest; here, why we wait.
            if let Some(line) = sync::pass_line(&p, client.server(), lang) {
                eprintln!("{line}");
            }
            eprintln!("{}", sync::text::retry_in(lang, pause, p.waiting));
            sync::sleep_unless(&never, pause);
        };
        done.store(true, Ordering::Relaxed);
        Ok(last)
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = records.outbox_summary()?;
    let out = Summary {
        server: client.server().to_string(),
        sent,
        bytes_sent,
        duplicates,
        register,
        waiting: summary.waiting,
        waiting_bytes: summary.waiting_bytes,
        deferred: last.deferred,
        hours: client.hours().map(|h| h.to_string()),
        link_bytes_per_second: client.link_rate(),
        waiting_since: summary.waiting_since.clone(),
        refused: summary.refused.clone(),
        unauthorized: last.unauthorized.clone(),
        offline: last.offline.clone(),
    };
    if json {
        print_json(&out)?;
    } else {
        print_out(render(&out, lang).as_bytes())?;
    }
    Ok(
        if out.waiting == 0 && out.refused.is_empty() && out.unauthorized.is_none() {
            Outcome::Done
        } else {
            Outcome::SyncIncomplete
        },
    )
}

fn render(s: &Summary, lang: crate::format::UiLanguage) -> String {
    let n = |v: u64| count(v, lang);
    let since = s.waiting_since.as_deref().map(super::watch::local_time);
    let mut out = say(
        lang,
        &format!(
            "Đồng bộ với máy chủ {}: đã gửi {} tài liệu ({}; {} máy chủ đã có sẵn); sổ tiếp nhận: {} hồ sơ mới, {} cập nhật; {}.\n",
            s.server,
            n(s.sent),
            size(s.bytes_sent, lang),
            n(s.duplicates),
            n(s.register.added),
            n(s.register.updated),
            sync::waiting_line(s.waiting, since.as_deref(), lang)
        ),
        &format!(
            "Sync with {}: sent {} documents ({}; {} already there); register: {} new, {} updated; {}.\n",
            s.server,
            s.sent,
            size(s.bytes_sent, lang),
            s.duplicates,
            s.register.added,
            s.register.updated,
            sync::waiting_line(s.waiting, since.as_deref(), lang)
        ),
    );
    let rate = s
        .link_bytes_per_second
        .map(|r| format!("{}/s", size(r as u64, lang)));
    if s.waiting > 0 {
        out += &say(
            lang,
            &format!(
                "Còn chờ gửi: {}; tốc độ đường truyền đo được: {}.\n",
                size(s.waiting_bytes, lang),
                rate.as_deref().unwrap_or("chưa đo")
            ),
            &format!(
                "Still to send: {}; measured link speed: {}.\n",
                size(s.waiting_bytes, lang),
                rate.as_deref().unwrap_or("not measured yet")
            ),
        );
    } else if let Some(rate) = &rate {
        out += &say(
            lang,
            &format!("Tốc độ đường truyền đo được: {rate}.\n"),
            &format!("Measured link speed: {rate}.\n"),
        );
    }
    if s.deferred > 0 {
        out += &say(
            lang,
            &format!(
                "{} tài liệu lớn chờ đến khung giờ {} mới gửi ([sync] hours).\n",
                n(s.deferred),
                s.hours.as_deref().unwrap_or("-")
            ),
            &format!(
                "{} big documents wait for the hours {} ([sync] hours).\n",
                s.deferred,
                s.hours.as_deref().unwrap_or("-")
            ),
        );
    }
    if let Some(why) = &s.unauthorized {
        out += &say(
            lang,
            &format!("Máy chủ không chấp nhận mã truy cập của trạm: {why}\nHãy kiểm tra [sync] token; lệnh sohoa station add trên máy chủ cấp mã mới.\n"),
            &format!("The server refuses this station's token: {why}\nCheck [sync] token; sohoa station add on the server makes a new one.\n"),
        );
    } else if let (Some(why), true) = (&s.offline, s.waiting > 0) {
        out += &say(
            lang,
            &format!("Chưa gửi được: {why}\nCác tài liệu vẫn được giữ an toàn trên trạm; sohoa watch (hoặc lần chạy sohoa sync sau) sẽ gửi tiếp khi có mạng.\n"),
            &format!("Cannot send now: {why}\nThe documents are kept safe on this station; sohoa watch (or the next sohoa sync) sends them once the server answers.\n"),
        );
    }
    if !s.refused.is_empty() {
        out += &say(
            lang,
            &format!(
                "{} tài liệu bị từ chối (không gửi lại tự động):\n",
                n(s.refused.len() as u64)
            ),
            &format!(
                "{} documents refused (not retried automatically):\n",
                s.refused.len()
            ),
        );
        for r in &s.refused {
            out += &format!("  {} / {}: {}\n", r.dossier_code, r.name, r.error);
        }
    }
    out
}
