//! What operators read when an input cannot be digitized: what is wrong and
//! what to do, in Vietnamese by default (English as a setting). Every message
//! is keyed by a stable error code, recorded with the failure.

use crate::format::UiLanguage;

/// A failed input, ready to be shown and recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// Stable error code, e.g. `E_CORRUPT`.
    pub code: &'static str,
    /// The file or folder concerned, as the operator sees it.
    pub file: String,
    /// Technical detail (English, for IT staff).
    pub detail: String,
}

impl Problem {
    pub fn new(code: &'static str, file: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            code,
            file: file.into(),
            detail: detail.into(),
        }
    }

    /// The operator-facing sentence: what is wrong, naming the file, and what to do.
    pub fn message(&self, lang: UiLanguage) -> String {
        let (what, todo) = match lang {
            UiLanguage::Vi => vi(self.code),
            UiLanguage::En => en(self.code),
        };
        // The technical detail helps IT staff; where it only restates the
        // code in English it is left out of what the operator reads.
        let restates = matches!(
            self.code,
            "E_EMPTY" | "E_NOT_IMAGE" | "E_ENCRYPTED" | "E_NO_PAGES"
        );
        let detail = if self.detail.is_empty() || restates {
            String::new()
        } else {
            match lang {
                UiLanguage::Vi => format!(" (chi tiết: {})", self.detail),
                UiLanguage::En => format!(" (detail: {})", self.detail),
            }
        };
        format!("{what}: {}{detail}. {todo}", self.file)
    }
}

fn vi(code: &str) -> (&'static str, &'static str) {
    match code {
        "E_EMPTY" => ("Tệp rỗng (0 byte)", "Hãy quét hoặc sao chép lại tệp này (máy quét chưa ghi xong hoặc sao chép bị lỗi)."),
        "E_NOT_IMAGE" => ("Tệp không phải ảnh quét hay PDF", "Hãy lưu lại tài liệu dưới dạng JPEG, PNG, TIFF hoặc PDF rồi đặt lại vào thư mục hồ sơ."),
        "E_CORRUPT" => ("Tệp bị hỏng hoặc chưa quét xong", "Hãy quét lại tài liệu này."),
        "E_ENCRYPTED" => ("Tệp PDF có mật khẩu hoặc bị mã hóa", "Hãy bỏ mật khẩu (hoặc quét lại bản giấy) rồi đặt lại vào thư mục hồ sơ."),
        "E_TOO_LARGE" => ("Tệp vượt quá giới hạn cho phép", "Hãy quét lại ở độ phân giải 200–300 dpi hoặc tách thành nhiều tệp nhỏ hơn."),
        "E_NO_PAGES" => ("Tệp không có trang nào", "Hãy quét lại tài liệu này."),
        "E_UNSUPPORTED" => ("Định dạng tệp chưa được hỗ trợ", "Hãy lưu lại dưới dạng JPEG, PNG, TIFF hoặc PDF."),
        "E_CHANGED" => ("Tệp thay đổi trong lúc đang xử lý", "Tệp sẽ được xử lý lại khi máy quét ghi xong; không cần làm gì thêm."),
        "E_READ" => ("Không đọc được tệp", "Hãy kiểm tra tệp còn tồn tại và máy chủ có quyền đọc thư mục."),
        "E_INVALID_CODE" => (
            "Tên thư mục không phải mã hồ sơ hợp lệ",
            "Hãy đổi tên thư mục theo mẫu <mã đơn vị>-<yymmdd>-<số thứ tự>, ví dụ 000.00.18.H44-230314-0027, hoặc khai báo đơn vị mặc định cho thư mục tiếp nhận (--unit).",
        ),
        "E_LOOSE_FILE" => ("Tệp nằm ngoài thư mục hồ sơ", "Hãy chuyển tệp vào thư mục mang mã hồ sơ."),
        "E_SYMLINK" => ("Liên kết (symlink) bị bỏ qua vì lý do an toàn", "Hãy sao chép tệp thật vào thư mục hồ sơ."),
        "E_UNREADABLE" => ("Không đọc được thư mục", "Hãy kiểm tra quyền truy cập thư mục."),
        "E_OCR" | "E_OCR_INIT" => ("Lỗi nhận dạng chữ (OCR)", "Hãy chạy lại; nếu lỗi lặp lại, báo cho bộ phận CNTT."),
        c if c.starts_with("E_PACKAGE") => ("Không tạo được tệp PDF", "Hãy chạy lại; nếu lỗi lặp lại, báo cho bộ phận CNTT kèm tệp này."),
        "E_STORE" => ("Không ghi được vào kho lưu trữ", "Hãy kiểm tra dung lượng đĩa và quyền ghi thư mục dữ liệu rồi chạy lại."),
        "E_DATABASE" => ("Không ghi được cơ sở dữ liệu", "Hãy kiểm tra thư mục dữ liệu rồi chạy lại."),
        _ => ("Lỗi không xác định", "Hãy báo cho bộ phận CNTT."),
    }
}

