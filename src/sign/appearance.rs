//! The visible block of a signature: a few lines of text in a box, drawn in
//! black with an embedded subset of Liberation Serif (Debian's
//! `fonts-liberation2`, metric-compatible with Times New Roman, the font
//! Decree 30/2020 names), with a ToUnicode map so the text reads back.
//! PDF/A-2b wants every font embedded, and every glyph drawn present in it.

use super::SignError;
use lopdf::{dictionary, Dictionary, Object, ObjectId, Stream};
use std::path::Path;

/// Where Debian puts Liberation Serif (`fonts-liberation2`).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";

/// A TrueType font read from a file.
pub struct Font {
    data: Vec<u8>,
    postscript_name: String,
}

impl Font {
    pub fn load(path: &Path) -> Result<Font, SignError> {
        let data = std::fs::read(path).map_err(|source| SignError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let face = ttf_parser::Face::parse(&data, 0).map_err(|e| SignError::Font {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let postscript_name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .unwrap_or_else(|| "Font".into())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(Font {
            data,
            postscript_name,
        })
    }

    fn face(&self) -> ttf_parser::Face<'_> {
        // Parsed once in `load`; the same bytes parse again.
        ttf_parser::Face::parse(&self.data, 0).expect("a font that parsed once")
    }
}

/// A block laid out: the content stream of its form XObject (origin at the
/// box's lower left corner, the font as `/F1`) and the font subset it uses.
pub struct Block {
    /// Size of the box in points.
    pub width: f32,
    pub height: f32,
    pub content: Vec<u8>,
    pub font: Subset,
}

/// The glyphs a block draws, as a CID-keyed TrueType font (Identity-H, CID =
/// glyph of the subset).
pub struct Subset {
    /// `XXXXXX+Name`: a tag of six capitals from the glyphs, as PDF names a subset.
    pub base_font: String,
    /// The subset font program (`/FontFile2`).
    pub program: Vec<u8>,
    /// Advance width of each CID from 0, in thousandths of the font size.
    pub widths: Vec<f32>,
    /// The ToUnicode CMap (CID → text).
    pub to_unicode: Vec<u8>,
    /// Font descriptor metrics, in thousandths of the font size.
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    pub italic_angle: f32,
}

/// Lays out `lines` at `size` points, one under the other, with `padding`
/// points around them. A character the font lacks is an error (it would be
/// drawn as a blank box, which PDF/A forbids).
pub fn layout(font: &Font, lines: &[String], size: f32, padding: f32) -> Result<Block, SignError> {
    use unicode_normalization::UnicodeNormalization;
    let face = font.face();
    let per_em = f32::from(face.units_per_em());
    let scale = 1000.0 / per_em;
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut to_unicode: Vec<(u16, char)> = Vec::new();
    let mut coded: Vec<(Vec<u16>, f32)> = Vec::new();
    for line in lines {
        let mut cids = Vec::new();
        let mut width = 0.0;
        for c in line.nfc().filter(|c| !c.is_control()) {
            let gid = face.glyph_index(c).ok_or_else(|| SignError::Font {
                path: font.postscript_name.clone(),
                detail: format!("no glyph for {c:?} (U+{:04X})", c as u32),
            })?;
            let cid = remapper.remap(gid.0);
            if !to_unicode.iter().any(|(k, _)| *k == cid) {
                to_unicode.push((cid, c));
            }
            width += f32::from(face.glyph_hor_advance(gid).unwrap_or(0)) * scale;
            cids.push(cid);
        }
        coded.push((cids, width * size / 1000.0));
    }

    let ascent = f32::from(face.ascender()) * scale;
    let descent = f32::from(face.descender()) * scale;
    let leading = size * 1.2;
    let lines_height =
        (ascent - descent) * size / 1000.0 + leading * (coded.len().max(1) - 1) as f32;
    let width = coded.iter().map(|(_, w)| *w).fold(0.0, f32::max) + 2.0 * padding;
    let height = lines_height + 2.0 * padding;

    let mut content = format!(
        "q 0 g BT /F1 {} Tf {} TL {} {} Td\n",
        num(size),
        num(leading),
        num(padding),
        num(height - padding - ascent * size / 1000.0)
    );
    for (i, (cids, _)) in coded.iter().enumerate() {
        if i > 0 {
            content.push_str("T* ");
        }
        content.push('<');
        for cid in cids {
            content.push_str(&format!("{cid:04X}"));
        }
        content.push_str("> Tj\n");
    }
    content.push_str("ET Q\n");

    let program = subsetter::subset(&font.data, 0, &remapper).map_err(|e| SignError::Font {
        path: font.postscript_name.clone(),
        detail: format!("cannot subset: {e:?}"),
    })?;
    let widths = remapper
        .remapped_gids()
        .map(|gid| {
            f32::from(
                face.glyph_hor_advance(ttf_parser::GlyphId(gid))
                    .unwrap_or(0),
            ) * scale
        })
        .collect();
    let mut cmap = pdf_writer::types::UnicodeCmap::new(
        pdf_writer::Name(b"Adobe-Identity-UCS"),
        pdf_writer::types::SystemInfo {
            registry: pdf_writer::Str(b"Adobe"),
            ordering: pdf_writer::Str(b"Identity"),
            supplement: 0,
        },
    );
    to_unicode.sort_unstable();
    for (cid, c) in &to_unicode {
        cmap.pair(*cid, *c);
    }
    let bb = face.global_bounding_box();
    let bbox = [
        f32::from(bb.x_min) * scale,
        f32::from(bb.y_min) * scale,
        f32::from(bb.x_max) * scale,
        f32::from(bb.y_max) * scale,
    ];
    Ok(Block {
        width,
        height,
        content: content.into_bytes(),
        font: Subset {
            base_font: format!("{}+{}", subset_tag(&to_unicode), font.postscript_name),
            program,
            widths,
            to_unicode: cmap.finish().to_vec(),
            ascent,
            descent,
            cap_height: face
                .capital_height()
                .map_or(ascent, |h| f32::from(h) * scale),
            bbox,
            italic_angle: face.italic_angle(),
        },
    })
}

/// Six capitals derived from the characters drawn (ISO 32000-1, 9.6.4): the
/// same text gives the same tag.
fn subset_tag(used: &[(u16, char)]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (cid, c) in used {
        h.update(cid.to_be_bytes());
        h.update((*c as u32).to_be_bytes());
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// A number as PDF content writes it: at most 2 decimals, no exponent.
fn num(x: f32) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The block as a form XObject with its font (Type0, CIDFontType2,
/// descriptor, program, ToUnicode): the objects, with ids from `next`, the
/// form's first.
pub fn form_objects(block: &Block, next: &mut dyn FnMut() -> ObjectId) -> Vec<(ObjectId, Object)> {
    let (form, type0, cid_font, descriptor, file, cmap) =
        (next(), next(), next(), next(), next(), next());
    let f = &block.font;
    let base = || Object::Name(f.base_font.clone().into_bytes());
    let name = |n: &str| Object::Name(n.as_bytes().to_vec());
    let real = |x: f32| Object::Real(x);
    let flate = |data: &[u8], mut dict: Dictionary| {
        dict.set("Filter", name("FlateDecode"));
        Object::Stream(Stream::new(dict, crate::package::deflate(data)).with_compression(false))
    };

    let form_dict = dictionary! {
        "Type" => name("XObject"),
        "Subtype" => name("Form"),
        "BBox" => vec![real(0.0), real(0.0), real(block.width), real(block.height)],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => type0 } },
    };
    let type0_dict = dictionary! {
        "Type" => name("Font"),
        "Subtype" => name("Type0"),
        "BaseFont" => base(),
        "Encoding" => name("Identity-H"),
        "DescendantFonts" => vec![Object::Reference(cid_font)],
        "ToUnicode" => cmap,
    };
    let cid_dict = dictionary! {
        "Type" => name("Font"),
        "Subtype" => name("CIDFontType2"),
        "BaseFont" => base(),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "CIDToGIDMap" => name("Identity"),
        "W" => vec![0.into(), f.widths.iter().map(|w| real(*w)).collect::<Vec<_>>().into()],
    };
    // Serif (2) and non-symbolic (32).
    let descriptor_dict = dictionary! {
        "Type" => name("FontDescriptor"),
        "FontName" => base(),
        "Flags" => 2 | 32,
        "FontBBox" => f.bbox.iter().map(|x| real(*x)).collect::<Vec<_>>(),
        "ItalicAngle" => real(f.italic_angle),
        "Ascent" => real(f.ascent),
        "Descent" => real(f.descent),
        "CapHeight" => real(f.cap_height),
        "StemV" => 80,
        "FontFile2" => file,
    };
    vec![
        (
            form,
            Object::Stream(Stream::new(form_dict, block.content.clone()).with_compression(false)),
        ),
        (type0, Object::Dictionary(type0_dict)),
        (cid_font, Object::Dictionary(cid_dict)),
        (descriptor, Object::Dictionary(descriptor_dict)),
        (
            file,
            flate(
                &f.program,
                dictionary! { "Length1" => f.program.len() as i64 },
            ),
        ),
        (cmap, flate(&f.to_unicode, Dictionary::new())),
    ]
}
