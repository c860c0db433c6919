//! What a PDF may make hayro allocate, checked before hayro decodes it.
//!
//! hayro decodes every stream whole, with no cap, and keeps some of what it
//! decoded for the life of the document (object streams, each page's content).
//! So every stream it is about to decode is first measured here (see
//! `filters`) against a cap that follows from what the stream is:
//!
//! - an image holds at most its declared samples: height × ⌈width ×
//!   components × bits / 8⌉, plus one predictor byte a row and [`IMAGE_SLACK`];
//!   what goes into an image codec (JPEG, JBIG2…) is compressed data, allowed
//!   twice that (a JPEG of noise can be larger than its pixels);
//! - a function's samples become 32-bit floats in hayro, so its stream is
//!   held to [`MAX_FUNCTION_BYTES`];
//! - any other stream (content, fonts, colour profiles, object streams…) to
//!   [`MAX_STREAM_BYTES`], a page's content streams together too (hayro joins
//!   them), and the distinct ones of a document together to
//!   [`MAX_DOCUMENT_STREAM_BYTES`].
//!
//! Sizes are remembered by object, so a resource shared by every page is
//! measured once.

use super::filters::{Chain, Codec, Exceeded};
use crate::decode::{DecodeError, Limits};
use hayro::hayro_interpret::hayro_syntax::object::{
    Dict, MaybeRef, Object, ObjectIdentifier, Stream,
};
use hayro::hayro_interpret::hayro_syntax::page::Resources;
use hayro::hayro_interpret::hayro_syntax::xref::XRef;
use std::collections::{HashMap, HashSet};

/// Largest decoded stream that is not an image, and largest decoded content
/// of one page. Scanner pages carry a few hundred bytes of content and our own
/// text layer a few kilobytes; a dense vector map a few megabytes.
pub const MAX_STREAM_BYTES: u64 = 64 << 20;
/// Largest decoded function stream (sampled functions are kept as `f32`s,
/// up to 32 per stream byte).
pub const MAX_FUNCTION_BYTES: u64 = 1 << 20;
/// Largest sum of a document's distinct non-image streams, decoded.
pub const MAX_DOCUMENT_STREAM_BYTES: u64 = 256 << 20;
/// What an image stream may hold beyond its declared samples.
pub const IMAGE_SLACK: u64 = 64 << 10;

/// How much of a page will be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// What interpreting the page decodes (content, fonts, colour spaces,
    /// functions), not image samples: how the server checks an archive PDF.
    Interpret,
    /// Image samples too: the page may be rendered.
    Render,
}

/// The measurements made so far in one document.
pub(super) struct Budget {
    pub limits: Limits,
    pub depth: Depth,
    sizes: HashMap<ObjectIdentifier, Size>,
    document_bytes: u64,
    /// Objects whose every stream has been measured.
    walked: HashSet<ObjectIdentifier>,
    /// Image streams already checked.
    images: HashSet<ObjectIdentifier>,
    /// Operations of content streams already walked (see `content`), by the
    /// stream and, for a form without resources of its own, its caller.
    pub costs: HashMap<(ObjectIdentifier, Option<ObjectIdentifier>), u64>,
    /// Cost of one glyph of a Type 3 font: its most expensive glyph procedure.
    pub type3: HashMap<ObjectIdentifier, u64>,
}

#[derive(Debug, Clone, Copy)]
enum Size {
    Known(u64),
    /// At least this many bytes.
    Over(u64),
}

/// What a stream is, for its cap and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Content,
    Function,
    ObjectStream,
    Other,
}

impl Kind {
    fn cap(self) -> u64 {
        match self {
            Kind::Function => MAX_FUNCTION_BYTES,
            _ => MAX_STREAM_BYTES,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Content => "decoded content stream bytes",
            Kind::Function => "decoded function stream bytes",
            Kind::ObjectStream => "decoded object stream bytes",
            Kind::Other => "decoded stream bytes",
        }
    }
}

pub(super) fn too_large(what: &'static str, actual: u64, limit: u64) -> DecodeError {
    DecodeError::TooLarge {
        what,
        actual,
        limit,
    }
}

impl Budget {
    pub fn new(limits: Limits, depth: Depth) -> Budget {
        Budget {
            limits,
            depth,
            sizes: HashMap::new(),
            document_bytes: 0,
            walked: HashSet::new(),
            images: HashSet::new(),
            costs: HashMap::new(),
            type3: HashMap::new(),
        }
    }