fn en(code: &str) -> (&'static str, &'static str) {
    match code {
        "E_EMPTY" => ("Empty file (0 bytes)", "The scanner did not finish writing or the copy failed: scan or copy this file again."),
        "E_NOT_IMAGE" => ("Not a scanned image or PDF", "Save the document as JPEG, PNG, TIFF or PDF and put it back in the dossier folder."),
        "E_CORRUPT" => ("File is damaged or was not completely scanned", "Scan this document again."),
        "E_ENCRYPTED" => ("PDF is password-protected or encrypted", "Remove the password (or rescan the paper) and put it back in the dossier folder."),
        "E_TOO_LARGE" => ("File exceeds the allowed limits", "Rescan at 200–300 dpi or split it into smaller files."),
        "E_NO_PAGES" => ("File has no pages", "Scan this document again."),
        "E_UNSUPPORTED" => ("File format not supported", "Save it as JPEG, PNG, TIFF or PDF."),
        "E_CHANGED" => ("File changed while it was being processed", "It will be taken again once the scanner has finished writing; nothing to do."),
        "E_READ" => ("Cannot read file", "Check that the file still exists and the folder is readable."),
        "E_INVALID_CODE" => (
            "Folder name is not a valid dossier code",
            "Rename the folder like <unit code>-<yymmdd>-<number>, e.g. 000.00.18.H44-230314-0027, or set a default unit for the inbox (--unit).",
        ),
        "E_LOOSE_FILE" => ("File lies outside any dossier folder", "Move it into the folder named by its dossier code."),
        "E_SYMLINK" => ("Symbolic link ignored for safety", "Copy the real file into the dossier folder."),
        "E_UNREADABLE" => ("Cannot read folder", "Check the folder permissions."),
        "E_OCR" | "E_OCR_INIT" => ("Text recognition (OCR) failed", "Run again; if it keeps failing, tell IT."),
        c if c.starts_with("E_PACKAGE") => ("Could not build the PDF", "Run again; if it keeps failing, send this file to IT."),
        "E_STORE" => ("Could not write to the archive", "Check disk space and write permission on the data folder, then run again."),
        "E_DATABASE" => ("Could not write the database", "Check the data folder, then run again."),
        _ => ("Unknown error", "Tell IT."),
    }
}

/// Every error code an input failure can carry.
pub const CODES: [&str; 22] = [
    "E_EMPTY",
    "E_NOT_IMAGE",
    "E_CORRUPT",
    "E_ENCRYPTED",
    "E_TOO_LARGE",
    "E_NO_PAGES",
    "E_UNSUPPORTED",
    "E_READ",
    "E_CHANGED",
    "E_INVALID_CODE",
    "E_LOOSE_FILE",
    "E_SYMLINK",
    "E_UNREADABLE",
    "E_OCR",
    "E_OCR_INIT",
    "E_PACKAGE",
    "E_PACKAGE_NO_PAGES",
    "E_PACKAGE_PAGE",
    "E_PACKAGE_IMAGE",
    "E_PACKAGE_OCR",
    "E_STORE",
    "E_DATABASE",
];
/// Maps a recorded code back onto the closed set (for re-rendering in another language).
pub fn known_code(code: &str) -> &'static str {
    const CODES: [&str; 18] = [
        "E_EMPTY",
        "E_NOT_IMAGE",
        "E_CORRUPT",
        "E_ENCRYPTED",
        "E_TOO_LARGE",
        "E_NO_PAGES",
        "E_UNSUPPORTED",
        "E_READ",
        "E_CHANGED",
        "E_INVALID_CODE",
        "E_LOOSE_FILE",
        "E_SYMLINK",
        "E_UNREADABLE",
        "E_OCR",
        "E_OCR_INIT",
        "E_PACKAGE",
        "E_STORE",
        "E_DATABASE",
    ];
    CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("E_UNKNOWN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_specific_message() {
        for code in CODES {
            assert_ne!(vi(code).0, vi("?").0, "{code}");
            assert_ne!(en(code).0, en("?").0, "{code}");
        }
    }

    #[test]
    fn message_names_the_file_and_what_to_do() {
        let p = Problem::new("E_CORRUPT", "03-cut.jpg", "");
        assert_eq!(
            p.message(UiLanguage::Vi),
            "Tệp bị hỏng hoặc chưa quét xong: 03-cut.jpg. Hãy quét lại tài liệu này."
        );
    }
}
