//! A checker for the PDF/A-2b rules that matter for the archive PDFs, run on
//! every PDF the suite makes. No PDF/A validator is packaged for this machine
//! (veraPDF is Java), so the rules are checked here on the parsed objects
//! (lopdf) and the parsed XMP packet (quick-xml), after ISO 19005-2:
//!
//! - file structure (6.1.2, 6.1.3): `%PDF-1.n` header (n ≤ 7) and a binary
//!   comment, trailer /ID, no /Encrypt, nothing after the last `%%EOF`;
//! - streams (6.1.7): no external data (/F, /FFilter, /FDecodeParms), no LZW;
//! - output intent (6.2.3): a GTS_PDFA1 intent with an embedded ICC output or
//!   monitor profile, one profile for all intents, and device colour (DeviceRGB,
//!   DeviceCMYK) only with a profile of that colour space;
//! - graphics state and images (6.2.5, 6.2.8): no transfer functions or
//!   halftone phases, no alternates, OPI, PostScript or interpolation;
//! - transparency: none at all (no /Group /S /Transparency, no image /SMask,
//!   ExtGState /SMask only /None, standard blend modes). PDF/A-2 allows
//!   transparency with conditions, but the archive pages are opaque scans with
//!   invisible text, so any is a writer bug;
//! - fonts (6.2.11): every font program embedded (FontFile, FontFile2 or
//!   FontFile3 in each FontDescriptor; Type3 excepted), CIDFontType2 with a
//!   CIDToGIDMap, Type0 with an Identity or embedded CMap;
//! - annotations (6.3): allowed types only, printable and not hidden, an
//!   appearance stream (/AP with /N only), except Popup and Link and zero-size;
//! - actions (6.5, 6.6.1): no JavaScript, Launch and the other forbidden
//!   actions, no /AA, no XFA, no embedded files;
//! - metadata (6.6.2): a /Metadata stream of type XML holding well-formed XMP
//!   with `pdfaid:part` 2 and `pdfaid:conformance` B, no `bytes`/`encoding` in
//!   the packet header, and every Info entry equal to its XMP twin
//!   (Title/dc:title, Author/dc:creator, Subject/dc:description,
//!   Keywords/pdf:Keywords, Creator/xmp:CreatorTool, Producer/pdf:Producer,
//!   CreationDate/xmp:CreateDate, ModDate/xmp:ModifyDate, the dates as instants).

use lopdf::{Dictionary, Document, Object};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const NS_PDFAID: &str = "http://www.aiim.org/pdfa/ns/id/";
const NS_DC: &str = "http://purl.org/dc/elements/1.1/";
const NS_XMP: &str = "http://ns.adobe.com/xap/1.0/";
const NS_PDF: &str = "http://ns.adobe.com/pdf/1.3/";

/// Every PDF/A-2b rule above that `bytes` breaks, one line each (empty: none).
pub fn pdfa_problems(bytes: &[u8]) -> Vec<String> {
    let mut p = Problems::default();
    file_structure(bytes, &mut p);
    let doc = match Document::load_mem(bytes) {
        Ok(d) => d,
        Err(e) => {
            p.add(format!("not readable as PDF: {e}"));
            return p.done();
        }
    };
    trailer(&doc, &mut p);
    let catalog = match doc.catalog() {
        Ok(c) => c,
        Err(e) => {
            p.add(format!("no catalog: {e}"));
            return p.done();
        }
    };
    let intent_space = output_intent(&doc, catalog, &mut p);
    catalog_entries(&doc, catalog, &mut p);
    metadata(&doc, catalog, &mut p);
    let mut device = BTreeSet::new();
    for (&id, object) in &doc.objects {
        let at = format!("object {} {}", id.0, id.1);
        if let Object::Stream(s) = object {
            stream_entries(&s.dict, &at, &mut p);
            xobject(&doc, s, &at, &mut device, &mut p);
        }
        if let Some(dict) = dict_of(object) {
            font(&doc, dict, &at, &mut p);
            group(&doc, dict, &at, &mut p);
            if dict.has_type(b"ExtGState") {
                ext_g_state(dict, &at, &mut p);
            }
        }
        walk(&doc, object, &at, &mut device, &mut p);
    }
    for (number, page_id) in doc.get_pages() {
        let at = format!("page {number}");
        let Ok(page) = doc.get_dictionary(page_id) else {
            p.add(format!("{at}: not a dictionary"));
            continue;
        };
        if let Ok(annots) = page.get_deref(b"Annots", &doc).and_then(Object::as_array) {
            for a in annots {
                match deref(&doc, a).and_then(dict_of) {
                    Some(d) => annotation(&doc, d, &format!("{at} annotation"), &mut p),
                    None => p.add(format!("{at}: an /Annots entry is not a dictionary")),
                }
            }
        }
        match doc.get_page_content_with_limit(page_id, 64 << 20) {
            Ok(content) => content_colours(&content, &at, &mut device, &mut p),
            Err(e) => p.add(format!("{at}: content not readable: {e}")),
        }
    }
    for space in device {
        let wanted = match space.as_str() {
            "DeviceRGB" => "RGB ",
            "DeviceCMYK" => "CMYK",
            _ => continue,
        };
        if intent_space.as_deref() != Some(wanted) {
            p.add(format!(
                "{space} is used but the output intent profile is {:?}, not {wanted:?} (6.2.4.3)",
                intent_space.as_deref().unwrap_or("missing")
            ));
        }
    }
    p.done()
}

/// Panics naming the file and every rule it breaks.
pub fn assert_pdfa(pdf: &Path) {
    let bytes = std::fs::read(pdf).unwrap_or_else(|e| panic!("read {}: {e}", pdf.display()));
    let problems = pdfa_problems(&bytes);
    assert!(
        problems.is_empty(),
        "{} is not PDF/A-2b:\n  {}",
        pdf.display(),
        problems.join("\n  ")
    );
}