    /// Decoded size of a non-image stream, refused over its cap; the first
    /// time a stream is seen it counts towards the document's total.
    pub fn stream(&mut self, stream: &Stream<'_>, kind: Kind) -> Result<u64, DecodeError> {
        self.stream_as(stream.dict().obj_id(), stream, kind)
    }

    /// As [`Budget::stream`], for a stream read outside hayro's document
    /// (which then does not know its object number).
    pub fn stream_as(
        &mut self,
        id: Option<ObjectIdentifier>,
        stream: &Stream<'_>,
        kind: Kind,
    ) -> Result<u64, DecodeError> {
        let first = id.is_none_or(|id| !self.sizes.contains_key(&id));
        let n = self.measure(id, stream, kind.cap(), kind.what(), None)?;
        if first {
            self.document_bytes += n;
            if self.document_bytes > MAX_DOCUMENT_STREAM_BYTES {
                return Err(too_large(
                    "decoded stream bytes of the document",
                    self.document_bytes,
                    MAX_DOCUMENT_STREAM_BYTES,
                ));
            }
        }
        Ok(n)
    }

    fn measure(
        &mut self,
        id: Option<ObjectIdentifier>,
        stream: &Stream<'_>,
        cap: u64,
        what: &'static str,
        chain: Option<&Chain<'_>>,
    ) -> Result<u64, DecodeError> {
        match id.and_then(|id| self.sizes.get(&id)) {
            Some(&Size::Known(n)) if n <= cap => return Ok(n),
            Some(&Size::Known(n)) => return Err(too_large(what, n, cap)),
            Some(&Size::Over(n)) if n > cap => return Err(too_large(what, n, cap)),
            _ => {}
        }
        let own;
        let chain = match chain {
            Some(c) => c,
            None => {
                own = Chain::of(stream.dict());
                &own
            }
        };
        let result = chain.decoded_len(&stream.raw_data(), cap);
        if let Some(id) = id {
            let size = match result {
                Ok(n) => Size::Known(n),
                Err(Exceeded { counted }) => Size::Over(counted),
            };
            self.sizes.insert(id, size);
        }
        result.map_err(|e| too_large(what, e.counted, cap))
    }

    /// Checks an image before hayro decodes it: its size in pixels, and at
    /// `Depth::Render` what its filters inflate to (and its masks'). Colour
    /// space names of inline images are looked up in `resources`.
    pub fn image(
        &mut self,
        xref: &XRef,
        stream: &Stream<'_>,
        resources: &Resources<'_>,
    ) -> Result<(), DecodeError> {
        let id = stream.dict().obj_id();
        if id.is_some_and(|id| !self.images.insert(id)) {
            return Ok(());
        }
        let dict = stream.dict();
        let dim =
            |short: &str, long: &str| dict.get::<u32>(short).or_else(|| dict.get::<u32>(long));
        let (Some(w), Some(h)) = (dim("W", "Width"), dim("H", "Height")) else {
            return Ok(()); // hayro draws nothing without both
        };
        self.limits.check_pixels(w, h)?;
        let chain = Chain::of(dict);
        if let Some((Codec::Ccitt, params)) = &chain.codec {
            // The fax decoder makes `Columns` × height bytes, whatever `Width` says.
            let columns = params
                .as_ref()
                .and_then(|p| p.get::<u32>("Columns"))
                .unwrap_or(1728);
            self.limits.check_pixels(columns, h)?;
        }
        let space = dict
            .get::<Object<'_>>("CS")
            .or_else(|| dict.get::<Object<'_>>("ColorSpace"));
        // Inline images may name a colour space of the resources.
        let named = match &space {
            Some(Object::Name(n)) => resources.color_spaces.get::<Object<'_>>(n.as_ref()),
            _ => None,
        };
        for s in [&space, &named].into_iter().flatten() {
            self.walk_value(xref, s.clone(), &[])?;
        }
        if self.depth == Depth::Interpret {
            return Ok(());
        }
        let mask = dict
            .get::<bool>("IM")
            .or_else(|| dict.get::<bool>("ImageMask"))
            .unwrap_or(false);
        let (components, bits) = if mask {
            (1, 1)
        } else {
            let bits = dict
                .get::<u8>("BPC")
                .or_else(|| dict.get::<u8>("BitsPerComponent"))
                .unwrap_or(8)
                .clamp(1, 16);
            (components(space, resources, 2), u64::from(bits))
        };
        let row = (u64::from(w) * components * bits).div_ceil(8);
        let samples = u64::from(h) * (row + 1) + IMAGE_SLACK;
        let cap = if chain.codec.is_some() {
            2 * samples + (1 << 20)
        } else {
            samples
        };
        if chain.inflates() {
            self.measure(id, stream, cap, "inflated image stream bytes", Some(&chain))?;
        }
        for key in ["SMask", "Mask"] {
            if let Some(m) = dict.get::<Stream<'_>>(key) {
                self.image(xref, &m, resources)?;
            }
        }
        Ok(())
    }

