//! What operators read about syncing (Vietnamese first).

use super::{Pass, SyncError};
use crate::format::{count, UiLanguage};
use std::time::Duration;

fn pick(lang: UiLanguage, vi: String, en: String) -> String {
    if lang == UiLanguage::Vi {
        vi
    } else {
        en
    }
}

/// What a pass did, for the log: one summary line, then one indented line per
/// refusal or error; None when it did nothing worth saying.
pub fn pass_line(p: &Pass, server: &str, lang: UiLanguage) -> Option<String> {
    let n = |v: u64| count(v, lang);
    let mut parts = Vec::new();
    if p.sent > 0 {
        parts.push(pick(
            lang,
            format!("đã gửi {} tài liệu lên máy chủ {server}", n(p.sent)),
            format!("sent {} documents to {server}", n(p.sent)),
        ));
        if p.duplicates > 0 {
            parts.push(pick(
                lang,
                format!(
                    "{} tài liệu máy chủ đã có từ lần gửi trước",
                    n(p.duplicates)
                ),
                format!("{} already there from an earlier try", n(p.duplicates)),
            ));
        }
    }
    if !p.refused.is_empty() {
        parts.push(pick(
            lang,
            format!("máy chủ từ chối {} tài liệu", n(p.refused.len() as u64)),
            format!("{} documents refused", n(p.refused.len() as u64)),
        ));
    }
    if let Some(c) = p.register.filter(|c| c.added + c.updated > 0) {
        parts.push(pick(
            lang,
            format!(
                "nhận sổ tiếp nhận: {} hồ sơ mới, {} cập nhật",
                n(c.added),
                n(c.updated)
            ),
            format!(
                "register rows received: {} new, {} updated",
                n(c.added),
                n(c.updated)
            ),
        ));
    }
    let mut details: Vec<String> = p.refused.clone();
    if let Some(why) = &p.unauthorized {
        parts.push(pick(
            lang,
            "máy chủ không chấp nhận mã truy cập của trạm".into(),
            "the server refuses this station's token".into(),
        ));
        details.push(pick(
            lang,
            format!(
                "{} Hãy kiểm tra [sync] token (lệnh sohoa station add trên máy chủ cấp mã mới).",
                sentence(why)
            ),
            format!(
                "{} Check [sync] token (sohoa station add on the server makes a new one).",
                sentence(why)
            ),
        ));
    } else if let Some(why) = &p.offline {
        parts.push(pick(lang, "chưa gửi được".into(), "cannot send now".into()));
        details.push(sentence(why));
    }
    if parts.is_empty() {
        return None;
    }
    if p.waiting > 0 {
        parts.push(pick(
            lang,
            format!("còn {} tài liệu chờ gửi", n(p.waiting)),
            format!("{} documents still waiting", n(p.waiting)),
        ));
    }
    let mut out = pick(
        lang,
        format!("Đồng bộ: {}.", parts.join("; ")),
        format!("Sync: {}.", parts.join("; ")),
    );
    for d in details {
        out += &format!("\n  {d}");
    }
    Some(out)
}

/// A message as one sentence, ending with one full stop.
fn sentence(s: &str) -> String {
    format!("{}.", s.trim_end().trim_end_matches('.'))
}

/// After a pass that could not reach the server.
pub fn retry_in(lang: UiLanguage, wait: Duration, waiting: u64) -> String {
    let secs = wait.as_secs().max(1);
    pick(
        lang,
        format!(
            "Đồng bộ: thử lại sau {secs} giây; {} tài liệu đang chờ được giữ an toàn trên trạm.",
            count(waiting, lang)
        ),
        format!(
            "Sync: retrying in {secs} s; {} waiting documents are kept safe on this station.",
            count(waiting, lang)
        ),
    )
}

/// What `sohoa status` and `sohoa sync` say about what waits.
pub fn waiting_line(waiting: u64, since: Option<&str>, lang: UiLanguage) -> String {
    match (waiting, since) {
        (0, _) => pick(
            lang,
            "không còn tài liệu chờ gửi".into(),
            "nothing waiting".into(),
        ),
        (w, Some(t)) => pick(
            lang,
            format!("{} tài liệu chờ gửi (cũ nhất từ {t})", count(w, lang)),
            format!(
                "{} documents waiting (the oldest since {t})",
                count(w, lang)
            ),
        ),
        (w, None) => pick(
            lang,
            format!("{} tài liệu chờ gửi", count(w, lang)),
            format!("{} documents waiting", count(w, lang)),
        ),
    }
}

pub(super) fn unreachable(lang: UiLanguage, server: &str, e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        pick(lang, "quá thời gian chờ".into(), "timed out".into())
    } else if e.is_connect() {
        pick(lang, "không kết nối được".into(), "cannot connect".into())
    } else {
        pick(lang, "kết nối bị ngắt".into(), "connection dropped".into())
    };
    pick(
        lang,
        format!("máy chủ {server}: {what} ({e})"),
        format!("server {server}: {what} ({e})"),
    )
}

pub(super) fn local_unreadable(lang: UiLanguage, path: &str, e: &std::io::Error) -> String {
    pick(
        lang,
        format!("[E_LOCAL_MISSING] Không đọc được tệp lưu trữ {path} trên trạm ({e}); tài liệu không được gửi. Hãy khôi phục tệp hoặc số hóa lại hồ sơ, rồi chạy sohoa sync --retry-refused."),
        format!("[E_LOCAL_MISSING] Cannot read the archive file {path} on this station ({e}); not sent. Restore it or digitize the dossier again, then run sohoa sync --retry-refused."),
    )
}

pub(super) fn local_changed(lang: UiLanguage, path: &str) -> String {
    pick(
        lang,
        format!("[E_LOCAL_CHANGED] Tệp lưu trữ {path} trên trạm đã bị thay đổi sau khi ghi (SHA-256 khác bản ghi); tài liệu không được gửi. Hãy số hóa lại hồ sơ, rồi chạy sohoa sync --retry-refused."),
        format!("[E_LOCAL_CHANGED] The archive file {path} on this station changed after it was written (its SHA-256 differs from the record); not sent. Digitize the dossier again, then run sohoa sync --retry-refused."),
    )
}

pub fn cannot_start(lang: UiLanguage, e: &SyncError) -> String {
    match e {
        SyncError::NoServer => pick(
            lang,
            "Đồng bộ: chưa khai báo máy chủ ([sync] server hoặc --server).".into(),
            "Sync: no server set ([sync] server or --server).".into(),
        ),
        SyncError::NoToken => pick(
            lang,
            "Đồng bộ: chưa có mã truy cập của trạm ([sync] token hoặc --token; lệnh sohoa station add trên máy chủ cấp mã).".into(),
            "Sync: no station token ([sync] token or --token; sohoa station add on the server makes one).".into(),
        ),
        _ => pick(lang, format!("Đồng bộ: {e}"), format!("Sync: {e}")),
    }
}