/// Every `<data_dir>/archive/**/*.pdf` (sorted).
pub fn archive_pdfs(data_dir: &Path) -> Vec<PathBuf> {
    let mut pdfs: Vec<PathBuf> = walkdir::WalkDir::new(data_dir.join("archive"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "pdf"))
        .map(|e| e.into_path())
        .collect();
    pdfs.sort();
    pdfs
}

/// Checks every archive PDF of a data directory, which must hold at least one;
/// returns how many were checked.
pub fn assert_archive_is_pdfa(data_dir: &Path) -> usize {
    let pdfs = archive_pdfs(data_dir);
    assert!(
        !pdfs.is_empty(),
        "no PDF under {}/archive",
        data_dir.display()
    );
    for pdf in &pdfs {
        assert_pdfa(pdf);
    }
    pdfs.len()
}

#[derive(Default)]
struct Problems(BTreeSet<String>);

impl Problems {
    fn add(&mut self, s: String) {
        self.0.insert(s);
    }
    fn done(self) -> Vec<String> {
        self.0.into_iter().collect()
    }
}

fn dict_of(o: &Object) -> Option<&Dictionary> {
    match o {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    doc.dereference(o).ok().map(|(_, o)| o)
}

fn name_of<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get_deref(key, doc).ok()?.as_name().ok()
}

fn text_of(doc: &Document, d: &Dictionary, key: &[u8]) -> Option<String> {
    lopdf::decode_text_string(d.get_deref(key, doc).ok()?).ok()
}

fn file_structure(bytes: &[u8], p: &mut Problems) {
    let header_ok = bytes.len() > 9
        && bytes.starts_with(b"%PDF-1.")
        && (b'0'..=b'7').contains(&bytes[7])
        && matches!(bytes[8], b'\r' | b'\n');
    if !header_ok {
        p.add("the header is not %PDF-1.n (n ≤ 7) on a line of its own (6.1.2)".into());
    }
    let second = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|i| {
            let rest = &bytes[i..];
            let start = rest
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(rest.len());
            let line = &rest[start..];
            let end = line
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .unwrap_or(line.len());
            &line[..end]
        })
        .unwrap_or_default();
    if !(second.starts_with(b"%") && second.iter().filter(|&&b| b > 127).count() >= 4) {
        p.add("no comment of 4 or more binary bytes after the header (6.1.2)".into());
    }
    match bytes.windows(5).rposition(|w| w == b"%%EOF") {
        Some(i) if matches!(&bytes[i + 5..], b"" | b"\n" | b"\r" | b"\r\n") => {}
        Some(_) => p.add("data after the last %%EOF (6.1.3)".into()),
        None => p.add("no %%EOF marker (6.1.3)".into()),
    }
}

fn trailer(doc: &Document, p: &mut Problems) {
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        p.add("the trailer has /Encrypt (6.1.3)".into());
    }
    let id = doc
        .trailer
        .get(b"ID")
        .ok()
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_array().ok());
    match id {
        Some(ids)
            if ids.len() == 2 && ids.iter().all(|s| s.as_str().is_ok_and(|b| !b.is_empty())) => {}
        Some(_) => p.add("the trailer /ID is not two non-empty strings (6.1.3)".into()),
        None => p.add("the trailer has no /ID (6.1.3)".into()),
    }
}

/// Checks the output intents; returns the ICC colour space of the PDF/A one.
fn output_intent(doc: &Document, catalog: &Dictionary, p: &mut Problems) -> Option<String> {
    let Some(intents) = catalog
        .get_deref(b"OutputIntents", doc)
        .ok()
        .and_then(|o| o.as_array().ok())
    else {
        p.add("the catalog has no /OutputIntents (6.2.3)".into());
        return None;
    };
    let mut profiles = BTreeSet::new();
    let mut space = None;
    for intent in intents {
        let Some(d) = deref(doc, intent).and_then(dict_of) else {
            p.add("an output intent is not a dictionary".into());
            continue;
        };
        if let Ok(r) = d.get(b"DestOutputProfile") {
            profiles.insert(format!("{r:?}"));
        }
        if name_of(doc, d, b"S") != Some(&b"GTS_PDFA1"[..]) {
            continue;
        }
        if !d.has(b"OutputConditionIdentifier") {
            p.add("the GTS_PDFA1 output intent has no /OutputConditionIdentifier".into());
        }
        let Some(profile) = d
            .get_deref(b"DestOutputProfile", doc)
            .ok()
            .and_then(|o| o.as_stream().ok())
        else {
            p.add("the GTS_PDFA1 output intent has no embedded /DestOutputProfile (6.2.3)".into());
            continue;
        };
        match icc_space(doc, profile, "the output intent profile", p) {
            Some((class, s)) => {
                if class != "mntr" && class != "prtr" {
                    p.add(format!(
                        "the output intent profile is of class {class:?}, not an output or monitor profile (6.2.3)"
                    ));
                }
                space = Some(s);
            }
            None => continue,
        }
    }
    if space.is_none() && !p.0.iter().any(|s| s.contains("output intent")) {
        p.add("no GTS_PDFA1 output intent (6.2.3)".into());
    }
    if profiles.len() > 1 {
        p.add("the output intents name different DestOutputProfiles (6.2.3)".into());
    }
    space
}

