//! What the watcher tells operators, in Vietnamese by default (English as a
//! setting). Each line names the dossier code.

use crate::format::{count, plural, UiLanguage};
use crate::pipeline::Flagged;

/// The `.loi.txt` note written beside a failed file.
pub fn failure_note(
    lang: UiLanguage,
    message: &str,
    code: &str,
    source: &str,
    folder: &str,
) -> String {
    let at = chrono::Local::now().format("%d/%m/%Y %H:%M");
    match lang {
        UiLanguage::Vi => format!(
            "{message}\n\nTệp gốc: {source}\nMã lỗi: {code}\nThời điểm: {at}\n\n\
             Cách xử lý lại: sửa hoặc quét lại tệp, rồi chép tệp vào thư mục hồ sơ \"{folder}\" \
             trong thư mục tiếp nhận; sohoa sẽ tự xử lý. Không cần chép tệp .loi.txt này.\n"
        ),
        UiLanguage::En => format!(
            "{message}\n\nOriginal file: {source}\nError code: {code}\nTime: {at}\n\n\
             To retry: fix or rescan the file, then copy it into the dossier folder \"{folder}\" \
             of the scan inbox; sohoa will take it. There is no need to copy this .loi.txt file.\n"
        ),
    }
}

pub fn started(lang: UiLanguage, inboxes: &[(String, String)], data_dir: &str) -> String {
    let list = inboxes
        .iter()
        .map(|(p, mode)| format!("{p} ({mode})"))
        .collect::<Vec<_>>()
        .join(", ");
    match lang {
        UiLanguage::Vi => format!(
            "Bắt đầu theo dõi {} thư mục tiếp nhận: {list}; thư mục dữ liệu: {data_dir}",
            inboxes.len()
        ),
        UiLanguage::En => format!(
            "Watching {} scan inbox(es): {list}; data folder: {data_dir}",
            inboxes.len()
        ),
    }
}

pub fn mode_events(lang: UiLanguage) -> String {
    match lang {
        UiLanguage::Vi => "theo sự kiện".into(),
        UiLanguage::En => "events".into(),
    }
}

pub fn mode_polling(lang: UiLanguage, secs: f64) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "quét định kỳ {} giây",
            crate::format::decimal(secs, 1, lang)
        ),
        UiLanguage::En => format!("polled every {secs} s"),
    }
}

pub fn events_unavailable(lang: UiLanguage, inbox: &str, secs: f64, why: &str) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "Không nhận được thông báo thay đổi từ {inbox} ({why}); chuyển sang quét định kỳ {} giây",
            crate::format::decimal(secs, 1, lang)
        ),
        UiLanguage::En => {
            format!("No change events from {inbox} ({why}); polling it every {secs} s instead")
        }
    }
}

/// The line for a dossier taken: what was archived, kept, failed and left.
pub struct Taken<'a> {
    pub code: &'a str,
    pub archived: usize,
    pub pages: usize,
    pub unchanged: usize,
    pub failed_files: usize,
    pub deferred: usize,
    pub processed_to: &'a str,
    /// What the rules flag in the documents archived now.
    pub flagged: &'a Flagged,
}

