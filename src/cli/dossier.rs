//! `sohoa dossier show`: one dossier record, its documents, page flags and failures.

use super::{print_out, say, CliError, CliResult, Outcome};
use crate::config::Settings;
use crate::format::{count, date as vn_date, decimal, size, UiLanguage};
use crate::records::{DossierView, MissingDossier, Records, RegisterView, SignRole, SignatureView};
use crate::units::UnitTree;

pub fn show(settings: &Settings, code: &str, json: bool) -> CliResult {
    let lang = settings.ui_language;
    let records = Records::open_configured(settings)?;
    let view = records.dossier_view(code)?.ok_or_else(|| {
        CliError::not_found(say(
            lang,
            &format!("Không có hồ sơ {code} trong cơ sở dữ liệu."),
            &format!("No dossier {code} in the database."),
        ))
    })?;
    if json {
        super::print_json(&view)?;
    } else {
        let tree = super::report::tree_or_warn(settings, &records).unwrap_or_default();
        let signed_only = settings.report.signed_only;
        print_out(render(&view, &tree, signed_only, lang).as_bytes())?;
    }
    Ok(Outcome::Done)
}

/// What the receipt register says, in two lines: the procedure, then how it was received and returned.
fn register_lines(r: &RegisterView, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    let mut out = String::new();
    let procedure: Vec<&str> = [&r.procedure_code, &r.procedure_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !procedure.is_empty() {
        let field = r
            .field
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}: {}{field}\n",
            if vi { "Thủ tục" } else { "Procedure" },
            procedure.join(" ")
        ));
    }
    let mut facts: Vec<String> = Vec::new();
    let say = |vi_text: &str, en_text: &str| {
        if vi {
            vi_text.to_string()
        } else {
            en_text.to_string()
        }
    };
    if let Some(c) = r.channel.as_deref() {
        facts.push(match c {
            "truc_tuyen" => say("nộp trực tuyến", "submitted online"),
            "buu_chinh" => say("nộp qua bưu chính", "submitted by post"),
            _ => say("nộp trực tiếp", "submitted in person"),
        });
    }
    if r.full_online == Some(true) {
        facts.push(say("thủ tục DVC toàn trình", "full online service"));
    }
    match (r.has_fee, r.paid_online) {
        (Some(true), Some(true)) => {
            facts.push(say("có phí, đã thanh toán trực tuyến", "fee paid online"))
        }
        (Some(true), _) => facts.push(say("có phí", "with a fee")),
        (Some(false), _) => facts.push(say("không có phí", "no fee")),
        _ => {}
    }
    if let Some(d) = &r.due_on {
        facts.push(format!("{} {}", say("hẹn trả", "due"), vn_date(d, lang)));
    }
    match &r.resolved_on {
        Some(d) => facts.push(format!(
            "{} {}",
            say("đã trả kết quả", "result returned"),
            vn_date(d, lang)
        )),
        None => facts.push(say("chưa trả kết quả", "result not returned yet")),
    }
    if r.paper_result == Some(true) {
        facts.push(say(
            "thủ tục trả kết quả giấy (cần số hóa kết quả)",
            "paper result (the result must be digitized)",
        ));
    }
    out.push_str(&format!(
        "  {}: {}\n",
        if vi { "Sổ tiếp nhận" } else { "Register" },
        facts.join("; ")
    ));
    for c in &r.contradictions {
        out.push_str(&format!(
            "  {}: {} ({})\n",
            if vi {
                "Lưu ý sổ tiếp nhận"
            } else {
                "Register note"
            },
            c.what(lang),
            c.counted(lang)
        ));
    }
    out
}