/// (device class, colour space) of an ICC profile stream, checking its header and /N.
fn icc_space(
    doc: &Document,
    s: &lopdf::Stream,
    what: &str,
    p: &mut Problems,
) -> Option<(String, String)> {
    let data = match s.get_plain_content() {
        Ok(d) => d,
        Err(e) => {
            p.add(format!("{what}: not decodable: {e}"));
            return None;
        }
    };
    let valid = data.len() >= 128
        && &data[36..40] == b"acsp"
        && u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize == data.len()
        && data[8] <= 4;
    if !valid {
        p.add(format!("{what}: not an ICC profile of version ≤ 4 (6.2.3)"));
        return None;
    }
    let class = String::from_utf8_lossy(&data[12..16]).into_owned();
    let space = String::from_utf8_lossy(&data[16..20]).into_owned();
    let n = s.dict.get_deref(b"N", doc).and_then(Object::as_i64).ok();
    let want = match space.as_str() {
        "GRAY" => 1,
        "RGB " => 3,
        "CMYK" => 4,
        _ => 0,
    };
    if n != Some(want) {
        p.add(format!(
            "{what}: /N is {n:?} for an ICC profile of colour space {space:?}"
        ));
    }
    Some((class, space))
}

fn catalog_entries(doc: &Document, catalog: &Dictionary, p: &mut Problems) {
    if catalog.has(b"NeedsRendering") {
        p.add("the catalog has /NeedsRendering (6.4.2)".into());
    }
    if let Ok(form) = catalog
        .get_deref(b"AcroForm", doc)
        .and_then(Object::as_dict)
    {
        if form.has(b"XFA") {
            p.add("the AcroForm has /XFA (6.4.2)".into());
        }
        if matches!(
            form.get_deref(b"NeedAppearances", doc),
            Ok(Object::Boolean(true))
        ) {
            p.add("the AcroForm has /NeedAppearances true (6.4.1)".into());
        }
    }
    if let Ok(names) = catalog.get_deref(b"Names", doc).and_then(Object::as_dict) {
        if names.has(b"JavaScript") {
            p.add("the name dictionary has /JavaScript (6.6.1)".into());
        }
        if names.has(b"EmbeddedFiles") {
            p.add("embedded files, whose conformance is not checked here (6.8)".into());
        }
    }
}

/// Actions and additional actions, in any dictionary at any depth.
fn walk(doc: &Document, o: &Object, at: &str, device: &mut BTreeSet<String>, p: &mut Problems) {
    const FORBIDDEN: &[&[u8]] = &[
        b"Launch",
        b"Sound",
        b"Movie",
        b"ResetForm",
        b"ImportData",
        b"Hide",
        b"SetOCGState",
        b"Rendition",
        b"Trans",
        b"GoTo3DView",
        b"JavaScript",
    ];
    match o {
        Object::Array(a) => {
            for x in a {
                walk(doc, x, at, device, p);
            }
        }
        Object::Dictionary(_) | Object::Stream(_) => {
            let d = dict_of(o).expect("a dictionary");
            if let Ok(Object::Name(s)) = d.get(b"S") {
                if FORBIDDEN.contains(&s.as_slice()) {
                    p.add(format!(
                        "{at}: a {} action (6.6.1)",
                        String::from_utf8_lossy(s)
                    ));
                }
                if s == b"Named" {
                    let n = d.get(b"N").and_then(Object::as_name).unwrap_or(&b"?"[..]);
                    if ![&b"NextPage"[..], b"PrevPage", b"FirstPage", b"LastPage"].contains(&n) {
                        p.add(format!(
                            "{at}: a named action {} (6.6.1)",
                            String::from_utf8_lossy(n)
                        ));
                    }
                }
            }
            if d.has(b"JS") {
                p.add(format!("{at}: JavaScript (/JS) (6.6.1)"));
            }
            if d.has(b"AA") {
                p.add(format!("{at}: additional actions (/AA) (6.6.2)"));
            }
            for (k, v) in d.iter() {
                if k == b"ColorSpace" || k == b"CS" {
                    colour_space(doc, v, at, device, p);
                }
                walk(doc, v, at, device, p);
            }
        }
        _ => {}
    }
}

/// Records device colour spaces named by a /ColorSpace value (a name, an
/// array, or a resource dictionary of them) and checks ICCBased profiles.
fn colour_space(
    doc: &Document,
    v: &Object,
    at: &str,
    device: &mut BTreeSet<String>,
    p: &mut Problems,
) {
    let Some(v) = deref(doc, v) else { return };
    match v {
        Object::Name(n) => {
            device.insert(String::from_utf8_lossy(n).into_owned());
        }
        Object::Array(a) => match a.first().and_then(|f| f.as_name().ok()) {
            Some(b"ICCBased") => {
                match a
                    .get(1)
                    .and_then(|s| deref(doc, s))
                    .and_then(|s| s.as_stream().ok())
                {
                    Some(s) => {
                        icc_space(doc, s, &format!("{at}: an ICCBased profile"), p);
                    }
                    None => p.add(format!("{at}: an ICCBased colour space without a profile")),
                }
            }
            Some(b"Indexed") | Some(b"Separation") | Some(b"DeviceN") => {
                let base = if a.first().and_then(|f| f.as_name().ok()) == Some(&b"Indexed"[..]) {
                    a.get(1)
                } else {
                    a.get(2)
                };
                if let Some(b) = base {
                    colour_space(doc, b, at, device, p);
                }
            }
            _ => {}
        },
        Object::Dictionary(d) => {
            for (_, cs) in d.iter() {
                colour_space(doc, cs, at, device, p);
            }
        }
        _ => {}
    }
}

/// Device colour set by content operators (rg, RG, k, K, and cs/CS by name).
fn content_colours(content: &[u8], at: &str, device: &mut BTreeSet<String>, p: &mut Problems) {
    let ops = match lopdf::content::Content::decode(content) {
        Ok(c) => c.operations,
        Err(e) => {
            p.add(format!("{at}: content stream not parseable: {e}"));
            return;
        }
    };
    for op in ops {
        match op.operator.as_str() {
            "rg" | "RG" => {
                device.insert("DeviceRGB".into());
            }
            "k" | "K" => {
                device.insert("DeviceCMYK".into());
            }
            "cs" | "CS" => {
                if let Some(Object::Name(n)) = op.operands.first() {
                    device.insert(String::from_utf8_lossy(n).into_owned());
                }
            }
            _ => {}
        }
    }
}

