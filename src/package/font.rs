//! The invisible-text font: Tesseract's "GlyphLessFont" recipe.
//!
//! One tiny embedded TrueType (Tesseract's `pdf.ttf`, 572 bytes, Apache-2.0)
//! with a single 500-unit-wide empty glyph. Every character code (a UTF-16 code
//! unit, Identity-H) maps to that glyph, and a ToUnicode CMap turns the codes
//! back into text. This is far smaller than embedding a real Vietnamese font
//! (about 2 KB per document with the maps, against about 20 KB) and it never
//! draws anything.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Filter, Finish, Name, Rect, Ref, Str};

use super::deflate;

/// The font program, shipped in the repository (see assets/README.md).
static GLYPHLESS_TTF: &[u8] = include_bytes!("../../assets/pdf.ttf");

/// Resource name of the font on every page.
pub(crate) const FONT_NAME: Name<'static> = Name(b"F0");

/// Width of every glyph in text space units (1/1000 of the font size).
pub(crate) const GLYPH_WIDTH: f64 = 500.0;

/// The object ids the font needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FontRefs {
    pub type0: Ref,
    pub cid_font: Ref,
    pub descriptor: Ref,
    pub font_file: Ref,
    pub cid_to_gid: Ref,
    pub to_unicode: Ref,
}

/// Deflated CIDToGIDMap sending all 65 536 CIDs to glyph 1. It must cover every
/// CID: a CID beyond the map's end would fall to glyph 0 (.notdef), which
/// PDF/A-2 (6.2.11.8) forbids even for invisible text. Built once per process.
fn cid_to_gid_map() -> &'static [u8] {
    static MAP: OnceLock<Vec<u8>> = OnceLock::new();
    MAP.get_or_init(|| {
        let raw: Vec<u8> = std::iter::repeat_n([0u8, 1u8], 65_536).flatten().collect();
        deflate(&raw)
    })
}

/// Writes the Type0 font and its parts. `used` maps every code written on
/// any page to the character it stands for.
pub(crate) fn write_font(chunk: &mut Chunk, refs: &FontRefs, used: &BTreeMap<u16, char>) {
    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let base = Name(b"GlyphLessFont");

    chunk
        .type0_font(refs.type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid_font)
        .to_unicode(refs.to_unicode);

    chunk
        .cid_font(refs.cid_font)
        .subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(system_info)
        .font_descriptor(refs.descriptor)
        .default_width(GLYPH_WIDTH as f32)
        .cid_to_gid_map_stream(refs.cid_to_gid);

    chunk
        .font_descriptor(refs.descriptor)
        .name(base)
        .flags(FontFlags::FIXED_PITCH | FontFlags::SYMBOLIC)
        .bbox(Rect::new(0.0, 0.0, GLYPH_WIDTH as f32, 1000.0))
        .italic_angle(0.0)
        .ascent(1000.0)
        .descent(0.0)
        .cap_height(1000.0)
        .stem_v(80.0)
        .font_file2(refs.font_file);

    let program = deflate(GLYPHLESS_TTF);
    let mut file = chunk.stream(refs.font_file, &program);
    file.filter(Filter::FlateDecode);
    // Length1 is the decoded length of a FontFile2 program (required).
    file.pair(Name(b"Length1"), GLYPHLESS_TTF.len() as i32);
    file.finish();

    chunk
        .stream(refs.cid_to_gid, cid_to_gid_map())
        .filter(Filter::FlateDecode);

    let mut cmap = UnicodeCmap::new(Name(b"GlyphLessFont-UTF16"), system_info);
    for (&code, &ch) in used {
        cmap.pair(code, ch);
    }
    let cmap = deflate(&cmap.finish());
    chunk
        .stream(refs.to_unicode, &cmap)
        .filter(Filter::FlateDecode);
}

/// Cleans OCR text for the text layer: NFC, no control characters, and
/// characters outside the Basic Multilingual Plane replaced by U+FFFD, since
/// one CID is one UTF-16 unit and a lone surrogate cannot map to Unicode.
/// (Vietnamese is entirely in the BMP.)
pub(crate) fn clean_text(text: &str) -> Vec<char> {
    use unicode_normalization::UnicodeNormalization;
    text.nfc()
        .filter(|c| !c.is_control())
        .map(|c| {
            if (c as u32) > 0xFFFF {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// The bytes of a text string shown with this font (2-byte big-endian codes),
/// recording each code in `used`.
pub(crate) fn encode(chars: &[char], used: &mut BTreeMap<u16, char>) -> Vec<u8> {
    let mut out = Vec::with_capacity(chars.len() * 2);
    for &c in chars {
        // clean_text guarantees BMP, so the code unit is the scalar value.
        let code = u16::try_from(c as u32).unwrap_or(0xFFFD);
        used.insert(code, c);
        out.extend_from_slice(&code.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_nfc_without_controls_and_bmp_only() {
        // "Hùng" written with a combining grave accent (NFD) becomes one char.
        let nfd = "Hu\u{0300}ng\u{0007}\u{1F600}";
        assert_eq!(clean_text(nfd), vec!['H', 'ù', 'n', 'g', '\u{FFFD}']);
    }

    #[test]
    fn codes_are_utf16_big_endian_and_recorded() {
        let mut used = BTreeMap::new();
        let bytes = encode(&clean_text("Đất"), &mut used);
        assert_eq!(bytes, vec![0x01, 0x10, 0x1E, 0xA5, 0x00, 0x74]);
        assert_eq!(used.get(&0x0110), Some(&'Đ'));
        assert_eq!(used.len(), 3);
    }

    #[test]
    fn cid_map_covers_all_cids_with_glyph_one() {
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(cid_to_gid_map()).unwrap();
        assert_eq!(raw.len(), 131_072);
        assert!(raw.chunks(2).all(|c| c == [0, 1]));
        // The font program has exactly the glyph the map points at.
        assert!(GLYPHLESS_TTF.len() > 500);
    }
}
