//! What makes the file PDF/A-2b rather than just PDF: XMP metadata that
//! agrees with the Info dictionary, an sRGB output intent, and a file ID.
//!
//! pdf-writer has no PDF/A helpers, so the pieces are written here by hand,
//! following ISO 19005-2 clauses 6.1.3 (file ID), 6.2.3 (output intent) and
//! 6.6 (metadata), as checked by veraPDF's PDF/A-2B profile.

use crate::format::escape_markup;
use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::types::OutputIntentSubtype;
use pdf_writer::writers::Catalog;
use pdf_writer::{Chunk, Date, Filter, Pdf, Ref, TextStr};
use sha2::{Digest, Sha256};

use super::{deflate, DocumentInfo};

/// The sRGB profile for the output intent, made by lcms (see assets/README.md).
pub(crate) static SRGB_ICC: &[u8] = include_bytes!("../../assets/sRGB.icc");

/// The CMYK profile for CMYK images: CGATS001 (SWOP-like), CC0, 8 KB (see
/// assets/README.md).
pub(crate) static CMYK_ICC: &[u8] = include_bytes!("../../assets/CGATS001Compat-v2-micro.icc");

const SRGB_NAME: &str = "sRGB IEC61966-2.1";

/// A PDF date (`D:YYYYMMDDHHmmSSZ`); seconds precision, like the XMP dates.
fn pdf_date(t: &DateTime<Utc>) -> Date {
    let clamp = |v: u32| u8::try_from(v).unwrap_or(0);
    Date::new(u16::try_from(t.year()).unwrap_or(0))
        .month(clamp(t.month()))
        .day(clamp(t.day()))
        .hour(clamp(t.hour()))
        .minute(clamp(t.minute()))
        .second(clamp(t.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// The same instant as an XMP date (ISO 8601, UTC).
fn xmp_date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Info strings must match their XMP twins exactly, so both come from here:
/// control characters and the non-characters U+FFFE/U+FFFF (which XML 1.0
/// cannot carry) are dropped from both.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter(|&c| !c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}')
        .collect()
}

/// The XMP packet for the catalog's /Metadata. Every Info entry written by
/// [`write_info`] has its twin here (ISO 19005-2, 6.6.2.3.1).
pub(crate) fn xmp_packet(info: &DocumentInfo) -> String {
    let alt = |tag: &str, value: &str| {
        format!(
            "   <{tag}><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></{tag}>\n",
            escape_markup(value)
        )
    };
    let date = xmp_date(&info.created);
    let mut x = String::from(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         <rdf:Description rdf:about=\"\"\n\
         \x20   xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"\n\
         \x20   xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n\
         \x20   xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n\
         \x20   xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
         \x20  <pdfaid:part>2</pdfaid:part>\n\
         \x20  <pdfaid:conformance>B</pdfaid:conformance>\n\
         \x20  <dc:format>application/pdf</dc:format>\n",
    );
    let title = clean(&info.title);
    if !title.is_empty() {
        x.push_str(&alt("dc:title", &title));
    }
    let subject = clean(&info.subject);
    if !subject.is_empty() {
        x.push_str(&alt("dc:description", &subject));
    }
    let lang = clean(&info.language);
    if !lang.is_empty() {
        x.push_str(&format!(
            "   <dc:language><rdf:Bag><rdf:li>{}</rdf:li></rdf:Bag></dc:language>\n",
            escape_markup(&lang)
        ));
    }
    let producer = escape_markup(&clean(&info.producer));
    x.push_str(&format!(
        "   <xmp:CreateDate>{date}</xmp:CreateDate>\n\
         \x20  <xmp:ModifyDate>{date}</xmp:ModifyDate>\n\
         \x20  <xmp:MetadataDate>{date}</xmp:MetadataDate>\n\
         \x20  <xmp:CreatorTool>{producer}</xmp:CreatorTool>\n\
         \x20  <pdf:Producer>{producer}</pdf:Producer>\n\
         </rdf:Description>\n\
         </rdf:RDF>\n\
         </x:xmpmeta>\n\
         <?xpacket end=\"w\"?>"
    ));
    x
}

/// The Info dictionary, mirroring [`xmp_packet`].
pub(crate) fn write_info(pdf: &mut Pdf, id: Ref, info: &DocumentInfo) {
    let title = clean(&info.title);
    let subject = clean(&info.subject);
    let producer = clean(&info.producer);
    let date = pdf_date(&info.created);
    let mut dict = pdf.document_info(id);
    if !title.is_empty() {
        dict.title(TextStr(&title));
    }
    if !subject.is_empty() {
        dict.subject(TextStr(&subject));
    }
    dict.creator(TextStr(&producer));
    dict.producer(TextStr(&producer));
    dict.creation_date(date);
    dict.modified_date(date);
}

/// An ICC profile stream with `n` components.
pub(crate) fn write_icc(chunk: &mut Chunk, id: Ref, profile: &[u8], n: i32) {
    let data = deflate(profile);
    let mut icc = chunk.icc_profile(id, &data);
    icc.n(n).filter(Filter::FlateDecode);
}

/// Adds /Metadata, /OutputIntents and /Lang to the catalog.
pub(crate) fn finish_catalog(catalog: &mut Catalog, xmp: Ref, icc: Ref, lang: &str) {
    catalog.metadata(xmp);
    let lang = clean(lang);
    if !lang.is_empty() {
        catalog.lang(TextStr(&lang));
    }
    catalog
        .output_intents()
        .push()
        .subtype(OutputIntentSubtype::PDFA)
        .output_condition_identifier(TextStr(SRGB_NAME))
        .info(TextStr(SRGB_NAME))
        .dest_output_profile(icc);
}

/// The file identifier: the first 16 bytes of the SHA-256 of the body, twice
/// (a new file, so "original" and "this revision" are the same). Identical
/// input gives an identical file.
pub(crate) fn file_id(body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let digest = Sha256::digest(body);
    let id = digest[..16].to_vec();
    (id.clone(), id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn info() -> DocumentInfo {
        DocumentInfo {
            title: "Đơn đăng ký <đất> & \"nhà\"".into(),
            subject: "000.00.18.H44-230314-0027".into(),
            created: Utc.with_ymd_and_hms(2023, 3, 14, 8, 5, 9).unwrap(),
            producer: "sohoa 0.1.0".into(),
            language: "vi".into(),
        }
    }

    #[test]
    fn xmp_has_pdfa_id_and_escaped_twins_of_the_info_entries() {
        let x = xmp_packet(&info());
        assert!(x.contains("<pdfaid:part>2</pdfaid:part>"));
        assert!(x.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
        assert!(x.contains("Đơn đăng ký &lt;đất&gt; &amp; &quot;nhà&quot;"));
        assert!(x.contains("<xmp:CreateDate>2023-03-14T08:05:09Z</xmp:CreateDate>"));
        assert!(x.contains("<pdf:Producer>sohoa 0.1.0</pdf:Producer>"));
        assert!(x.contains("000.00.18.H44-230314-0027"));
        assert!(!x.contains("bytes=") && !x.contains("encoding="));
    }

    #[test]
    fn empty_title_is_left_out() {
        let mut i = info();
        i.title = String::new();
        assert!(!xmp_packet(&i).contains("dc:title"));
    }

    #[test]
    fn pdf_date_has_utc_zone() {
        let mut pdf = Pdf::new();
        write_info(&mut pdf, Ref::new(1), &info());
        let bytes = pdf.finish();
        let s = String::from_utf8_lossy(&bytes);
        assert!(s.contains("(D:20230314080509Z)"), "{s}");
    }

    #[test]
    fn icc_profiles_have_the_class_space_and_version_pdfa_allows() {
        // ISO 19005-2 6.2.3/6.2.4.2: a device class PDF allows, a colour space
        // matching N, version below 5.
        assert_eq!(&SRGB_ICC[12..20], b"mntrRGB ");
        assert_eq!(&CMYK_ICC[12..20], b"scnrCMYK");
        for p in [SRGB_ICC, CMYK_ICC] {
            assert!(p[8] < 5);
            assert_eq!(&p[36..40], b"acsp");
        }
    }
}
