//! The content a page draws, walked before hayro interprets it.
//!
//! hayro draws nested content (forms, tiling patterns, Type 3 glyphs, soft
//! masks, annotation appearances) up to 50 levels deep. Content that draws
//! itself therefore does not hang it when drawn once a level, but doubles the
//! work at every level when drawn twice (2⁵⁰ operations), and holds one
//! decoded copy per level. So each page's content is read here first: every
//! stream it will decode is measured (see `budget`), content that draws
//! itself is refused, and the operations hayro would run, nested content
//! counted each time it is drawn, must stay within [`MAX_PAGE_OPERATIONS`].
//!
//! The count is an upper bound: a form counts its own operations each time
//! `Do` draws it, a Type 3 glyph its most expensive glyph procedure, and a
//! tiling pattern or soft mask its content once for every painting operator
//! that may use it.

use super::budget::{too_large, Budget, Kind, MAX_STREAM_BYTES};
use crate::decode::DecodeError;
use hayro::hayro_interpret::hayro_syntax::content::UntypedIter;
use hayro::hayro_interpret::hayro_syntax::object::{
    Array, Dict, MaybeRef, Name, Object, ObjectIdentifier, Stream,
};
use hayro::hayro_interpret::hayro_syntax::page::{Page, Resources};
use hayro::hayro_interpret::hayro_syntax::xref::XRef;

/// Most operations one page may make hayro run. A scanned page runs a
/// handful, a text layer a few thousand, a dense vector map about a million.
pub const MAX_PAGE_OPERATIONS: u64 = 20_000_000;
/// Deepest nesting of content accepted: hayro stops drawing at 50 levels.
pub const MAX_NESTING: usize = 50;

/// Checks what `page` will make hayro decode and run; see the module docs.
pub(super) fn check_page<'a>(budget: &mut Budget, page: &Page<'a>) -> Result<(), DecodeError> {
    let mut walk = Walk {
        budget,
        xref: page.xref(),
        stack: vec![],
    };
    let resources = page.resources().clone();
    let raw = page.raw();
    let contents: Vec<Stream<'a>> = match raw.get::<Object<'a>>("Contents") {
        Some(Object::Stream(s)) => vec![s],
        Some(Object::Array(a)) => a.iter::<Stream<'a>>().collect(),
        _ => vec![],
    };
    // hayro joins a page's content streams into one buffer it keeps.
    let mut joined = 0u64;
    for s in &contents {
        joined += walk.budget.stream(s, Kind::Content)? + 1;
        if joined > MAX_STREAM_BYTES {
            return Err(too_large("page content bytes", joined, MAX_STREAM_BYTES));
        }
    }
    let mut state = State::default();
    let mut operations = 0u64;
    for s in &contents {
        operations += walk.content(s, &resources, &mut state)?;
        walk.within(operations)?;
    }
    if let Some(annots) = raw.get::<Array<'a>>("Annots") {
        for annot in annots.iter::<Dict<'a>>() {
            let Some(normal) = annot
                .get::<Dict<'a>>("AP")
                .and_then(|ap| ap.get::<Object<'a>>("N"))
            else {
                continue;
            };
            let appearances: Vec<Stream<'a>> = match normal {
                Object::Stream(s) => vec![s],
                Object::Dict(states) => states
                    .entries()
                    .filter_map(|(_, v)| match v {
                        MaybeRef::Ref(r) => walk.xref.get::<Stream<'a>>(r.into()),
                        MaybeRef::NotRef(o) => o.into_stream(),
                    })
                    .collect(),
                _ => vec![],
            };
            for s in &appearances {
                operations += walk.form(s, &resources, None)?;
                walk.within(operations)?;
            }
        }
    }
    if let Some(group) = raw.get::<Dict<'a>>("Group") {
        walk.budget
            .walk_value(walk.xref, Object::Dict(group), &[])?;
    }
    Ok(())
}

struct Walk<'b, 'a> {
    budget: &'b mut Budget,
    xref: &'a XRef,
    /// Content streams being read, outermost first.
    stack: Vec<ObjectIdentifier>,
}

/// What the operators read so far would paint with.
#[derive(Default)]
struct State {
    /// Cost of one glyph of the current font (1 unless it is a Type 3 font).
    glyph: u64,
    /// Cost of the current soft mask, tiling patterns: added to each painting.
    smask: u64,
    pattern: u64,
}

impl State {
    fn paint(&self) -> u64 {
        1 + self.smask + self.pattern
    }
}

