//! The signature of a PDF as an incremental update (ISO 32000-1, 7.5.6 and
//! 12.8; PAdES, ETSI EN 319 142-1): the unsigned file's bytes stay as they
//! are, and after them come the new objects (the signature dictionary, its
//! widget with the visible block, page 1 and the catalog rewritten to point at
//! them), a cross-reference section for those objects with `/Prev` pointing at
//! the old one, and a trailer keeping the file's first `/ID`.
//!
//! What PDF/A-2b asks of the update is kept: the block's font is embedded,
//! the widget is printable with only a normal appearance, the trailer has a
//! correct `/Size` and an `/ID`, and text strings that are not ASCII are
//! UTF-16BE.

use super::appearance::{self, Block};
use super::{cms, SignError, Signing};
use chrono::{DateTime, FixedOffset};
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, StringFormat};
use sha2::{Digest, Sha256};
use std::io::Write;

/// Bytes kept for the CMS signature (twice as many hex digits in the file):
/// a chain of three RSA-4096 certificates and a time-stamp token fit.
const RESERVED: usize = 20 * 1024;

/// The corner of page 1 that holds the visible block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    /// The officer's block (Circular 01/2023/TT-VPCP, Art. 8.1).
    TopLeft,
    /// The agency's SAO Y block (Decree 30/2020/NĐ-CP, Appendix I).
    TopRight,
}

/// What the signature dictionary says besides the signature itself.
pub struct SignatureInfo {
    /// The signer's name (`/Name`).
    pub name: String,
    /// `/Reason`, e.g. "Bản sao điện tử từ bản giấy".
    pub reason: String,
    /// The signing time (`/M`), in the zone it is shown in.
    pub time: DateTime<FixedOffset>,
}

/// Where the visible block goes: `corner`, `inset` points from both edges.
pub struct Visible<'a> {
    pub block: &'a Block,
    pub corner: Corner,
    pub inset: f32,
}