pub fn taken(lang: UiLanguage, t: &Taken) -> String {
    let n = |v: usize| count(v as u64, lang);
    let en = |v: usize, one: &str, many: &str| plural(v as u64, one, many, lang);
    let pages = t.flagged.pages_phrase(lang).unwrap_or_default();
    // Documents of blank pages only, named without the dossier code the line starts with.
    let prefix = format!("{}/", t.code);
    let blank: Vec<&str> = t
        .flagged
        .blank_documents
        .iter()
        .map(|d| d.strip_prefix(&prefix).unwrap_or(d))
        .collect();
    let blank = blank.join(", ");
    // Each clause in both languages; the line keeps those that apply.
    let clauses = [
        (
            t.archived > 0,
            format!(
                "đã số hóa {} tài liệu ({} trang)",
                n(t.archived),
                n(t.pages)
            ),
            format!(
                "digitized {} ({})",
                en(t.archived, "document", "documents"),
                en(t.pages, "page", "pages")
            ),
        ),
        (
            !pages.is_empty(),
            format!("cần kiểm tra {pages}"),
            format!("to check: {pages}"),
        ),
        (
            !blank.is_empty(),
            format!("{blank}: chỉ có trang trắng nên chưa tính là đã số hóa, hãy kiểm tra bản giấy và quét lại"),
            format!("{blank}: only blank pages, not counted as digitized; check the paper and scan it again"),
        ),
        (
            t.unchanged > 0,
            format!("{} tài liệu đã có trong kho", n(t.unchanged)),
            format!("{} already archived", en(t.unchanged, "document", "documents")),
        ),
        (
            t.archived + t.unchanged > 0,
            format!("tệp gốc chuyển vào {}", t.processed_to),
            format!("originals moved to {}", t.processed_to),
        ),
        (
            t.failed_files > 0,
            format!(
                "{} tệp lỗi chuyển vào failed/{}/ (xem tệp .loi.txt bên cạnh)",
                n(t.failed_files),
                t.code
            ),
            format!(
                "{} moved to failed/{}/ (see the .loi.txt beside each)",
                en(t.failed_files, "bad file", "bad files"),
                t.code
            ),
        ),
        (
            t.deferred > 0,
            format!("{} tài liệu để lại xử lý sau", n(t.deferred)),
            format!("{} left for later", en(t.deferred, "document", "documents")),
        ),
    ];
    let parts: Vec<String> = clauses
        .into_iter()
        .filter(|(applies, _, _)| *applies)
        .map(|(_, vi, en)| if lang == UiLanguage::Vi { vi } else { en })
        .collect();
    match lang {
        UiLanguage::Vi => format!("Hồ sơ {}: {}", t.code, parts.join("; ")),
        UiLanguage::En => format!("Dossier {}: {}", t.code, parts.join("; ")),
    }
}

pub fn failed(lang: UiLanguage, code: &str, message: &str) -> String {
    match lang {
        UiLanguage::Vi => format!("Hồ sơ {code}: LỖI — {message}"),
        UiLanguage::En => format!("Dossier {code}: ERROR — {message}"),
    }
}

pub fn move_failed(lang: UiLanguage, src: &str, why: &str) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "Chưa chuyển được tệp {src} ({why}); sẽ thử lại. Hãy kiểm tra quyền ghi thư mục dữ liệu."
        ),
        UiLanguage::En => format!(
            "Could not move {src} yet ({why}); will retry. Check write permission on the data folder."
        ),
    }
}

pub fn stopping(lang: UiLanguage, drain: f64) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "Nhận lệnh dừng: hoàn tất tài liệu đang xử lý (tối đa {} giây) rồi thoát",
            crate::format::decimal(drain, if drain.fract() == 0.0 { 0 } else { 1 }, lang)
        ),
        UiLanguage::En => {
            format!("Stopping: finishing the documents in progress (at most {drain} s)")
        }
    }
}

pub fn stopped(lang: UiLanguage) -> String {
    match lang {
        UiLanguage::Vi => {
            "Đã dừng. Hồ sơ còn trong thư mục tiếp nhận sẽ được xử lý khi chạy lại.".into()
        }
        UiLanguage::En => {
            "Stopped. Dossiers still in the inboxes are taken at the next start.".into()
        }
    }
}

pub fn drain_timeout(lang: UiLanguage) -> String {
    match lang {
        UiLanguage::Vi => "Hết thời gian chờ; thoát ngay. Tài liệu dở dang sẽ được xử lý lại khi chạy lại (không mất tệp nào).".into(),
        UiLanguage::En => "Drain time is up; exiting now. Unfinished documents are redone at the next start (nothing is lost).".into(),
    }
}