fn name_operand<'o, 'd>(operands: impl Iterator<Item = &'o Object<'d>>) -> Option<Name<'d>>
where
    'd: 'o,
{
    operands.filter_map(|o| o.clone().into_name()).last()
}

fn is_named(dict: &Dict<'_>, key: &str, value: &str) -> bool {
    dict.get::<Name<'_>>(key)
        .is_some_and(|n| n.as_str() == value)
}

impl<'a> Walk<'_, 'a> {
    /// What `name` names in a resource dictionary, read afresh from the file:
    /// hayro's reader gives nothing for an object that refers to itself,
    /// which would hide a form that draws itself through its own resources.
    fn named(&self, dict: &Dict<'a>, name: &Name<'_>) -> Option<Object<'a>> {
        match dict.get_raw::<Object<'a>>(name.as_ref())? {
            MaybeRef::Ref(r) => self.xref.get::<Object<'a>>(r.into()),
            MaybeRef::NotRef(o) => Some(o),
        }
    }

    fn within(&self, operations: u64) -> Result<(), DecodeError> {
        if operations > MAX_PAGE_OPERATIONS {
            return Err(too_large(
                "content operations",
                operations,
                MAX_PAGE_OPERATIONS,
            ));
        }
        Ok(())
    }

    /// Nested content (a form, a pattern cell, a glyph procedure): its own
    /// resources, else those of whatever draws it; fresh graphics state.
    fn form(
        &mut self,
        stream: &Stream<'a>,
        inherited: &Resources<'a>,
        caller: Option<ObjectIdentifier>,
    ) -> Result<u64, DecodeError> {
        let own = stream.dict().get::<Dict<'a>>("Resources");
        let key = stream
            .dict()
            .obj_id()
            .map(|id| (id, if own.is_some() { None } else { caller }));
        if let Some(id) = stream.dict().obj_id() {
            if self.stack.contains(&id) {
                return Err(DecodeError::Corrupt(format!(
                    "content draws itself (object {} {})",
                    id.obj_number, id.gen_number
                )));
            }
        }
        if let Some(&cost) = key.and_then(|k| self.budget.costs.get(&k)) {
            return Ok(cost);
        }
        let resources = own.map(Resources::new).unwrap_or_else(|| inherited.clone());
        let cost = self.content(stream, &resources, &mut State::default())?;
        if let Some(k) = key {
            self.budget.costs.insert(k, cost);
        }
        Ok(cost)
    }

    /// Measures, decodes and reads one content stream; its cost in operations.
    fn content(
        &mut self,
        stream: &Stream<'a>,
        resources: &Resources<'a>,
        state: &mut State,
    ) -> Result<u64, DecodeError> {
        if self.stack.len() >= MAX_NESTING {
            return Err(DecodeError::Corrupt(format!(
                "content nested more than {MAX_NESTING} levels deep"
            )));
        }
        self.budget.stream(stream, Kind::Content)?;
        let Ok(data) = stream.decoded_data() else {
            return Ok(0); // hayro draws nothing of it either
        };
        let id = stream.dict().obj_id();
        if let Some(id) = id {
            self.stack.push(id);
        }
        let cost = self.operations(&data, resources, id, state);
        if id.is_some() {
            self.stack.pop();
        }
        cost
    }

    fn operations(
        &mut self,
        data: &[u8],
        resources: &Resources<'a>,
        me: Option<ObjectIdentifier>,
        state: &mut State,
    ) -> Result<u64, DecodeError> {
        let mut cost = 0u64;
        let mut ops = UntypedIter::new(data);
        while let Some(op) = ops.next() {
            cost += 1;
            let name = || name_operand(op.operands());
            let operator: &[u8] = op.operator;
            match operator {
                b"Do" => {
                    cost += state.paint();
                    let Some(x) = name()
                        .and_then(|n| self.named(&resources.x_objects, &n))
                        .and_then(|o| o.into_stream())
                    else {
                        continue;
                    };
                    if is_named(x.dict(), "Subtype", "Form") {
                        cost += self.form(&x, resources, me)?;
                    } else if is_named(x.dict(), "Subtype", "Image") {
                        self.budget.image(self.xref, &x, resources)?;
                    }
                }
                b"BI" => {
                    cost += state.paint();
                    if let Some(Object::Stream(inline)) = op.operands().last() {
                        self.budget.image(self.xref, inline, resources)?;
                    }
                }
                b"Tf" => {
                    let font = name()
                        .and_then(|n| self.named(&resources.fonts, &n))
                        .and_then(|o| o.into_dict());
                    state.glyph = match font {
                        Some(font) => self.font(font, resources, me)?,
                        None => 1,
                    };
                }
                b"Tj" | b"'" | b"\"" | b"TJ" => {
                    let glyphs: usize = op
                        .operands()
                        .map(|o| match o {
                            Object::String(s) => s.as_bytes().len(),
                            Object::Array(a) => a
                                .iter::<Object<'_>>()
                                .map(|i| i.into_string().map_or(0, |s| s.as_bytes().len()))
                                .sum(),
                            _ => 0,
                        })
                        .sum();
                    cost = cost.saturating_add(
                        (glyphs as u64).saturating_mul(state.glyph.max(1) + state.paint()),
                    );
                }
                b"gs" => {
                    if let Some(gs) = name()
                        .and_then(|n| self.named(&resources.ext_g_states, &n))
                        .and_then(|o| o.into_dict())
                    {
                        self.budget
                            .walk_value(self.xref, Object::Dict(gs.clone()), &["SMask"])?;
                        match gs.get::<Object<'a>>("SMask") {
                            Some(Object::Dict(mask)) => {
                                self.budget.walk_value(
                                    self.xref,
                                    Object::Dict(mask.clone()),
                                    &["G"],
                                )?;
                                state.smask = match mask.get::<Stream<'a>>("G") {
                                    Some(g) => self.form(&g, resources, me)?,
                                    None => 0,
                                };
                            }
                            Some(Object::Name(_)) => state.smask = 0,
                            _ => {}
                        }
                    }
                }
                b"scn" | b"SCN" => {
                    let Some(n) = name() else { continue };
                    match self.named(&resources.patterns, &n) {
                        Some(Object::Stream(cell)) => {
                            state.pattern = self.form(&cell, resources, me)?
                        }
                        Some(shading) => {
                            self.budget.walk_value(self.xref, shading, &[])?;
                            state.pattern = 0;
                        }
                        None => state.pattern = 0,
                    }
                }
                b"cs" | b"CS" => {
                    if let Some(space) =
                        name().and_then(|n| self.named(&resources.color_spaces, &n))
                    {
                        self.budget.walk_value(self.xref, space, &[])?;
                    }
                }
                b"sh" => {
                    cost += state.paint();
                    if let Some(shading) = name().and_then(|n| self.named(&resources.shadings, &n))
                    {
                        self.budget.walk_value(self.xref, shading, &[])?;
                    }
                }
                b"BDC" | b"DP" => {
                    if let Some(p) = name().and_then(|n| self.named(&resources.properties, &n)) {
                        self.budget.walk_value(self.xref, p, &[])?;
                    }
                }
                b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" | b"S" | b"s" => {
                    cost += state.paint();
                }
                _ => {}
            }
            self.within(cost)?;
        }
        Ok(cost)
    }

    /// Measures a font's programs; the cost of one of its glyphs.
    fn font(
        &mut self,
        font: Dict<'a>,
        resources: &Resources<'a>,
        me: Option<ObjectIdentifier>,
    ) -> Result<u64, DecodeError> {
        if !is_named(&font, "Subtype", "Type3") {
            self.budget.walk_value(self.xref, Object::Dict(font), &[])?;
            return Ok(1);
        }
        let id = font.obj_id();
        if let Some(&cost) = id.and_then(|id| self.budget.type3.get(&id)) {
            return Ok(cost);
        }
        self.budget.walk_value(
            self.xref,
            Object::Dict(font.clone()),
            &["CharProcs", "Resources"],
        )?;
        let own = font.get::<Dict<'a>>("Resources").map(Resources::new);
        let resources = own.as_ref().unwrap_or(resources);
        let mut most = 1u64;
        if let Some(procs) = font.get::<Dict<'a>>("CharProcs") {
            for (_, value) in procs.entries() {
                let glyph = match value {
                    MaybeRef::Ref(r) => self.xref.get::<Stream<'a>>(r.into()),
                    MaybeRef::NotRef(o) => o.into_stream(),
                };
                if let Some(glyph) = glyph {
                    most = most.max(self.form(&glyph, resources, me.or(id))?);
                }
            }
        }
        if let Some(id) = id {
            self.budget.type3.insert(id, most);
        }
        Ok(most)
    }
}

#[cfg(test)]
mod tests;
