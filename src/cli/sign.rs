//! `sohoa verify`: the signatures of signed copies, as the operator reads
//! them (or as JSON).

use super::{CliError, CliResult, Outcome};
use crate::config::Settings;
use crate::format::UiLanguage;
use crate::sign::verify::{self, Checked, Problem};
use std::path::PathBuf;

/// One file's result.
#[derive(serde::Serialize)]
struct FileResult {
    file: String,
    /// Every signature valid, and at least one.
    valid: bool,
    /// Why the file could not be checked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    signatures: Vec<Checked>,
}

pub fn verify(settings: &Settings, files: &[PathBuf], trust: &[PathBuf], json: bool) -> CliResult {
    let lang = settings.ui_language;
    let paths = if trust.is_empty() {
        &settings.sign.trust_anchors
    } else {
        trust
    };
    let anchors = verify::read_anchors(paths).map_err(|e| {
        CliError::usage(match lang {
            UiLanguage::Vi => format!("không đọc được chứng thư gốc tin cậy: {e}"),
            UiLanguage::En => format!("cannot read the trust anchors: {e}"),
        })
    })?;
    let results: Vec<FileResult> = files
        .iter()
        .map(|path| {
            let file = path.display().to_string();
            let checked = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| verify::verify(&bytes, &anchors));
            match checked {
                Ok(signatures) => FileResult {
                    file,
                    valid: !signatures.is_empty() && signatures.iter().all(Checked::valid),
                    error: None,
                    signatures,
                },
                Err(e) => FileResult {
                    file,
                    valid: false,
                    error: Some(e),
                    signatures: Vec::new(),
                },
            }
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).map_err(CliError::internal)?
        );
    } else {
        if anchors.is_empty() {
            eprintln!(
                "{}",
                match lang {
                    UiLanguage::Vi => "Chưa có chứng thư gốc tin cậy ([sign] trust_anchors hoặc --trust): không chữ ký nào được coi là tin cậy.",
                    UiLanguage::En => "No trust anchors ([sign] trust_anchors or --trust): no signature can be trusted.",
                }
            );
        }
        for r in &results {
            print!("{}", describe(r, lang));
        }
    }
    Ok(if results.iter().all(|r| r.valid) {
        Outcome::Done
    } else {
        Outcome::NotVerified
    })
}

/// A file's lines: its verdict, then one line per signature.
fn describe(r: &FileResult, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    let mut out = String::new();
    let verdict = match (&r.error, r.signatures.len(), r.valid, vi) {
        (Some(e), _, _, true) => format!("không kiểm tra được: {e}"),
        (Some(e), _, _, false) => format!("cannot be checked: {e}"),
        (None, 0, _, true) => "không có chữ ký số".to_string(),
        (None, 0, _, false) => "has no digital signature".to_string(),
        (None, n, true, true) => format!("hợp lệ ({n} chữ ký)"),
        (None, n, true, false) => format!("valid ({n} signature{})", if n == 1 { "" } else { "s" }),
        (None, _, false, true) => "KHÔNG HỢP LỆ".to_string(),
        (None, _, false, false) => "NOT VALID".to_string(),
    };
    out.push_str(&format!("{}: {verdict}\n", r.file));
    for s in &r.signatures {
        let who = s.signer.as_ref().map_or_else(
            || {
                if vi {
                    "(không rõ người ký)".to_string()
                } else {
                    "(unknown signer)".to_string()
                }
            },
            |id| match vi {
                true => format!("{} (số hiệu {}, do {} cấp)", id.name, id.serial, id.issuer),
                false => format!(
                    "{} (serial {}, issued by {})",
                    id.name, id.serial, id.issuer
                ),
            },
        );
        let when = s.signed_at.map_or_else(String::new, |t| match vi {
            true => format!(", ký lúc {}", t.format("%d/%m/%Y %H:%M:%S (%:z)")),
            false => format!(", signed {}", t.to_rfc3339()),
        });
        let state = if s.valid() {
            match (vi, s.whole_file) {
                (true, true) => "hợp lệ, phủ toàn bộ tệp".to_string(),
                (true, false) => "hợp lệ cho phiên bản tệp lúc ký (có chữ ký sau)".to_string(),
                (false, true) => "valid, covers the whole file".to_string(),
                (false, false) => {
                    "valid for the revision it signed (signed again later)".to_string()
                }
            }
        } else {
            s.problems
                .iter()
                .map(|p| problem(p, lang))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!("  {}: {who}{when}: {state}\n", s.field));
    }
    out
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
        (Problem::Untrusted(d), UiLanguage::Vi) => format!(
            "chứng thư số không thuộc tổ chức chứng thực được tin cậy; thêm chứng thư gốc vào [sign] trust_anchors ({d})"
        ),
        (Problem::Untrusted(d), UiLanguage::En) => format!(
            "the certificate does not chain to a trusted authority; add its root to [sign] trust_anchors ({d})"
        ),
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
    }
}