fn stream_entries(d: &Dictionary, at: &str, p: &mut Problems) {
    for key in [&b"F"[..], b"FFilter", b"FDecodeParms"] {
        if d.has(key) {
            p.add(format!(
                "{at}: a stream with /{} (external data, 6.1.7.1)",
                String::from_utf8_lossy(key)
            ));
        }
    }
    let filters: Vec<Vec<u8>> = match d.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|f| f.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    };
    for f in filters {
        if f == b"LZWDecode" || f == b"Crypt" {
            p.add(format!(
                "{at}: a stream with the {} filter (6.1.7.2)",
                String::from_utf8_lossy(&f)
            ));
        }
    }
}

/// Image and form XObjects: no alternates, OPI, PostScript, interpolation or transparency.
fn xobject(
    doc: &Document,
    s: &lopdf::Stream,
    at: &str,
    device: &mut BTreeSet<String>,
    p: &mut Problems,
) {
    let d = &s.dict;
    let subtype = name_of(doc, d, b"Subtype");
    match subtype {
        Some(b"Image") => {
            for key in [&b"Alternates"[..], b"OPI"] {
                if d.has(key) {
                    p.add(format!(
                        "{at}: an image with /{} (6.2.8)",
                        String::from_utf8_lossy(key)
                    ));
                }
            }
            if matches!(d.get(b"Interpolate"), Ok(Object::Boolean(true))) {
                p.add(format!("{at}: an image with /Interpolate true (6.2.8)"));
            }
            if d.has(b"SMask") {
                p.add(format!(
                    "{at}: an image with a soft mask (/SMask): transparency"
                ));
            }
            if !matches!(d.get(b"ImageMask"), Ok(Object::Boolean(true)))
                && !d.has(b"ColorSpace")
                && name_of(doc, d, b"Filter") != Some(&b"JPXDecode"[..])
            {
                p.add(format!("{at}: an image without /ColorSpace"));
            }
        }
        Some(b"Form") => {
            if d.has(b"OPI") || d.has(b"Ref") {
                p.add(format!("{at}: a form XObject with /OPI or /Ref (6.2.9)"));
            }
            match s.get_plain_content() {
                Ok(content) => content_colours(&content, at, device, p),
                Err(e) => p.add(format!("{at}: form content not readable: {e}")),
            }
        }
        Some(b"PS") => p.add(format!("{at}: a PostScript XObject (6.2.9)")),
        _ => {}
    }
}

/// A page or form XObject with a transparency group.
fn group(doc: &Document, d: &Dictionary, at: &str, p: &mut Problems) {
    if let Ok(group) = d.get_deref(b"Group", doc).and_then(Object::as_dict) {
        if name_of(doc, group, b"S") == Some(&b"Transparency"[..]) {
            p.add(format!(
                "{at}: a transparency group (/Group /S /Transparency)"
            ));
        }
    }
}

fn ext_g_state(d: &Dictionary, at: &str, p: &mut Problems) {
    if d.has(b"TR") {
        p.add(format!("{at}: an ExtGState with /TR (6.2.5)"));
    }
    if let Ok(tr2) = d.get(b"TR2") {
        if tr2.as_name().ok() != Some(&b"Default"[..]) {
            p.add(format!(
                "{at}: an ExtGState with /TR2 other than /Default (6.2.5)"
            ));
        }
    }
    if d.has(b"HTP") {
        p.add(format!("{at}: an ExtGState with /HTP (6.2.5)"));
    }
    if let Ok(s) = d.get(b"SMask") {
        if s.as_name().ok() != Some(&b"None"[..]) {
            p.add(format!("{at}: an ExtGState soft mask: transparency"));
        }
    }
    if let Ok(bm) = d.get(b"BM") {
        const STANDARD: &[&[u8]] = &[
            b"Normal",
            b"Compatible",
            b"Multiply",
            b"Screen",
            b"Overlay",
            b"Darken",
            b"Lighten",
            b"ColorDodge",
            b"ColorBurn",
            b"HardLight",
            b"SoftLight",
            b"Difference",
            b"Exclusion",
            b"Hue",
            b"Saturation",
            b"Color",
            b"Luminosity",
        ];
        let names: Vec<&[u8]> = match bm {
            Object::Name(n) => vec![n],
            Object::Array(a) => a.iter().filter_map(|x| x.as_name().ok()).collect(),
            _ => Vec::new(),
        };
        if names.iter().any(|n| !STANDARD.contains(n)) {
            p.add(format!("{at}: a non-standard blend mode (6.2.10)"));
        }
    }
}

