//! What a signing error tells the operator, in Vietnamese (English is the
//! error's own text): what went wrong and what to do. Technical details
//! (a PKCS#11 code, a parser's words) stay in brackets for the IT staff.

use super::cert::CertError;
use super::token::listed;
use super::verify::Problem;
use super::SignError;
use crate::format::UiLanguage;

/// The operator's message for `e`.
pub fn message(e: &SignError, lang: UiLanguage) -> String {
    match lang {
        UiLanguage::En => e.to_string(),
        UiLanguage::Vi => vietnamese(e),
    }
}

fn vietnamese(e: &SignError) -> String {
    use SignError as E;
    let time = |t: &chrono::DateTime<chrono::Utc>| {
        super::copy::vietnam_time(*t)
            .format("%d/%m/%Y %H:%M:%S")
            .to_string()
    };
    match e {
        E::Read { path, source } => match source.kind() {
            std::io::ErrorKind::NotFound => {
                format!("Không có tệp {path}. Hãy kiểm tra lại đường dẫn.")
            }
            std::io::ErrorKind::PermissionDenied => format!(
                "Không có quyền đọc tệp {path}. Hãy kiểm tra quyền của tệp (hoặc chạy bằng tài khoản được phép đọc)."
            ),
            _ => format!("Không đọc được tệp {path} ({source})."),
        },
        E::WrongPassword(path) => format!(
            "Sai mật khẩu của tệp khóa {path}. Không thử lại: hãy nhập đúng mật khẩu rồi chạy lại."
        ),
        E::KeyFile { path, detail } => format!(
            "Tệp {path} không phải tệp khóa PKCS#12 (.p12, .pfx) dùng được ({detail}). Hãy xuất lại tệp chứng thư số kèm khóa riêng."
        ),
        E::UnsupportedKey(oid) => format!(
            "Khóa riêng thuộc loại sohoa chưa ký được ({oid}); sohoa ký bằng khóa RSA (PKCS#1 v1.5) hoặc ECDSA P-256. Hãy dùng chứng thư số có khóa loại đó."
        ),
        E::KeyMismatch(subject) => format!(
            "Khóa riêng không khớp với chứng thư số {subject}. Hãy kiểm tra lại tệp khóa hoặc thiết bị ký."
        ),
        E::Certificate(c) => match c {
            CertError::Parse(d) => format!("Chứng thư số không đọc được ({d})."),
            CertError::NotYetValid { name, from } => format!(
                "Chứng thư số của {name} chỉ có hiệu lực từ {}. Chưa ký được tài liệu nào; hãy ký khi chứng thư đã có hiệu lực.",
                time(from)
            ),
            CertError::Expired { name, until } => format!(
                "Chứng thư số của {name} đã hết hạn ngày {}. Chưa ký được tài liệu nào; hãy gia hạn chứng thư số với tổ chức cung cấp dịch vụ chứng thực.",
                time(until)
            ),
            CertError::NotForSigning { name } => format!(
                "Chứng thư số của {name} không dùng để ký số (mục đích sử dụng của khóa không có digitalSignature hay nonRepudiation). Hãy dùng chứng thư số ký của cá nhân hoặc cơ quan."
            ),
        },
        E::Font { path, detail } => format!(
            "Phông chữ của khối chữ ký ({path}) không dùng được: {detail}. Hãy cài fonts-liberation2 (apt-get install fonts-liberation2)."
        ),
        E::Pdf { path, detail } => format!("Không ký được tệp {path} ({detail})."),
        E::Signing(d) => format!("Thiết bị hoặc khóa ký không tạo được chữ ký ({d})."),
        E::Encode(d) => format!("Không tạo được chữ ký số ({d})."),
        E::Pkcs11Module { path, detail } => format!(
            "Không nạp được thư viện PKCS#11 {path} ({detail}). Hãy kiểm tra đường dẫn thư viện của thiết bị ký (USB token) và đã cài trình điều khiển."
        ),
        E::TokenNotFound { label, present } => format!(
            "Không thấy thiết bị ký (USB token) có nhãn \"{label}\". Thiết bị đang cắm: {}. Hãy cắm đúng thiết bị hoặc sửa --token-label.",
            if present.is_empty() {
                "không có".to_string()
            } else {
                listed(present)
            }
        ),
        E::WrongPin { token } => format!(
            "Sai mã PIN của thiết bị ký \"{token}\". sohoa không thử lại (thiết bị sẽ khóa sau vài lần sai): hãy kiểm tra mã PIN rồi chạy lại."
        ),
        E::PinLocked { token } => format!(
            "Mã PIN của thiết bị ký \"{token}\" đã bị khóa do nhập sai nhiều lần. Hãy liên hệ tổ chức cấp chứng thư số để mở khóa."
        ),
        E::KeyNotFound {
            token,
            label,
            present,
        } => format!(
            "Thiết bị ký \"{token}\" không có khóa ký{}. Khóa đang có: {}.",
            label
                .as_deref()
                .map(|l| format!(" có nhãn \"{l}\""))
                .unwrap_or_default(),
            if present.is_empty() {
                "không có".to_string()
            } else {
                listed(present)
            }
        ),
        E::KeyAmbiguous { token, labels } => format!(
            "Thiết bị ký \"{token}\" có nhiều khóa ({}); hãy chọn một khóa bằng --key-label.",
            listed(labels)
        ),
        E::CertificateNotFound { token, key } => format!(
            "Thiết bị ký \"{token}\" không có chứng thư số cho khóa \"{key}\". Hãy nạp chứng thư số vào thiết bị."
        ),
        E::TokenRemoved { token, detail } => format!(
            "Thiết bị ký \"{token}\" đã bị rút ra hoặc không trả lời ({detail}). Các tài liệu còn lại chưa được ký; hãy cắm lại thiết bị rồi chạy lại sohoa sign."
        ),
        E::Token(d) => format!("Thiết bị ký báo lỗi ({d})."),
        E::NoKey => "Chưa chỉ ra khóa ký: dùng --pkcs12 TỆP (tệp chứng thư số), hoặc --pkcs11-module THƯ_VIỆN --token-label NHÃN (thiết bị ký USB token), hoặc khai báo trong mục [sign] của tệp cấu hình.".into(),
        E::TwoKeys => "Đã chỉ ra cả tệp khóa PKCS#12 và thiết bị ký PKCS#11; hãy chọn một.".into(),
        E::NoTokenLabel => "Thiết bị ký PKCS#11 cần nhãn của thiết bị: dùng --token-label NHÃN.".into(),
        E::NoSecret { pin, env } => {
            let (what, flag) = if *pin {
                ("mã PIN của thiết bị ký", "--pin-file")
            } else {
                ("mật khẩu của tệp khóa", "--password-file")
            };
            format!("Cần {what}: ghi trong một tệp ({flag} TỆP), hoặc trong biến môi trường {env}, hoặc chạy lệnh tại cửa sổ dòng lệnh để nhập.")
        }
        E::ArchiveChanged { path } => format!(
            "Tệp {path} trong kho lưu trữ không còn đúng như khi được ghi nhận (mã SHA-256 khác): tệp đã bị sửa hoặc thay ngoài sohoa. Không ký; hãy báo cán bộ CNTT kiểm tra."
        ),
        E::TimeStamp { url, failure } => {
            use super::tsa::TsaFailure as F;
            let why = match failure {
                F::NotHttp => {
                    return format!("Địa chỉ máy chủ cấp dấu thời gian [sign] tsa_url = \"{url}\" không hợp lệ: cần dạng http://… hoặc https://…. Hãy sửa tệp cấu hình.")
                }
                F::Unreachable(d) => format!("không kết nối được tới máy chủ ({d})"),
                F::TimedOut => "máy chủ không trả lời kịp".to_string(),
                F::Http(code) => format!("máy chủ trả lỗi HTTP {code}; có thể địa chỉ không phải của dịch vụ cấp dấu thời gian"),
                F::Refused { status, said } => format!("máy chủ từ chối cấp dấu thời gian (mã {status}{})", if said.is_empty() { String::new() } else { format!(": {said}") }),
                F::BadReply(d) => format!("máy chủ trả về dữ liệu không phải dấu thời gian hợp lệ cho chữ ký này ({d})"),
            };
            format!("Không lấy được dấu thời gian từ {url} ([sign] tsa_url): {why}. Các tài liệu chưa ký được để lại cho lần sau; hãy kiểm tra kết nối mạng và địa chỉ tsa_url rồi chạy lại sohoa sign.")
        }
        E::SelfCheck { path, problems } => format!(
            "Bản đã ký của {path} không qua được kiểm tra sau khi ký ({}); không lưu bản này. Hãy báo cán bộ CNTT.",
            problems
                .iter()
                .map(|p| problem(p, UiLanguage::Vi))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// Problems in English, for the error's own text.
pub fn problems(ps: &[Problem]) -> String {
    ps.iter()
        .map(|p| problem(p, UiLanguage::En))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a problem means, in the operator's words.
pub fn problem(p: &Problem, lang: UiLanguage) -> String {
    match (p, lang) {
        (Problem::Malformed(d), UiLanguage::Vi) => format!("không đọc được chữ ký ({d})"),
        (Problem::Malformed(d), UiLanguage::En) => format!("the signature cannot be read ({d})"),
        (Problem::Altered, UiLanguage::Vi) => {
            "nội dung tệp đã bị thay đổi sau khi ký".into()
        }
        (Problem::Altered, UiLanguage::En) => "the signed content was changed".into(),
        (Problem::BadSignature, UiLanguage::Vi) => {
            "giá trị chữ ký không khớp với chứng thư số của người ký".into()
        }
        (Problem::BadSignature, UiLanguage::En) => {
            "the signature value does not match the signer's certificate".into()
        }
        (Problem::Untrusted(d), UiLanguage::Vi) => match d.as_str() {
            super::verify::NO_ANCHORS => "chưa khai báo chứng thư gốc tin cậy ([sign] trust_anchors hoặc --trust) nên chưa xác minh được chứng thư số".into(),
            super::verify::NO_PATH => "không tìm được đường từ chứng thư số tới chứng thư gốc tin cậy: chứng thư gốc chưa có trong [sign] trust_anchors, hoặc thiếu chứng thư trung gian (CA cấp dưới) mà chữ ký không mang theo; hãy thêm tệp PEM của cả hai vào [sign] trust_anchors (hoặc --trust)".into(),
            d => format!("không xác minh được chứng thư số tới chứng thư gốc tin cậy ({d})"),
        },
        (Problem::Untrusted(d), UiLanguage::En) => match d.as_str() {
            super::verify::NO_ANCHORS => "no trust anchors are configured ([sign] trust_anchors or --trust), so the certificate cannot be confirmed".into(),
            super::verify::NO_PATH => "no path from the certificate to a trusted root: the root is not in [sign] trust_anchors, or an intermediate CA certificate the signature does not carry is missing; add both PEM files to [sign] trust_anchors (or --trust)".into(),
            d => format!("the certificate does not chain to a trusted root ({d})"),
        },
        (Problem::Certificate(d), UiLanguage::Vi) => {
            format!("chứng thư số không dùng được để ký vào lúc ký ({d})")
        }
        (Problem::Certificate(d), UiLanguage::En) => {
            format!("the certificate could not sign at the signing time ({d})")
        }
        (Problem::ChangedAfterSigning, UiLanguage::Vi) => {
            "tệp có thêm nội dung sau chữ ký cuối cùng mà không chữ ký nào bảo đảm".into()
        }
        (Problem::ChangedAfterSigning, UiLanguage::En) => {
            "the file has content after its last signature that no signature covers".into()
        }
        (Problem::Unsupported(d), UiLanguage::Vi) => format!(
            "chữ ký dùng thuật toán mà sohoa chưa kiểm tra được ({d}); sohoa kiểm tra chữ ký RSA và ECDSA (P-256, P-384, P-521) với SHA-256, SHA-384 hoặc SHA-512"
        ),
        (Problem::Unsupported(d), UiLanguage::En) => format!(
            "the signature uses an algorithm sohoa cannot check ({d}); sohoa checks RSA and ECDSA (P-256, P-384, P-521) signatures with SHA-256, SHA-384 or SHA-512"
        ),
        (Problem::TimeStamp(p), UiLanguage::Vi) => {
            format!("dấu thời gian của chữ ký không hợp lệ: {}", problem(p, lang))
        }
        (Problem::TimeStamp(p), UiLanguage::En) => {
            format!("the signature's time-stamp does not hold: {}", problem(p, lang))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_reads_in_vietnamese_with_what_to_do() {
        let errors = [
            SignError::WrongPin {
                token: "Nhung".into(),
            },
            SignError::NoSecret {
                pin: true,
                env: "SOHOA_SIGN_PIN",
            },
            SignError::TokenNotFound {
                label: "Nhung".into(),
                present: vec![],
            },
            SignError::Certificate(CertError::Expired {
                name: "Lê Văn Cũ".into(),
                until: chrono::DateTime::from_timestamp(1_609_372_800, 0).unwrap(),
            }),
        ];
        let texts: Vec<String> = errors.iter().map(|e| message(e, UiLanguage::Vi)).collect();
        assert!(texts[0].contains("Sai mã PIN") && texts[0].contains("không thử lại"));
        assert!(texts[1].contains("--pin-file") && texts[1].contains("SOHOA_SIGN_PIN"));
        assert!(texts[2].contains("không có"));
        assert!(
            texts[3].contains("hết hạn ngày 31/12/2020 07:00:00"),
            "{}",
            texts[3]
        );
        for t in &texts {
            assert!(unicode_normalization::is_nfc(t));
        }
        assert_eq!(
            message(&errors[0], UiLanguage::En),
            "wrong PIN for the token \"Nhung\""
        );
    }
}