/// Whether the dossier counts as digitized (766 §4.2; with `signed_only`,
/// by its signed copies), and if not what it lacks.
fn verdict(v: &DossierView, signed_only: bool, lang: UiLanguage) -> String {
    // As the records count it (`refresh_dossier`).
    let current = |kind: &str, signed: bool| {
        v.documents.iter().any(|d| {
            d.current
                && d.kind == kind
                && crate::rules::counts_as_digitized(d.pages.iter().map(|p| p.blank))
                && (!signed
                    || d.signatures.iter().any(|s| {
                        s.role == SignRole::Officer
                            && s.state == "signed"
                            && s.check_valid == Some(true)
                    }))
        })
    };
    let d = MissingDossier {
        code: v.code.clone(),
        unit_code: v.unit_code.clone(),
        received_on: v.received_on.clone().unwrap_or_default(),
        procedure_code: None,
        procedure_name: None,
        has_component: current("thanh_phan", false),
        has_result: current("ket_qua", false),
        signed_component: current("thanh_phan", true),
        signed_result: current("ket_qua", true),
        paper_result: v.register.as_ref().and_then(|r| r.paper_result),
        resolved_on: v.register.as_ref().and_then(|r| r.resolved_on.clone()),
    };
    // As the report counts it (`Counts::add`).
    let (component, result) = d.counted(signed_only);
    let done = component && (result || d.paper_result != Some(true));
    match (done, lang) {
        (true, UiLanguage::Vi) => format!(
            "đạt (đã số hóa theo QĐ 766/QĐ-TTg{})",
            if signed_only {
                ", bản sao đã ký số"
            } else {
                ""
            }
        ),
        (true, UiLanguage::En) => format!(
            "digitized (Decision 766/QĐ-TTg{})",
            if signed_only { ", signed copies" } else { "" }
        ),
        (false, UiLanguage::Vi) => {
            format!(
                "chưa đạt – {}",
                crate::report::missing::lacking(&d, signed_only, lang)
            )
        }
        (false, UiLanguage::En) => {
            format!(
                "not yet – {}",
                crate::report::missing::lacking(&d, signed_only, lang)
            )
        }
    }
}

fn render(v: &DossierView, tree: &UnitTree, signed_only: bool, lang: UiLanguage) -> String {
    let vi = lang == UiLanguage::Vi;
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}\n",
        if vi { "Hồ sơ" } else { "Dossier" },
        v.code
    ));
    let unit_name = tree
        .units()
        .iter()
        .rev()
        .find(|u| u.code == v.unit_code)
        .map(|u| format!(" – {}", u.name))
        .unwrap_or_default();
    out.push_str(&format!(
        "  {}: {}{unit_name}\n",
        if vi { "Đơn vị" } else { "Unit" },
        v.unit_code
    ));
    if let Some(d) = &v.received_on {
        out.push_str(&format!(
            "  {}: {}\n",
            if vi {
                "Ngày tiếp nhận"
            } else {
                "Received"
            },
            vn_date(d, lang)
        ));
    }
    if let Some(r) = &v.register {
        out.push_str(&register_lines(r, lang));
    }
    if !v.standard_code {
        out.push_str(if vi {
            "  Cảnh báo: mã hồ sơ không theo mẫu chuẩn\n"
        } else {
            "  Warning: non-standard dossier code\n"
        });
    }
    out.push_str(&format!(
        "  {}: {}\n",
        if vi { "Kết luận" } else { "Verdict" },
        verdict(v, signed_only, lang)
    ));
    out.push_str(&format!(
        "  {} ({}):\n",
        if vi { "Tài liệu" } else { "Documents" },
        count(v.documents.len() as u64, lang)
    ));
    for d in &v.documents {
        let kind = match (d.kind.as_str(), vi) {
            ("ket_qua", true) => "kết quả",
            ("ket_qua", false) => "result",
            (_, true) => "thành phần",
            (_, false) => "component",
        };
        let current = if !d.current {
            if vi {
                " (bản cũ)"
            } else {
                " (superseded)"
            }
        } else if !crate::rules::counts_as_digitized(d.pages.iter().map(|p| p.blank)) {
            if vi {
                " (chỉ có trang trắng: chưa tính là đã số hóa)"
            } else {
                " (blank pages only: not counted as digitized)"
            }
        } else {
            ""
        };
        out.push_str(&format!(
            "    [{kind}] #{} {} v{}{current}: {} {}, {}, {}\n",
            d.id,
            d.name,
            d.version,
            count(d.page_count as u64, lang),
            match (vi, d.page_count) {
                (true, _) => "trang",
                (false, 1) => "page",
                (false, _) => "pages",
            },
            size(d.bytes, lang),
            d.archive_path
        ));
        if let Some(c) = d.mean_confidence {
            out.push_str(&format!(
                "      OCR: {} {} ({}), {} {}%\n",
                d.ocr_engine,
                d.ocr_version,
                d.ocr_languages,
                if vi {
                    "độ tin cậy trung bình"
                } else {
                    "mean confidence"
                },
                decimal(c as f64, 1, lang)
            ));
        }
        out.push_str(&format!("      SHA-256 PDF: {}\n", d.sha256));
        if d.current {
            out.push_str(&signature_lines(&d.signatures, lang));
        }
        for p in &d.pages {
            let mut flags = Vec::new();
            if p.blank {
                flags.push(if vi { "trang trắng" } else { "blank" });
            }
            if p.low_dpi {
                flags.push(if vi {
                    "dưới 200 dpi"
                } else {
                    "under 200 dpi"
                });
            }
            if p.not_color {
                flags.push(if vi {
                    "không phải ảnh màu"
                } else {
                    "not colour"
                });
            }
            let dpi = match (p.dpi_x, p.dpi_y) {
                (Some(x), Some(y)) if (x - y).abs() < 0.5 => format!("{x:.0} dpi"),
                (Some(x), Some(y)) => format!("{x:.0}×{y:.0} dpi"),
                _ => {
                    if vi {
                        "dpi không rõ".into()
                    } else {
                        "dpi unknown".into()
                    }
                }
            };
            out.push_str(&format!(
                "      {} {}: {}×{} px, {dpi}, {}{}{}{}\n",
                if vi { "Trang" } else { "Page" },
                p.page_no,
                p.width_px,
                p.height_px,
                color_label(&p.color, lang),
                if p.turn != 0 {
                    format!(", {} {}°", if vi { "xoay" } else { "turned" }, p.turn)
                } else {
                    String::new()
                },
                if p.deskew_deg != 0.0 {
                    format!(
                        ", {} {}°",
                        if vi { "chỉnh nghiêng" } else { "deskewed" },
                        decimal(p.deskew_deg as f64, 2, lang)
                    )
                } else {
                    String::new()
                },
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(
                        " — {}: {}",
                        if vi { "lưu ý" } else { "flags" },
                        flags.join(", ")
                    )
                },
            ));
        }
    }
    let open: Vec<_> = v.failures.iter().filter(|f| !f.resolved).collect();
    if !open.is_empty() {
        out.push_str(&format!(
            "  {} ({}):\n",
            if vi {
                "Lỗi chưa khắc phục"
            } else {
                "Open failures"
            },
            open.len()
        ));
        for f in open {
            out.push_str(&format!("    [{}] {}\n", f.error_code, f.message));
        }
    }
    out
}