fn font(doc: &Document, d: &Dictionary, at: &str, p: &mut Problems) {
    if !d.has_type(b"Font") {
        return;
    }
    let font_name = name_of(doc, d, b"BaseFont")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let at = format!("{at} (font {font_name})");
    match name_of(doc, d, b"Subtype") {
        Some(b"Type3") => {}
        Some(b"Type0") => {
            match d.get_deref(b"Encoding", doc) {
                Ok(Object::Name(n)) if n == b"Identity-H" || n == b"Identity-V" => {}
                Ok(Object::Stream(_)) => {}
                _ => p.add(format!(
                    "{at}: a Type0 font whose CMap is neither Identity-H/V nor embedded (6.2.11.3.3)"
                )),
            }
            let descendants = d
                .get_deref(b"DescendantFonts", doc)
                .and_then(Object::as_array);
            match descendants {
                // A descendant that is an object of its own is checked as such.
                Ok(list) if list.len() == 1 => match &list[0] {
                    Object::Reference(_) => {}
                    Object::Dictionary(desc) => font(doc, desc, &at, p),
                    _ => p.add(format!("{at}: a descendant font is not a dictionary")),
                },
                _ => p.add(format!("{at}: a Type0 font without one descendant font")),
            }
        }
        subtype => {
            let embedded = d
                .get_deref(b"FontDescriptor", doc)
                .and_then(Object::as_dict)
                .ok()
                .is_some_and(|fd| {
                    [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                        .iter()
                        .any(|k| fd.get_deref(k, doc).is_ok_and(|f| f.as_stream().is_ok()))
                });
            if !embedded {
                p.add(format!(
                    "{at}: the font program is not embedded (no FontFile, FontFile2 or FontFile3 in its FontDescriptor, 6.2.11.4.1)"
                ));
            }
            if subtype == Some(&b"CIDFontType2"[..]) {
                match d.get_deref(b"CIDToGIDMap", doc) {
                    Ok(Object::Name(n)) if n == b"Identity" => {}
                    Ok(Object::Stream(_)) => {}
                    _ => p.add(format!(
                        "{at}: a CIDFontType2 font without /CIDToGIDMap (6.2.11.3.2)"
                    )),
                }
            }
        }
    }
}

fn annotation(doc: &Document, d: &Dictionary, at: &str, p: &mut Problems) {
    let subtype = name_of(doc, d, b"Subtype").unwrap_or(b"");
    let kind = String::from_utf8_lossy(subtype).into_owned();
    if [&b"3D"[..], b"Sound", b"Screen", b"Movie"].contains(&subtype) {
        p.add(format!("{at}: a {kind} annotation (6.3.1)"));
    }
    if subtype != b"Popup" {
        let flags = d.get_deref(b"F", doc).and_then(Object::as_i64).ok();
        match flags {
            Some(f) if f & 4 != 0 && f & (1 | 2 | 32 | 256) == 0 => {}
            Some(f) => p.add(format!(
                "{at}: a {kind} annotation with flags {f}: not printable, or hidden (6.3.2)"
            )),
            None => p.add(format!("{at}: a {kind} annotation without /F (6.3.2)")),
        }
    }
    if let Ok(ca) = d.get_deref(b"CA", doc).and_then(Object::as_float) {
        if ca != 1.0 {
            p.add(format!("{at}: a {kind} annotation with /CA {ca} (6.3.3)"));
        }
    }
    let zero_size = d
        .get_deref(b"Rect", doc)
        .and_then(Object::as_array)
        .ok()
        .map(|r| {
            r.iter()
                .filter_map(|x| x.as_float().ok())
                .collect::<Vec<_>>()
        })
        .is_some_and(|r| r.len() == 4 && r[0] == r[2] && r[1] == r[3]);
    if subtype == b"Popup" || subtype == b"Link" || zero_size {
        return;
    }
    let Ok(ap) = d.get_deref(b"AP", doc).and_then(Object::as_dict) else {
        p.add(format!(
            "{at}: a {kind} annotation without an appearance (/AP) (6.3.3)"
        ));
        return;
    };
    if ap.len() != 1 || !ap.has(b"N") {
        p.add(format!(
            "{at}: a {kind} annotation whose /AP is not /N alone (6.3.3)"
        ));
    }
    match ap.get_deref(b"N", doc) {
        Ok(Object::Stream(_)) => {}
        Ok(Object::Dictionary(_)) if subtype == b"Widget" => {}
        _ => p.add(format!(
            "{at}: a {kind} annotation whose /AP /N is not an appearance stream (6.3.3)"
        )),
    }
}

fn metadata(doc: &Document, catalog: &Dictionary, p: &mut Problems) {
    let Some(stream) = catalog
        .get_deref(b"Metadata", doc)
        .ok()
        .and_then(|o| o.as_stream().ok())
    else {
        p.add("the catalog has no /Metadata stream (6.6.2.1)".into());
        return;
    };
    if !stream.dict.has_type(b"Metadata")
        || name_of(doc, &stream.dict, b"Subtype") != Some(&b"XML"[..])
    {
        p.add("the /Metadata stream is not /Type /Metadata /Subtype /XML (6.6.2.1)".into());
    }
    let bytes = match stream.get_plain_content() {
        Ok(b) => b,
        Err(e) => {
            p.add(format!("the /Metadata stream is not decodable: {e}"));
            return;
        }
    };
    let xmp = match std::str::from_utf8(&bytes)
        .map_err(|e| e.to_string())
        .and_then(parse_xmp)
    {
        Ok(x) => x,
        Err(e) => {
            p.add(format!(
                "the XMP metadata is not well-formed: {e} (6.6.2.1)"
            ));
            return;
        }
    };
    for problem in &xmp.header_problems {
        p.add(format!("the XMP packet header {problem} (6.6.2.1)"));
    }
    let get = |ns: &str, local: &str| xmp.props.get(&(ns.to_string(), local.to_string()));
    let single = |ns: &str, local: &str| get(ns, local).and_then(|v| v.first().cloned());
    match single(NS_PDFAID, "part").as_deref().map(str::trim) {
        Some("2") => {}
        Some(other) => p.add(format!("XMP pdfaid:part is {other:?}, not 2")),
        None => p.add("the XMP metadata has no pdfaid:part (6.6.4)".into()),
    }
    match single(NS_PDFAID, "conformance").as_deref().map(str::trim) {
        Some("B") => {}
        Some(other) => p.add(format!("XMP pdfaid:conformance is {other:?}, not B")),
        None => p.add("the XMP metadata has no pdfaid:conformance (6.6.4)".into()),
    }
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| deref(doc, o))
        .and_then(dict_of)
    else {
        return;
    };
    let texts: [(&[u8], &str, &str); 6] = [
        (b"Title", NS_DC, "title"),
        (b"Author", NS_DC, "creator"),
        (b"Subject", NS_DC, "description"),
        (b"Keywords", NS_PDF, "Keywords"),
        (b"Creator", NS_XMP, "CreatorTool"),
        (b"Producer", NS_PDF, "Producer"),
    ];
    for (key, ns, local) in texts {
        let name = String::from_utf8_lossy(key);
        let Some(value) = text_of(doc, info, key) else {
            if info.has(key) {
                p.add(format!("Info /{name} is not a text string"));
            }
            continue;
        };
        match get(ns, local) {
            None => p.add(format!(
                "Info /{name} {value:?} has no XMP twin {local} (6.6.2.3.1)"
            )),
            // dc:creator is a sequence: Author must be its one entry.
            Some(items) if local == "creator" && items.len() != 1 => p.add(format!(
                "Info /Author {value:?} but XMP dc:creator has {} entries (6.6.2.3.1)",
                items.len()
            )),
            Some(items) if items[0] != value => p.add(format!(
                "Info /{name} {value:?} differs from XMP {local} {:?} (6.6.2.3.1)",
                items[0]
            )),
            Some(_) => {}
        }
    }
    for (key, local) in [
        (&b"CreationDate"[..], "CreateDate"),
        (&b"ModDate"[..], "ModifyDate"),
    ] {
        let name = String::from_utf8_lossy(key);
        let Some(value) = text_of(doc, info, key) else {
            if info.has(key) {
                p.add(format!("Info /{name} is not a text string"));
            }
            continue;
        };
        let Some(pdf) = pdf_date(&value) else {
            p.add(format!("Info /{name} {value:?} is not a PDF date"));
            continue;
        };
        match single(NS_XMP, local) {
            None => p.add(format!(
                "Info /{name} {value:?} has no XMP twin xmp:{local} (6.6.2.3.1)"
            )),
            Some(x) => match xmp_date(x.trim()) {
                Some(d) if d == pdf => {}
                Some(_) => p.add(format!(
                    "Info /{name} {value:?} is not the instant of XMP xmp:{local} {x:?} (6.6.2.3.1)"
                )),
                None => p.add(format!("XMP xmp:{local} {x:?} is not a date")),
            },
        }
    }
}