    /// Measures every stream reachable from `value` (a font, a colour space, a
    /// shading, a graphics state…), except under `skip` keys and the
    /// back-pointers `/Parent` and `/P`, which lead to the page tree.
    pub fn walk_value<'a>(
        &mut self,
        xref: &'a XRef,
        value: Object<'a>,
        skip: &[&str],
    ) -> Result<(), DecodeError> {
        self.walk(xref, MaybeRef::NotRef(value), skip)
    }

    fn walk<'a>(
        &mut self,
        xref: &'a XRef,
        start: MaybeRef<Object<'a>>,
        skip: &[&str],
    ) -> Result<(), DecodeError> {
        let mut todo = vec![start];
        let mut top = true;
        while let Some(next) = todo.pop() {
            let object = match next {
                MaybeRef::Ref(r) => {
                    if !self.walked.insert(r.into()) {
                        continue;
                    }
                    match xref.get::<Object<'a>>(r.into()) {
                        Some(o) => o,
                        None => continue,
                    }
                }
                MaybeRef::NotRef(o) => o,
            };
            let skipped = |key: &str| key == "Parent" || key == "P" || (top && skip.contains(&key));
            let dict = match &object {
                Object::Dict(d) => Some(d.clone()),
                Object::Stream(s) => {
                    self.walked_stream(xref, s)?;
                    Some(s.dict().clone())
                }
                Object::Array(a) => {
                    todo.extend(a.raw_iter().filter(deep));
                    None
                }
                _ => None,
            };
            if let Some(d) = dict {
                for (key, value) in d.entries() {
                    if !skipped(key.as_str()) && deep(&value) {
                        todo.push(value);
                    }
                }
            }
            top = false;
        }
        Ok(())
    }

    fn walked_stream(&mut self, xref: &XRef, s: &Stream<'_>) -> Result<(), DecodeError> {
        let dict = s.dict();
        let subtype = dict
            .get::<Object<'_>>("Subtype")
            .and_then(|o| o.into_name());
        if subtype.as_ref().is_some_and(|n| n.as_str() == "Image") {
            let no_names = Resources::new(Dict::empty());
            return self.image(xref, s, &no_names);
        }
        let kind = if dict.contains_key("FunctionType") {
            Kind::Function
        } else {
            Kind::Other
        };
        self.stream(s, kind).map(|_| ())
    }
}

/// Whether a value can lead to a stream.
fn deep(value: &MaybeRef<Object<'_>>) -> bool {
    matches!(
        value,
        MaybeRef::Ref(_) | MaybeRef::NotRef(Object::Dict(_) | Object::Array(_) | Object::Stream(_))
    )
}

/// Components of an image colour space, as an upper bound: 4 when it cannot
/// be told (names of resources more than `depth` deep, unknown families).
fn components(space: Option<Object<'_>>, resources: &Resources<'_>, depth: u8) -> u64 {
    let by_name = |name: &str| match name {
        "DeviceGray" | "G" | "CalGray" | "Indexed" | "I" | "Separation" | "Pattern" => Some(1),
        "DeviceRGB" | "RGB" | "CalRGB" | "Lab" => Some(3),
        "DeviceCMYK" | "CMYK" => Some(4),
        _ => None,
    };
    match space {
        Some(Object::Name(name)) => by_name(name.as_str()).unwrap_or_else(|| {
            let named = resources.color_spaces.get::<Object<'_>>(name.as_ref());
            if depth > 0 && named.is_some() {
                components(named, resources, depth - 1)
            } else {
                4
            }
        }),
        Some(Object::Array(array)) => {
            let mut items = array.iter::<Object<'_>>();
            let family = items.next().and_then(|o| o.into_name());
            match family.as_ref().map(|n| n.as_str()) {
                Some("ICCBased") => items
                    .next()
                    .and_then(|o| o.into_stream())
                    .and_then(|s| s.dict().get::<u8>("N"))
                    .map_or(4, |n| u64::from(n.clamp(1, 4))),
                Some("DeviceN") => items
                    .next()
                    .and_then(|o| o.into_array())
                    .map_or(4, |names| {
                        names.iter::<Object<'_>>().count().clamp(1, 32) as u64
                    }),
                Some(name) => by_name(name).unwrap_or(4),
                None => 4,
            }
        }
        _ => 4,
    }
}

#[cfg(test)]
mod tests;