/// A document's signatures: who signed, when, the check, where the signed
/// file is; "chưa ký số" (with why, when a run could not sign it) without
/// the officer's.
fn signature_lines(signatures: &[SignatureView], lang: UiLanguage) -> String {
    use crate::sign::verify::Problem;
    let vi = lang == UiLanguage::Vi;
    let mut out = String::new();
    let officer_signed = signatures
        .iter()
        .any(|s| s.role == SignRole::Officer && s.state == "signed");
    if !officer_signed {
        let why = signatures
            .iter()
            .find_map(|s| s.note.as_deref())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        out.push_str(if vi {
            "      Chữ ký số: chưa ký số"
        } else {
            "      Digital signature: not signed"
        });
        out.push_str(&why);
        out.push('\n');
    }
    for s in signatures.iter().filter(|s| s.state == "signed") {
        let role = match (s.role, vi) {
            (SignRole::Officer, true) => "Chữ ký số người sao",
            (SignRole::Officer, false) => "Copier's signature",
            (SignRole::SaoY, true) => "Bản SAO Y",
            (SignRole::SaoY, false) => "SAO Y copy",
        };
        let at = s
            .signed_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.format("%d/%m/%Y %H:%M:%S").to_string())
            .unwrap_or_default();
        let check = match (s.check_valid, s.check_problems.as_slice(), vi) {
            (Some(true), _, true) => "hợp lệ",
            (Some(true), _, false) => "valid",
            (_, [Problem::Untrusted(_)], true) => {
                "đúng, nhưng chưa xác minh được chứng thư (chưa có chứng thư gốc tin cậy hoặc chứng thư trung gian)"
            }
            (_, [Problem::Untrusted(_)], false) => {
                "intact, but the certificate could not be checked (no trust anchor or intermediate)"
            }
            (_, _, true) => "không hợp lệ",
            (_, _, false) => "not valid",
        };
        out.push_str(&format!(
            "      {role}: {}, {at}; {}: {}; {}\n",
            s.signer_name.as_deref().unwrap_or("?"),
            if vi { "kiểm tra" } else { "check" },
            check,
            s.archive_path.as_deref().unwrap_or_default()
        ));
        out.push_str(&format!(
            "        {}: {} – {}: {}\n",
            if vi {
                "Số hiệu chứng thư"
            } else {
                "Certificate serial"
            },
            s.signer_serial.as_deref().unwrap_or_default(),
            if vi { "cấp bởi" } else { "issued by" },
            s.signer_issuer.as_deref().unwrap_or_default()
        ));
        if let Some(at) = s
            .time_stamped_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            let at = crate::sign::copy::vietnam_time(at.with_timezone(&chrono::Utc));
            let by = s.time_stamp_authority.as_deref().unwrap_or("?");
            out.push_str(&match vi {
                true => format!(
                    "        Dấu thời gian: {} (+07:00), do {by} cấp\n",
                    at.format("%d/%m/%Y %H:%M:%S")
                ),
                false => format!("        Time-stamp: {}, by {by}\n", at.to_rfc3339()),
            });
        }
    }
    out
}

