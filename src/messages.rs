//! What operators read when something fails: what is wrong and what to do, in
//! Vietnamese by default (English as a setting), for every `ErrorCode`. One
//! exhaustive match per language, so no code can lack a text in either.

use crate::errors::ErrorCode;
use crate::format::UiLanguage;

impl ErrorCode {
    /// What is wrong, as a clause an operator reads (no trailing period).
    pub fn message(self, lang: UiLanguage) -> &'static str {
        texts(self, lang).0
    }

    /// What to do about it: one or two sentences.
    pub fn advice(self, lang: UiLanguage) -> &'static str {
        texts(self, lang).1
    }
}

fn texts(code: ErrorCode, lang: UiLanguage) -> (&'static str, &'static str) {
    match lang {
        UiLanguage::Vi => vi(code),
        UiLanguage::En => en(code),
    }
}

/// A failed input, ready to be shown and recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// Stable error code, e.g. `E_CORRUPT`.
    pub code: ErrorCode,
    /// The file or folder concerned, as the operator sees it.
    pub file: String,
    /// Technical detail (English, for IT staff).
    pub detail: String,
}

impl Problem {
    pub fn new(code: ErrorCode, file: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            code,
            file: file.into(),
            detail: detail.into(),
        }
    }

    /// The operator-facing sentence: what is wrong, naming the file, and what to do.
    pub fn message(&self, lang: UiLanguage) -> String {
        // The technical detail helps IT staff; where it only restates the
        // code in English it is left out of what the operator reads.
        let restates = matches!(
            self.code,
            ErrorCode::Empty | ErrorCode::NotImage | ErrorCode::Encrypted | ErrorCode::NoPages
        );
        let detail = if self.detail.is_empty() || restates {
            String::new()
        } else if self.code == ErrorCode::UnknownUnit {
            // The detail is the closest known units, for the operator.
            match lang {
                UiLanguage::Vi => format!(" (đơn vị gần giống: {})", self.detail),
                UiLanguage::En => format!(" (closest known units: {})", self.detail),
            }
        } else {
            match lang {
                UiLanguage::Vi => format!(" (chi tiết: {})", self.detail),
                UiLanguage::En => format!(" (detail: {})", self.detail),
            }
        };
        let (what, todo) = texts(self.code, lang);
        format!("{what}: {}{detail}. {todo}", self.file)
    }
}