pub fn resolved(lang: UiLanguage, files: usize, to: &str) -> String {
    let n = count(files as u64, lang);
    match lang {
        UiLanguage::Vi => format!(
            "Đã chuyển {n} tệp lỗi cũ nay đã xử lý xong (kèm ghi chú .loi.txt) sang {to}; thư mục failed/ chỉ còn những tệp cần sửa"
        ),
        UiLanguage::En => format!(
            "Moved {}, now gone through, with their .loi.txt notes to {to}; failed/ holds only what is still to fix",
            plural(files as u64, "earlier failed file", "earlier failed files", lang)
        ),
    }
}

pub fn database_lost(lang: UiLanguage, seconds: u64) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "Mất kết nối tới cơ sở dữ liệu; sohoa thử lại sau {seconds} giây. Các tệp đang chờ vẫn nằm nguyên trong thư mục tiếp nhận."
        ),
        UiLanguage::En => format!(
            "The database cannot be reached; sohoa tries again in {seconds} s. Waiting files stay where they are in the inbox."
        ),
    }
}

pub fn recovered(lang: UiLanguage, moves: usize, temps: usize) -> String {
    match lang {
        UiLanguage::Vi => format!(
            "Khôi phục sau lần dừng đột ngột: hoàn tất {moves} lần chuyển tệp, xóa {temps} tệp tạm hoặc tệp PDF dở dang trong kho"
        ),
        UiLanguage::En => format!(
            "Recovered from an abrupt stop: finished {}, removed {} from the archive",
            plural(moves as u64, "file move", "file moves", lang),
            plural(temps as u64, "temporary or unfinished file", "temporary or unfinished files", lang)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dossier_line_names_the_code_and_only_what_happened() {
        let t = Taken {
            code: "000.00.18.H44-231120-0030",
            archived: 1,
            pages: 1,
            unchanged: 0,
            failed_files: 3,
            deferred: 0,
            processed_to: "processed/2026-11-30/000.00.18.H44-231120-0030/",
            flagged: &Flagged::default(),
        };
        assert_eq!(
            taken(UiLanguage::Vi, &t),
            "Hồ sơ 000.00.18.H44-231120-0030: đã số hóa 1 tài liệu (1 trang); tệp gốc chuyển vào \
             processed/2026-11-30/000.00.18.H44-231120-0030/; 3 tệp lỗi chuyển vào \
             failed/000.00.18.H44-231120-0030/ (xem tệp .loi.txt bên cạnh)"
        );
        let only_failed = Taken {
            archived: 0,
            pages: 0,
            failed_files: 1,
            ..t
        };
        assert_eq!(
            taken(UiLanguage::En, &only_failed),
            "Dossier 000.00.18.H44-231120-0030: 1 bad file moved to failed/000.00.18.H44-231120-0030/ \
             (see the .loi.txt beside each)"
        );
    }

    #[test]
    fn the_dossier_line_says_what_to_check() {
        let flagged = Flagged {
            blank: 2,
            low_dpi: 1,
            not_color: 0,
            blank_documents: vec!["000.00.18.H44-231120-0030/02-trang-trang".into()],
        };
        let t = Taken {
            code: "000.00.18.H44-231120-0030",
            archived: 2,
            pages: 3,
            unchanged: 0,
            failed_files: 0,
            deferred: 0,
            processed_to: "processed/2026-11-30/000.00.18.H44-231120-0030/",
            flagged: &flagged,
        };
        assert_eq!(
            taken(UiLanguage::Vi, &t),
            "Hồ sơ 000.00.18.H44-231120-0030: đã số hóa 2 tài liệu (3 trang); cần kiểm tra 2 trang trắng, \
             1 trang dưới 200 dpi; 02-trang-trang: chỉ có trang trắng nên chưa tính là đã số hóa, hãy kiểm \
             tra bản giấy và quét lại; tệp gốc chuyển vào processed/2026-11-30/000.00.18.H44-231120-0030/"
        );
        assert_eq!(
            taken(UiLanguage::En, &t),
            "Dossier 000.00.18.H44-231120-0030: digitized 2 documents (3 pages); to check: 2 blank pages, \
             1 page under 200 dpi; 02-trang-trang: only blank pages, not counted as digitized; check the \
             paper and scan it again; originals moved to processed/2026-11-30/000.00.18.H44-231120-0030/"
        );
    }
}
