//! The two signed copies the rules ask for, made from an archive file's
//! bytes: the officer's electronic copy (Circular 01/2023/TT-VPCP, Art. 8.1:
//! the copier's name, position and the copying time at the top left of the
//! first page) and the agency's SAO Y copy (Decree 30/2020/NĐ-CP, Appendix
//! I: "SAO Y", the agency and the ISO 8601 time at the top right, 10 pt).
//! Each is checked before it is handed back; writing and recording it is the
//! caller's.

use super::appearance::{layout, Font};
use super::cert::{check_signing, Identity};
use super::pdf::{self, Corner, SignatureInfo, Visible};
use super::{verify, SignError, Signing};
use crate::records::SignRole;
use chrono::{DateTime, FixedOffset, Utc};

/// The reason of the officer's signature (`/Reason`) and the block's last line.
pub const OFFICER_REASON: &str = "Bản sao điện tử từ bản giấy";

/// Which copy to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copy {
    /// The officer's copy, with the officer's name and position.
    Officer { officer: String, position: String },
    /// The agency's SAO Y copy, over the officer's signed copy.
    SaoY { agency: String },
}

/// A signed copy, checked.
#[derive(Debug)]
pub struct Signed {
    pub bytes: Vec<u8>,
    /// Whom the certificate names.
    pub signer: Identity,
    /// The signing time, in Vietnam time.
    pub time: DateTime<FixedOffset>,
    /// What the check found: empty, or only `Untrusted` (no trust anchor
    /// given, or none that the certificate chains to).
    pub problems: Vec<verify::Problem>,
    /// Its time-stamp, when a TSA gave one.
    pub time_stamp: Option<verify::TimeStamp>,
}

/// Vietnam time (UTC+07:00, no daylight saving), to the second.
pub fn vietnam_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let zone = FixedOffset::east_opt(7 * 3600).expect("a valid offset");
    let t = at.with_timezone(&zone);
    t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()))
}

/// The lines of the visible block.
pub fn block_lines(copy: &Copy, time: DateTime<FixedOffset>) -> Vec<String> {
    let iso = time.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    match copy {
        Copy::Officer { officer, position } => vec![
            format!("Người sao: {officer}"),
            format!("Chức vụ: {position}"),
            format!(
                "Thời gian sao: {} ({iso})",
                time.format("%d/%m/%Y %H:%M:%S")
            ),
            OFFICER_REASON.to_string(),
        ],
        Copy::SaoY { agency } => vec!["SAO Y".to_string(), agency.clone(), iso],
    }
}

/// Signs `unsigned` (named `shown` in errors) as `copy`, at `at` (time-stamped
/// when `signing` has a TSA), with the block's text in `font`; then verifies
/// the result against `anchors`. The
/// certificate is checked first: expired, not yet valid or not for
/// signatures, nothing is signed.
pub fn make(
    unsigned: &[u8],
    shown: &str,
    copy: &Copy,
    signing: Signing,
    font: &Font,
    anchors: &[Vec<u8>],
    at: DateTime<Utc>,
) -> Result<Signed, SignError> {
    let certificate = signing
        .signer
        .chain()
        .first()
        .ok_or_else(|| SignError::Signing("the key has no certificate".into()))?;
    let who = check_signing(certificate, at)?;
    let time = vietnam_time(at);
    let lines = block_lines(copy, time);
    let (size, corner, reason) = match copy {
        Copy::Officer { .. } => (8.0, Corner::TopLeft, OFFICER_REASON),
        Copy::SaoY { .. } => (10.0, Corner::TopRight, "SAO Y"),
    };
    let block = layout(font, &lines, size, 3.0)?;
    let bytes = pdf::sign(
        unsigned,
        shown,
        signing,
        &Visible {
            block: &block,
            corner,
            inset: 8.0,
        },
        &SignatureInfo {
            name: who.name.clone(),
            reason: reason.to_string(),
            time,
        },
    )?;
    let self_check = |problems: Vec<verify::Problem>| SignError::SelfCheck {
        path: shown.to_string(),
        problems,
    };
    let checked = verify::verify(&bytes, anchors)
        .map_err(|e| self_check(vec![verify::Problem::Malformed(e)]))?;
    let last = checked.last().ok_or_else(|| {
        self_check(vec![verify::Problem::Malformed(
            "no signature is found in it".into(),
        )])
    })?;
    let mut wrong: Vec<verify::Problem> = checked
        .iter()
        .flat_map(|c| &c.problems)
        .filter(|p| !p.is_untrusted())
        .cloned()
        .collect();
    if !last.whole_file && !wrong.contains(&verify::Problem::ChangedAfterSigning) {
        wrong.push(verify::Problem::ChangedAfterSigning);
    }
    if !wrong.is_empty() {
        return Err(self_check(wrong));
    }
    Ok(Signed {
        problems: last.problems.clone(),
        time_stamp: last.time_stamp.clone(),
        bytes,
        signer: who,
        time,
    })
}

/// Where a signed copy of `archive_path` goes, beside it: `X.pdf` becomes
/// `X.ky.pdf` (the officer's) or `X.sao-y.pdf`.
pub fn signed_path(archive_path: &str, role: SignRole) -> String {
    let stem = archive_path.strip_suffix(".pdf").unwrap_or(archive_path);
    match role {
        SignRole::Officer => format!("{stem}.ky.pdf"),
        SignRole::SaoY => format!("{}.sao-y.pdf", stem.strip_suffix(".ky").unwrap_or(stem)),
    }
}