/// Signs `unsigned` with `signing`: returns the signed file, `unsigned`
/// followed by the update. `shown` names the file in errors.
pub fn sign(
    unsigned: &[u8],
    shown: &str,
    signing: Signing,
    visible: &Visible,
    info: &SignatureInfo,
) -> Result<Vec<u8>, SignError> {
    let bad = |detail: String| SignError::Pdf {
        path: shown.to_string(),
        detail,
    };
    let Prepared { mut out, contents } = prepare(unsigned, visible, info).map_err(bad)?;
    let digest: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(&out[..contents.start]);
        h.update(&out[contents.end..]);
        h.finalize().into()
    };
    let der = cms::signed_data(signing, &digest)?;
    let room = contents.len() - 2;
    if der.len() * 2 > room {
        return Err(SignError::Encode(format!(
            "the signature takes {} bytes, {} are kept for it",
            der.len(),
            room / 2
        )));
    }
    let hex: String = der.iter().map(|b| format!("{b:02X}")).collect();
    out[contents.start + 1..contents.start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// The file with its update written and the signature value left as zeros.
struct Prepared {
    out: Vec<u8>,
    /// The `<…>` of `/Contents`, angle brackets included: what the signature
    /// does not cover.
    contents: std::ops::Range<usize>,
}

fn prepare(unsigned: &[u8], visible: &Visible, info: &SignatureInfo) -> Result<Prepared, String> {
    let doc = Document::load_mem(unsigned).map_err(|e| format!("not a readable PDF: {e}"))?;
    if !matches!(
        doc.reference_table.cross_reference_type,
        lopdf::xref::XrefType::CrossReferenceTable
    ) {
        return Err(
            "its cross-reference data is a stream, which this update does not extend".into(),
        );
    }
    if doc.encryption_state.is_some() || doc.trailer.has(b"Encrypt") {
        return Err("it is encrypted".into());
    }
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| "its trailer names no catalog".to_string())?;
    let mut catalog = doc
        .get_dictionary(root)
        .map_err(|e| format!("its catalog cannot be read: {e}"))?
        .clone();
    let page_id = *doc
        .get_pages()
        .get(&1)
        .ok_or_else(|| "it has no pages".to_string())?;
    let mut page = doc
        .get_dictionary(page_id)
        .map_err(|e| format!("its first page cannot be read: {e}"))?
        .clone();
    let media = page_box(&doc, page_id)?;
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0)
        .max(doc.max_id + 1);

    let mut next = size;
    let mut alloc = || {
        next += 1;
        (next - 1, 0)
    };
    let mut objects: Vec<(ObjectId, Object)> = appearance::form_objects(visible.block, &mut alloc);
    let form = objects[0].0;
    let (sig, widget) = (alloc(), alloc());

    // The form: its field joins those the catalog already has (an earlier
    // signature's), under a name of its own.
    let acro_ref = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => Some(*id),
        _ => None,
    };
    let mut acro = match (acro_ref, catalog.get(b"AcroForm")) {
        (Some(id), _) => doc
            .get_dictionary(id)
            .cloned()
            .map_err(|e| format!("its form cannot be read: {e}"))?,
        (None, Ok(Object::Dictionary(d))) => d.clone(),
        _ => Dictionary::new(),
    };
    let mut fields = match acro.get(b"Fields") {
        Ok(o) => doc
            .dereference(o)
            .ok()
            .and_then(|(_, o)| o.as_array().ok().cloned())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let field_name = format!("Signature{}", fields.len() + 1);
    fields.push(widget.into());
    acro.set("Fields", fields);
    // SignaturesExist | AppendOnly.
    acro.set("SigFlags", 3);
    match acro_ref {
        Some(id) => objects.push((id, acro.into())),
        None => catalog.set("AcroForm", acro),
    }
    objects.push((root, catalog.into()));

    // Page 1 lists the widget among its annotations.
    match page.get(b"Annots") {
        Ok(Object::Reference(id)) => {
            let mut annots = doc
                .get_object(*id)
                .and_then(Object::as_array)
                .cloned()
                .map_err(|e| format!("the annotations of page 1 cannot be read: {e}"))?;
            annots.push(widget.into());
            objects.push((*id, annots.into()));
        }
        Ok(Object::Array(a)) => {
            let mut annots = a.clone();
            annots.push(widget.into());
            page.set("Annots", annots);
        }
        _ => page.set("Annots", vec![Object::Reference(widget)]),
    }
    objects.push((page_id, page.into()));

    let (w, h) = (visible.block.width, visible.block.height);
    let [x0, _, x1, y1] = media;
    let left = match visible.corner {
        Corner::TopLeft => x0 + visible.inset,
        Corner::TopRight => x1 - visible.inset - w,
    };
    let top = y1 - visible.inset;
    let rect: Vec<Object> = [left, top - h, left + w, top]
        .iter()
        .map(|v| Object::Real(*v))
        .collect();
    let widget_dict = dictionary! {
        "Type" => Object::Name(b"Annot".to_vec()),
        "Subtype" => Object::Name(b"Widget".to_vec()),
        "FT" => Object::Name(b"Sig".to_vec()),
        "T" => Object::string_literal(field_name),
        "V" => sig,
        // Print: PDF/A wants widgets printed, neither hidden nor invisible.
        "F" => 4,
        "Rect" => rect,
        "P" => page_id,
        "AP" => dictionary! { "N" => form },
    };
    objects.push((widget, widget_dict.into()));

    // Everything but the signature dictionary, whose placeholders are
    // patched after, is written by lopdf.
    let mut out = Vec::with_capacity(unsigned.len() + 64 * 1024 + 2 * RESERVED);
    out.extend_from_slice(unsigned);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(u32, usize)> = Vec::new();
    for (id, object) in &objects {
        offsets.push((id.0, out.len()));
        writeln!(out, "{} {} obj", id.0, id.1).expect("write to memory");
        lopdf::Writer::write_object(&mut out, object).expect("write to memory");
        out.extend_from_slice(b"\nendobj\n");
    }

    offsets.push((sig.0, out.len()));
    write!(
        out,
        "{} 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached",
        sig.0
    )
    .expect("write to memory");
    for (key, value) in [
        ("Name", text_string(&info.name)),
        ("Reason", text_string(&info.reason)),
        ("M", Object::string_literal(pdf_date(&info.time))),
    ] {
        write!(out, "/{key}").expect("write to memory");
        lopdf::Writer::write_object(&mut out, &value).expect("write to memory");
    }
    out.extend_from_slice(b"/ByteRange");
    let byte_range_at = out.len();
    out.extend_from_slice(PLACEHOLDER_RANGE);
    let byte_range = byte_range_at..out.len();
    out.extend_from_slice(b"/Contents");
    let contents_at = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * RESERVED, b'0');
    out.push(b'>');
    let contents = contents_at..out.len();
    out.extend_from_slice(b">>\nendobj\n");

    let xref_at = out.len();
    offsets.sort_unstable();
    out.extend_from_slice(b"xref\n");
    for run in offsets.chunk_by(|a, b| b.0 == a.0 + 1) {
        writeln!(out, "{} {}", run[0].0, run.len()).expect("write to memory");
        for (_, at) in run {
            write!(out, "{at:010} 00000 n\r\n").expect("write to memory");
        }
    }
    let new_id: Vec<u8> = Sha256::digest(&out).iter().take(16).copied().collect();
    let first_id = match doc.trailer.get(b"ID").and_then(Object::as_array) {
        Ok(ids) if !ids.is_empty() => ids[0].clone(),
        _ => Object::String(new_id.clone(), StringFormat::Hexadecimal),
    };
    let mut trailer = dictionary! {
        "Size" => i64::from(next),
        "Root" => root,
        "ID" => vec![first_id, Object::String(new_id, StringFormat::Hexadecimal)],
        "Prev" => doc.xref_start as i64,
    };
    if let Ok(info) = doc.trailer.get(b"Info") {
        trailer.set("Info", info.clone());
    }
    out.extend_from_slice(b"trailer\n");
    lopdf::Writer::write_object(&mut out, &trailer.into()).expect("write to memory");
    write!(out, "\nstartxref\n{xref_at}\n%%EOF\n").expect("write to memory");

    // The signature covers all but `<…>` of /Contents.
    let range = format!(
        "[0 {} {} {}]",
        contents.start,
        contents.end,
        out.len() - contents.end
    );
    if range.len() > PLACEHOLDER_RANGE.len() {
        return Err("the file is too large to sign".into());
    }
    let slot = &mut out[byte_range.clone()];
    slot.fill(b' ');
    slot[..range.len()].copy_from_slice(range.as_bytes());
    Ok(Prepared { out, contents })
}