struct Xmp {
    /// (namespace, local name) → values: one for a simple property, the items
    /// of an rdf:Alt (x-default first), rdf:Seq or rdf:Bag.
    props: BTreeMap<(String, String), Vec<String>>,
    header_problems: Vec<String>,
}

/// Reads the properties of every rdf:Description (as elements or attributes).
fn parse_xmp(xml: &str) -> Result<Xmp, String> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    use quick_xml::reader::NsReader;

    struct Open {
        key: (String, String),
        own: String,
        items: Vec<(bool, String)>,
        in_item: Option<(bool, String)>,
    }
    let mut reader = NsReader::from_str(xml);
    let mut props = BTreeMap::new();
    let mut header_problems = Vec::new();
    // Resolved names of the open elements.
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut open: Option<Open> = None;
    let mut depth_of_open = 0;
    let ns_of = |r: ResolveResult| match r {
        ResolveResult::Bound(ns) => Ok(ns.into_inner().to_string()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(format!("unknown prefix {prefix:?}")),
    };
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = ns_of(resolved)?;
        match event {
            Event::PI(pi) if pi.target() == "xpacket" => {
                for a in pi.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    let key = a.key.into_inner();
                    if key == "bytes" || key == "encoding" {
                        header_problems.push(format!("has the {key} attribute"));
                    }
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name().into_inner().to_string();
                let parent_is_description = stack
                    .last()
                    .is_some_and(|(n, l)| n == NS_RDF && l == "Description");
                let is_description = ns == NS_RDF && local == "Description";
                if is_description {
                    for a in e.attributes() {
                        let a = a.map_err(|e| e.to_string())?;
                        let (r, l) = reader.resolver().resolve_attribute(a.key);
                        let a_ns = ns_of(r)?;
                        if a_ns.is_empty()
                            || a_ns == NS_RDF
                            || a.key.into_inner().starts_with("xmlns")
                        {
                            continue;
                        }
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| e.to_string())?;
                        props.insert((a_ns, l.into_inner().to_string()), vec![value.into_owned()]);
                    }
                } else if parent_is_description && open.is_none() {
                    let o = Open {
                        key: (ns.clone(), local.clone()),
                        own: String::new(),
                        items: Vec::new(),
                        in_item: None,
                    };
                    if empty {
                        props.insert(o.key, vec![String::new()]);
                    } else {
                        open = Some(o);
                        depth_of_open = stack.len() + 1;
                    }
                } else if let Some(o) = open.as_mut() {
                    if ns == NS_RDF && local == "li" {
                        let mut default = false;
                        for a in e.attributes() {
                            let a = a.map_err(|e| e.to_string())?;
                            if a.key.into_inner() == "xml:lang"
                                && a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .map_err(|e| e.to_string())?
                                    == "x-default"
                            {
                                default = true;
                            }
                        }
                        if empty {
                            o.items.push((default, String::new()));
                        } else {
                            o.in_item = Some((default, String::new()));
                        }
                    }
                }
                if !empty {
                    stack.push((ns, local));
                }
            }
            Event::Text(t) => {
                if let Some(o) = open.as_mut() {
                    let text = t.xml10_content();
                    match o.in_item.as_mut() {
                        Some((_, s)) => s.push_str(&text),
                        None => o.own.push_str(&text),
                    }
                }
            }
            Event::CData(t) => {
                if let Some(o) = open.as_mut() {
                    let text = t.xml10_content();
                    match o.in_item.as_mut() {
                        Some((_, s)) => s.push_str(&text),
                        None => o.own.push_str(&text),
                    }
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => match r.xml10_content().as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                if let Some(o) = open.as_mut() {
                    match o.in_item.as_mut() {
                        Some((_, s)) => s.push_str(&c),
                        None => o.own.push_str(&c),
                    }
                }
            }
            Event::End(_) => {
                let (n, l) = stack.pop().ok_or("an end tag without a start")?;
                if let Some(o) = open.as_mut() {
                    if n == NS_RDF && l == "li" {
                        if let Some(item) = o.in_item.take() {
                            o.items.push(item);
                        }
                    }
                }
                if open.is_some() && stack.len() + 1 == depth_of_open {
                    let o = open.take().expect("open property");
                    let mut values: Vec<(bool, String)> = o.items;
                    values.sort_by_key(|(default, _)| !default);
                    let values = if values.is_empty() {
                        vec![o.own.trim().to_string()]
                    } else {
                        values.into_iter().map(|(_, v)| v).collect()
                    };
                    props.insert(o.key, values);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    Ok(Xmp {
        props,
        header_problems,
    })
}

/// An instant: UTC seconds since the epoch (a date without a zone is taken as UTC).
type Instant = i64;

fn instant(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    offset_minutes: i64,
) -> Option<Instant> {
    let t = chrono::NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)?;
    Some(t.and_utc().timestamp() - offset_minutes * 60)
}

/// `D:YYYY[MM[DD[HH[mm[SS[O[HH['mm']]]]]]]]` (PDF 1.7, 7.9.4).
fn pdf_date(s: &str) -> Option<Instant> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 || digits % 2 != 0 || digits > 14 {
        return None;
    }
    let field = |i: usize, default: u32| -> u32 {
        s.get(i..i + 2)
            .filter(|_| i + 2 <= digits)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let y: i32 = s[..4].parse().ok()?;
    let zone = &s[digits..];
    let offset = match zone.as_bytes().first() {
        None | Some(b'Z') => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = zone[1..].replace('\'', "");
            let h: i64 = rest.get(..2)?.parse().ok()?;
            let m: i64 = rest.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    if zone.starts_with('Z') && !zone[1..].chars().all(|c| c == '0' || c == '\'') {
        return None;
    }
    instant(
        y,
        field(4, 1),
        field(6, 1),
        field(8, 0),
        field(10, 0),
        field(12, 0),
        offset,
    )
}

/// `YYYY[-MM[-DD[Thh:mm[:ss[.s+]]TZD]]]` (XMP, after ISO 8601).
fn xmp_date(s: &str) -> Option<Instant> {
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut d = date.split('-');
    let y: i32 = d.next()?.parse().ok()?;
    let mo: u32 = d.next().map_or(Some(1), |v| v.parse().ok())?;
    let day: u32 = d.next().map_or(Some(1), |v| v.parse().ok())?;
    if time.is_empty() {
        return instant(y, mo, day, 0, 0, 0, 0);
    }
    let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let mut c = clock.split(':');
    let h: u32 = c.next()?.parse().ok()?;
    let mi: u32 = c.next()?.parse().ok()?;
    let sec: u32 = match c.next() {
        Some(v) => v.split('.').next()?.parse().ok()?,
        None => 0,
    };
    let offset = match zone {
        "" | "Z" => 0,
        z => {
            let (hh, mm) = z[1..].split_once(':')?;
            let m = hh.parse::<i64>().ok()? * 60 + mm.parse::<i64>().ok()?;
            if z.starts_with('-') {
                -m
            } else {
                m
            }
        }
    };
    instant(y, mo, day, h, mi, sec, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{fixtures, good_run};
    use lopdf::{dictionary, Object, StringFormat};

    /// A good archive PDF of the shared batch run: one with a text layer.
    fn good_pdf() -> Vec<u8> {
        let c = fixtures()
            .components("good")
            .into_iter()
            .find(|c| c["path"] == "01-thang.jpg")
            .expect("01-thang.jpg in the manifest");
        std::fs::read(good_run().archived(c)).expect("archive PDF")
    }

    /// `good` edited by `edit` and written back by lopdf.
    fn edited(good: &[u8], edit: impl FnOnce(&mut Document)) -> Vec<u8> {
        let mut doc = Document::load_mem(good).expect("load");
        edit(&mut doc);
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("save");
        out
    }

    fn id_of(doc: &Document, key: &[u8]) -> lopdf::ObjectId {
        doc.catalog()
            .unwrap()
            .get(key)
            .unwrap()
            .as_reference()
            .unwrap()
    }

    fn xmp_edit(doc: &mut Document, from: &str, to: &str) {
        let id = id_of(doc, b"Metadata");
        let s = doc.get_object_mut(id).unwrap().as_stream_mut().unwrap();
        let text = String::from_utf8(s.content.clone()).unwrap();
        assert!(text.contains(from), "{from:?} not in\n{text}");
        s.set_content(text.replace(from, to).into_bytes());
    }

    /// The problems of `good` edited by `edit`: the unedited round trip must
    /// have none, so each one found comes from the edit.
    fn problems_after(edit: impl FnOnce(&mut Document)) -> Vec<String> {
        let good = good_pdf();
        assert_eq!(pdfa_problems(&good), Vec::<String>::new());
        assert_eq!(
            pdfa_problems(&edited(&good, |_| {})),
            Vec::<String>::new(),
            "lopdf's round trip alone"
        );
        pdfa_problems(&edited(&good, edit))
    }

    fn assert_one(problems: &[String], part: &str) {
        assert!(
            problems.len() == 1 && problems[0].contains(part),
            "want one problem with {part:?}, got {problems:#?}"
        );
    }

    #[test]
    fn missing_pdfa_id_is_reported() {
        let p = problems_after(|d| xmp_edit(d, "<pdfaid:part>2</pdfaid:part>", ""));
        assert_one(&p, "no pdfaid:part");
        let p = problems_after(|d| xmp_edit(d, "<pdfaid:part>2<", "<pdfaid:part>1<"));
        assert_one(&p, "pdfaid:part is \"1\"");
        let p = problems_after(|d| {
            xmp_edit(
                d,
                "<pdfaid:conformance>B</pdfaid:conformance>",
                "<pdfaid:conformance>A</pdfaid:conformance>",
            )
        });
        assert_one(&p, "pdfaid:conformance is \"A\"");
    }

    #[test]
    fn info_and_xmp_that_disagree_are_reported() {
        let p = problems_after(|d| {
            let info = d.trailer.get(b"Info").unwrap().as_reference().unwrap();
            d.get_dictionary_mut(info).unwrap().set(
                "Producer",
                Object::String(b"other 1.0".to_vec(), StringFormat::Literal),
            );
        });
        assert_one(&p, "Info /Producer \"other 1.0\" differs from XMP Producer");
        let p = problems_after(|d| {
            let info = d.trailer.get(b"Info").unwrap().as_reference().unwrap();
            d.get_dictionary_mut(info).unwrap().set(
                "CreationDate",
                Object::String(b"D:19990101000000Z".to_vec(), StringFormat::Literal),
            );
        });
        assert_one(&p, "Info /CreationDate");
        let p = problems_after(|d| {
            let info = d.trailer.get(b"Info").unwrap().as_reference().unwrap();
            d.get_dictionary_mut(info).unwrap().set(
                "Keywords",
                Object::String(b"no twin".to_vec(), StringFormat::Literal),
            );
        });
        assert_one(&p, "Info /Keywords \"no twin\" has no XMP twin");
    }

    #[test]
    fn an_unembedded_font_is_reported() {
        let p = problems_after(|d| {
            let fd = d
                .objects
                .iter()
                .find(|(_, o)| dict_of(o).is_some_and(|d| d.has_type(b"FontDescriptor")))
                .map(|(id, _)| *id)
                .expect("a FontDescriptor: this PDF has a text layer");
            d.get_dictionary_mut(fd).unwrap().remove(b"FontFile2");
        });
        assert_one(&p, "the font program is not embedded");
    }

    #[test]
    fn a_missing_file_id_or_output_intent_is_reported() {
        let p = problems_after(|d| {
            d.trailer.remove(b"ID");
        });
        assert_one(&p, "the trailer has no /ID");
        let p = problems_after(|d| {
            d.catalog_mut().unwrap().remove(b"OutputIntents");
        });
        // ... and so the DeviceRGB scans have no matching intent either.
        assert!(
            p.len() == 2
                && p[0]
                    .starts_with("DeviceRGB is used but the output intent profile is \"missing\"")
                && p[1].contains("no /OutputIntents"),
            "{p:#?}"
        );
    }

    #[test]
    fn actions_annotations_and_transparency_are_reported() {
        let p = problems_after(|d| {
            let js = d.add_object(dictionary! {
                "S" => "JavaScript",
                "JS" => Object::string_literal("app.alert(1)"),
            });
            d.catalog_mut().unwrap().set("OpenAction", js);
        });
        assert!(
            p.len() == 2
                && p[0].contains("JavaScript (/JS)")
                && p[1].contains("a JavaScript action"),
            "{p:#?}"
        );
        let p = problems_after(|d| {
            let annot = d.add_object(dictionary! {
                "Type" => "Annot",
                "Subtype" => "Text",
                "Rect" => vec![Object::Integer(0), Object::Integer(0), Object::Integer(10), Object::Integer(10)],
                "F" => 0,
            });
            let page = *d.get_pages().get(&1).unwrap();
            d.get_dictionary_mut(page)
                .unwrap()
                .set("Annots", vec![Object::Reference(annot)]);
        });
        assert!(
            p.len() == 2 && p[0].contains("flags 0") && p[1].contains("without an appearance"),
            "{p:#?}"
        );
        let p = problems_after(|d| {
            let page = *d.get_pages().get(&1).unwrap();
            d.get_dictionary_mut(page).unwrap().set(
                "Group",
                dictionary! { "S" => "Transparency", "CS" => "DeviceRGB" },
            );
        });
        assert_one(&p, "a transparency group");
    }

    #[test]
    fn encryption_and_trailing_data_are_reported() {
        let good = good_pdf();
        let mut tail = good.clone();
        tail.extend_from_slice(b"junk after the end\n");
        assert_one(&pdfa_problems(&tail), "data after the last %%EOF");
        let encrypted = edited(&good, |d| {
            let e = d.add_object(dictionary! { "Filter" => "Standard", "V" => 1, "R" => 2 });
            d.trailer.set("Encrypt", e);
        });
        assert!(
            pdfa_problems(&encrypted)
                .iter()
                .any(|p| p.contains("/Encrypt") || p.contains("not readable")),
            "{:#?}",
            pdfa_problems(&encrypted)
        );
    }

    #[test]
    fn dates_compare_as_instants() {
        assert_eq!(
            pdf_date("D:20230314080509Z"),
            xmp_date("2023-03-14T08:05:09Z")
        );
        assert_eq!(
            pdf_date("D:20230314150509+07'00'"),
            xmp_date("2023-03-14T08:05:09Z")
        );
        assert_eq!(pdf_date("D:2023"), xmp_date("2023-01-01"));
        assert_ne!(
            pdf_date("D:20230314080509Z"),
            xmp_date("2023-03-14T08:05:10Z")
        );
        assert_eq!(pdf_date("not a date"), None);
    }
}