fn vi(code: ErrorCode) -> (&'static str, &'static str) {
    use ErrorCode::*;
    match code {
        Empty => ("Tệp rỗng (0 byte)", "Hãy quét hoặc sao chép lại tệp này (máy quét chưa ghi xong hoặc sao chép bị lỗi)."),
        NotImage => ("Tệp không phải ảnh quét hay PDF", "Hãy lưu lại tài liệu dưới dạng JPEG, PNG, TIFF hoặc PDF rồi đặt lại vào thư mục hồ sơ."),
        Corrupt => ("Tệp bị hỏng hoặc chưa quét xong", "Hãy quét lại tài liệu này."),
        Encrypted => ("Tệp PDF có mật khẩu hoặc bị mã hóa", "Hãy bỏ mật khẩu (hoặc quét lại bản giấy) rồi đặt lại vào thư mục hồ sơ."),
        TooLarge => ("Tệp vượt quá giới hạn cho phép", "Hãy quét lại ở độ phân giải 200–300 dpi hoặc tách thành nhiều tệp nhỏ hơn."),
        NoPages => ("Tệp không có trang nào", "Hãy quét lại tài liệu này."),
        Unsupported => ("Định dạng tệp chưa được hỗ trợ", "Hãy lưu lại dưới dạng JPEG, PNG, TIFF hoặc PDF."),
        Changed => ("Tệp thay đổi trong lúc đang xử lý", "Tệp sẽ được xử lý lại khi máy quét ghi xong; không cần làm gì thêm."),
        Read => ("Không đọc được tệp", "Hãy kiểm tra tệp còn tồn tại và máy chủ có quyền đọc thư mục."),
        InvalidCode => (
            "Tên thư mục không phải mã hồ sơ hợp lệ",
            "Hãy đổi tên thư mục theo mẫu <mã đơn vị>-<yymmdd>-<số thứ tự>, ví dụ 000.00.18.H44-230314-0027, hoặc khai báo đơn vị cho các thư mục không theo mẫu: với sohoa batch là --unit MÃ_ĐƠN_VỊ; với sohoa watch là unit = \"MÃ_ĐƠN_VỊ\" trong mục [[inbox]] (hoặc default_unit) của tệp cấu hình.",
        ),
        UnknownUnit => (
            "Mã đơn vị trong mã hồ sơ không có trong danh mục đơn vị (hoặc chưa, không còn hiệu lực vào ngày tiếp nhận)",
            "Hãy kiểm tra lại tên thư mục (thường là gõ nhầm mã đơn vị), sửa rồi đặt lại vào thư mục tiếp nhận; nếu đúng là đơn vị mới, hãy nhập danh mục đơn vị mới (sohoa units import), hoặc cho phép đơn vị ngoài danh mục: với sohoa batch là --accept-unknown-units; với sohoa watch là accept_unknown_units = true trong mục [[inbox]] của tệp cấu hình.",
        ),
        LooseFile => ("Tệp nằm ngoài thư mục hồ sơ", "Hãy chuyển tệp vào thư mục mang mã hồ sơ."),
        Symlink => ("Liên kết (symlink) bị bỏ qua vì lý do an toàn", "Hãy sao chép tệp thật vào thư mục hồ sơ."),
        Unreadable => ("Không đọc được thư mục", "Hãy kiểm tra quyền truy cập thư mục."),
        Ocr | OcrInit => ("Lỗi nhận dạng chữ (OCR)", "Hãy chạy lại; nếu lỗi lặp lại, báo cho bộ phận CNTT."),
        Package | PackageNoPages | PackagePage | PackageImage | PackageOcr => {
            ("Không tạo được tệp PDF", "Hãy chạy lại; nếu lỗi lặp lại, báo cho bộ phận CNTT kèm tệp này.")
        }
        Store => ("Không ghi được vào kho lưu trữ", "Hãy kiểm tra dung lượng đĩa và quyền ghi thư mục dữ liệu rồi chạy lại."),
        StoreFull => ("Đĩa của máy chủ đã đầy", "Trạm giữ tài liệu và gửi lại sau; hãy báo bộ phận CNTT của máy chủ giải phóng dung lượng."),
        Database => ("Không ghi được cơ sở dữ liệu", "Hãy kiểm tra thư mục dữ liệu rồi chạy lại."),
        LocalMissing => (
            "Không đọc được tệp lưu trữ trên trạm; tài liệu không được gửi",
            "Hãy khôi phục tệp hoặc số hóa lại hồ sơ, rồi chạy sohoa sync --retry-refused.",
        ),
        LocalChanged => (
            "Tệp lưu trữ trên trạm đã bị thay đổi sau khi ghi (SHA-256 khác bản ghi); tài liệu không được gửi",
            "Hãy số hóa lại hồ sơ, rồi chạy sohoa sync --retry-refused.",
        ),
        NoToken => ("Thiếu mã truy cập của trạm (Authorization: Bearer …)", "Hãy tạo mã bằng lệnh sohoa station add trên máy chủ."),
        BadToken => ("Mã truy cập của trạm không đúng hoặc đã bị thu hồi", "Hãy kiểm tra [sync] token; lệnh sohoa station add trên máy chủ cấp mã mới."),
        Forbidden => ("Trạm không được xem dữ liệu của đơn vị này", "Mỗi trạm chỉ xem được dữ liệu của đơn vị mình và các đơn vị trực thuộc."),
        BadUpload => ("Yêu cầu gửi tài liệu không hợp lệ", "Trạm sẽ gửi lại; nếu lỗi lặp lại, báo cho bộ phận CNTT."),
        HashMismatch => (
            "Tệp PDF nhận được không khớp với bản ghi (bị hỏng khi truyền hoặc đã bị sửa)",
            "Máy chủ không lưu tệp này; trạm sẽ gửi lại.",
        ),
        BadPdf => ("Tệp gửi lên không phải tệp PDF lưu trữ đọc được", "Máy chủ không lưu tệp này; hãy báo cho bộ phận CNTT kèm tệp này."),
        BadSignature => ("Chữ ký số trên tệp gửi lên không hợp lệ", "Máy chủ không lưu tệp này; hãy kiểm tra bằng sohoa verify và ký lại bản sao."),
        OtherUnit => ("Hồ sơ thuộc đơn vị mà trạm không được gửi", "Hãy chuyển hồ sơ cho đúng đơn vị."),
        VersionConflict => (
            "Máy chủ đã có phiên bản này của tài liệu với nội dung khác",
            "Hãy kiểm tra xem hồ sơ có được số hóa ở hai nơi không.",
        ),
        TooLargeUpload => ("Tệp gửi lên vượt giới hạn của máy chủ", "Hãy tăng [serve] max_upload_mib trên máy chủ."),
        Busy => ("Máy chủ đang nhận quá nhiều tệp cùng lúc", "Trạm sẽ gửi lại sau ít phút; không cần làm gì thêm."),
        TooSlow => ("Kết nối gửi dữ liệu quá chậm hoặc bị treo", "Trạm sẽ gửi lại; nếu lỗi lặp lại, hãy kiểm tra đường truyền."),
        UploadGone => ("Máy chủ không còn giữ phần tài liệu đã gửi dở (đã quá hạn)", "Trạm tự gửi lại từ đầu; không cần làm gì thêm."),
        UploadOffset => ("Phần tài liệu gửi tiếp không khớp với phần máy chủ đang giữ", "Trạm tự hỏi lại máy chủ và gửi tiếp; không cần làm gì thêm."),
        TusVersion => ("Máy chủ không hỗ trợ phiên bản giao thức tải lên này", "Hãy cập nhật trạm hoặc máy chủ để cùng dùng tus 1.0.0."),
        NotFound => ("Không có bản ghi này trên máy chủ", "Hãy kiểm tra lại mã hồ sơ hoặc mã tài liệu."),
        Usage => ("Yêu cầu không hợp lệ", "Hãy kiểm tra các tham số của yêu cầu (xem docs/openapi.yaml)."),
        Internal => ("Lỗi nội bộ", "Hãy báo cho bộ phận CNTT."),
    }
}