/// Room for four numbers of up to 12 digits.
const PLACEHOLDER_RANGE: &[u8] = b"[0 000000000000 000000000000 000000000000]";

/// The page's visible area: its CropBox, else its MediaBox, either inherited
/// from the page tree.
fn page_box(doc: &Document, page: ObjectId) -> Result<[f32; 4], String> {
    let mut id = Some(page);
    let mut seen = 0;
    while let Some(current) = id {
        seen += 1;
        if seen > 64 {
            break;
        }
        let dict = doc
            .get_dictionary(current)
            .map_err(|e| format!("its page tree cannot be read: {e}"))?;
        for key in [&b"CropBox"[..], b"MediaBox"] {
            if let Ok(o) = dict.get(key) {
                let values = doc
                    .dereference(o)
                    .ok()
                    .and_then(|(_, o)| o.as_array().ok())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_float().ok())
                            .collect::<Vec<_>>()
                    });
                if let Some([a, b, c, d]) = values.as_deref() {
                    return Ok([a.min(*c), b.min(*d), a.max(*c), b.max(*d)]);
                }
            }
        }
        id = dict.get(b"Parent").and_then(Object::as_reference).ok();
    }
    Err("its first page has no MediaBox".into())
}

/// A text string: ASCII as it is, anything else UTF-16BE with its byte
/// order mark (ISO 32000-1, 7.9.2.2).
fn text_string(s: &str) -> Object {
    use unicode_normalization::UnicodeNormalization;
    let s: String = s.nfc().collect();
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::string_literal(s)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (ISO 32000-1, 7.9.4).
fn pdf_date(t: &DateTime<FixedOffset>) -> String {
    let offset = t.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs() / 60;
    format!(
        "D:{}{sign}{:02}'{:02}'",
        t.format("%Y%m%d%H%M%S"),
        offset / 60,
        offset % 60
    )
}