/// The colour mode as operators say it.
fn color_label(color: &str, lang: UiLanguage) -> &str {
    match (color, lang) {
        ("rgb", UiLanguage::Vi) => "màu (RGB)",
        ("cmyk", UiLanguage::Vi) => "màu (CMYK)",
        ("gray", UiLanguage::Vi) => "thang độ xám",
        ("bilevel", UiLanguage::Vi) => "đen trắng",
        ("rgb", UiLanguage::En) => "colour (RGB)",
        ("cmyk", UiLanguage::En) => "colour (CMYK)",
        ("gray", UiLanguage::En) => "greyscale",
        ("bilevel", UiLanguage::En) => "black and white",
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::verify::Problem;

    fn signed(role: SignRole, problems: Vec<Problem>) -> SignatureView {
        SignatureView {
            role,
            state: "signed".into(),
            archive_path: Some("archive/H44/01-don.v1.ky.pdf".into()),
            bytes: Some(130_000),
            sha256: Some("ab".into()),
            signer_name: Some("Nguyễn Thị Hồng Nhung".into()),
            signer_subject: None,
            signer_serial: Some("0A1B".into()),
            signer_issuer: Some("CN=CA thử nghiệm".into()),
            officer: None,
            position: None,
            agency: None,
            signed_at: Some("2026-12-03T09:15:07+07:00".into()),
            check_valid: Some(problems.is_empty()),
            check_problems: problems,
            checked_at: None,
            time_stamped_at: None,
            time_stamp_authority: None,
            note: None,
        }
    }

    #[test]
    fn signatures_are_shown_with_their_check_or_as_missing() {
        let lines = signature_lines(&[signed(SignRole::Officer, vec![])], UiLanguage::Vi);
        assert_eq!(
            lines,
            "      Chữ ký số người sao: Nguyễn Thị Hồng Nhung, 03/12/2026 09:15:07; kiểm tra: hợp lệ; \
             archive/H44/01-don.v1.ky.pdf\n        Số hiệu chứng thư: 0A1B – cấp bởi: CN=CA thử nghiệm\n"
        );
        let untrusted = signature_lines(
            &[signed(
                SignRole::Officer,
                vec![Problem::Untrusted("x".into())],
            )],
            UiLanguage::Vi,
        );
        assert!(
            untrusted.contains("chưa có chứng thư gốc tin cậy"),
            "{untrusted}"
        );
        let bad = signature_lines(
            &[signed(SignRole::SaoY, vec![Problem::Altered])],
            UiLanguage::En,
        );
        assert!(bad.contains("Digital signature: not signed"), "{bad}");
        assert!(
            bad.contains(
                "SAO Y copy: Nguyễn Thị Hồng Nhung, 03/12/2026 09:15:07; check: not valid"
            ),
            "{bad}"
        );
        let mut mark = signed(SignRole::Officer, vec![]);
        mark.state = "unsigned".into();
        mark.note = Some("khóa ký số bị rút ra giữa chừng".into());
        assert_eq!(
            signature_lines(&[mark], UiLanguage::Vi),
            "      Chữ ký số: chưa ký số (khóa ký số bị rút ra giữa chừng)\n"
        );
        assert_eq!(
            signature_lines(&[], UiLanguage::Vi),
            "      Chữ ký số: chưa ký số\n"
        );
    }
}