fn en(code: ErrorCode) -> (&'static str, &'static str) {
    use ErrorCode::*;
    match code {
        Empty => ("Empty file (0 bytes)", "The scanner did not finish writing or the copy failed: scan or copy this file again."),
        NotImage => ("Not a scanned image or PDF", "Save the document as JPEG, PNG, TIFF or PDF and put it back in the dossier folder."),
        Corrupt => ("File is damaged or was not completely scanned", "Scan this document again."),
        Encrypted => ("PDF is password-protected or encrypted", "Remove the password (or rescan the paper) and put it back in the dossier folder."),
        TooLarge => ("File exceeds the allowed limits", "Rescan at 200–300 dpi or split it into smaller files."),
        NoPages => ("File has no pages", "Scan this document again."),
        Unsupported => ("File format not supported", "Save it as JPEG, PNG, TIFF or PDF."),
        Changed => ("File changed while it was being processed", "It will be taken again once the scanner has finished writing; nothing to do."),
        Read => ("Cannot read file", "Check that the file still exists and the folder is readable."),
        InvalidCode => (
            "Folder name is not a valid dossier code",
            "Rename the folder like <unit code>-<yymmdd>-<number>, e.g. 000.00.18.H44-230314-0027, or give a unit for folders not named so: with sohoa batch, --unit UNIT_CODE; with sohoa watch, unit = \"UNIT_CODE\" in the [[inbox]] section (or default_unit) of the config file.",
        ),
        UnknownUnit => (
            "The unit of the dossier code is not in the unit list (or not in force on the receipt date)",
            "Check the folder name (most often a mistyped unit code), fix it and put the folder back into the inbox; if it is a new unit, import the new unit list (sohoa units import), or allow units outside the list: with sohoa batch, --accept-unknown-units; with sohoa watch, accept_unknown_units = true in the [[inbox]] section of the config file.",
        ),
        LooseFile => ("File lies outside any dossier folder", "Move it into the folder named by its dossier code."),
        Symlink => ("Symbolic link ignored for safety", "Copy the real file into the dossier folder."),
        Unreadable => ("Cannot read folder", "Check the folder permissions."),
        Ocr | OcrInit => ("Text recognition (OCR) failed", "Run again; if it keeps failing, tell IT."),
        Package | PackageNoPages | PackagePage | PackageImage | PackageOcr => {
            ("Could not build the PDF", "Run again; if it keeps failing, send this file to IT.")
        }
        Store => ("Could not write to the archive", "Check disk space and write permission on the data folder, then run again."),
        StoreFull => ("The server's disk is full", "The station keeps the documents and sends them later; ask the server's IT staff to free space."),
        Database => ("Could not write the database", "Check the data folder, then run again."),
        LocalMissing => (
            "Cannot read the archive file on this station; not sent",
            "Restore it or digitize the dossier again, then run sohoa sync --retry-refused.",
        ),
        LocalChanged => (
            "The archive file on this station changed after it was written (its SHA-256 differs from the record); not sent",
            "Digitize the dossier again, then run sohoa sync --retry-refused.",
        ),
        NoToken => ("Missing station token (Authorization: Bearer …)", "Create one with sohoa station add on the server."),
        BadToken => ("The station token is wrong or was revoked", "Check [sync] token; sohoa station add on the server makes a new one."),
        Forbidden => ("This station may not see this unit's records", "A station sees only its own unit and the units under it."),
        BadUpload => ("Malformed upload", "The station will send it again; if it keeps failing, tell IT."),
        HashMismatch => (
            "The PDF received does not match its record (damaged in transit or altered)",
            "Not stored; the station will send it again.",
        ),
        BadPdf => ("The upload is not a readable archive PDF", "Not stored; send this file to IT."),
        BadSignature => ("The upload's digital signature is not valid", "Not stored; check it with sohoa verify and sign the copy again."),
        OtherUnit => ("The dossier belongs to a unit this station may not send for", "Pass the dossier on to its unit."),
        VersionConflict => (
            "The server already has this version of the document with other content",
            "Check whether the dossier was digitized in two places.",
        ),
        TooLargeUpload => ("The upload exceeds the server's limit", "Raise [serve] max_upload_mib on the server."),
        Busy => ("The server is receiving too many uploads at once", "The station will send it again in a few minutes; nothing to do."),
        TooSlow => ("The upload stalled or was too slow", "The station will send it again; if it keeps happening, check the link."),
        UploadGone => ("The server no longer holds the partly sent document (expired)", "The station sends it again from the start; nothing to do."),
        UploadOffset => ("The part sent does not follow what the server holds", "The station asks the server again and goes on; nothing to do."),
        TusVersion => ("The server does not support this upload protocol version", "Update the station or the server so that both use tus 1.0.0."),
        NotFound => ("No such record on the server", "Check the dossier or document code."),
        Usage => ("Bad request", "Check the request's parameters (see docs/openapi.yaml)."),
        Internal => ("Internal error", "Tell IT."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::is_nfc;

    #[test]
    fn every_code_has_texts_in_both_languages() {
        for &code in ErrorCode::ALL {
            for lang in [UiLanguage::Vi, UiLanguage::En] {
                let (what, todo) = (code.message(lang), code.advice(lang));
                assert!(
                    !what.trim().is_empty() && !todo.trim().is_empty(),
                    "{code} {lang:?}"
                );
                assert!(is_nfc(what) && is_nfc(todo), "{code} {lang:?} not NFC");
                assert!(!what.ends_with('.'), "{code} {lang:?}: {what}");
                assert!(todo.ends_with('.'), "{code} {lang:?}: {todo}");
            }
            assert_ne!(
                code.message(UiLanguage::Vi),
                code.message(UiLanguage::En),
                "{code}"
            );
            assert_ne!(
                code.advice(UiLanguage::Vi),
                code.advice(UiLanguage::En),
                "{code}"
            );
        }
    }

    #[test]
    fn message_names_the_file_and_what_to_do() {
        let p = Problem::new(ErrorCode::Corrupt, "03-cut.jpg", "");
        assert_eq!(
            p.message(UiLanguage::Vi),
            "Tệp bị hỏng hoặc chưa quét xong: 03-cut.jpg. Hãy quét lại tài liệu này."
        );
    }

    #[test]
    fn package_failures_have_their_own_text_in_english() {
        // Regression: the English list fell back to "Unknown error" for them.
        for code in [
            ErrorCode::PackagePage,
            ErrorCode::PackageImage,
            ErrorCode::PackageOcr,
        ] {
            let p = Problem::new(code, "01.jpg", "page 1: bad");
            assert_eq!(
                p.message(UiLanguage::En),
                "Could not build the PDF: 01.jpg (detail: page 1: bad). Run again; if it keeps failing, send this file to IT."
            );
        }
    }

    /// The advice for a folder not named with a code names what each command
    /// has: `--unit` for batch, the inbox's `unit` for watch (which has no --unit).
    #[test]
    fn the_invalid_code_advice_names_what_each_command_has() {
        let vi = ErrorCode::InvalidCode.advice(UiLanguage::Vi);
        assert!(vi.contains("sohoa batch là --unit"), "{vi}");
        assert!(
            vi.contains("sohoa watch là unit = \"MÃ_ĐƠN_VỊ\" trong mục [[inbox]]"),
            "{vi}"
        );
        let en = ErrorCode::InvalidCode.advice(UiLanguage::En);
        assert!(en.contains("with sohoa watch, unit = "), "{en}");
    }
}
