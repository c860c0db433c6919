//! The page tree of an archive PDF, walked strictly.
//!
//! hayro reads a page tree leniently: a node reached twice is skipped, a kid
//! that is not a page is ignored, and `/Count` is never read, so a tree of
//! 200,000 kids that all name one page is a one-page document to it. What we
//! write is a plain tree, so anything else is refused here: every kid an
//! indirect `/Page` or `/Pages` reached once, whose `/Parent` is the node that
//! lists it, no deeper than [`MAX_TREE_DEPTH`], each `/Count` the number of
//! pages under it, no more than `max_pages` pages. hayro must then read the
//! very same pages, in the same order.

use super::budget::too_large;
use crate::decode::{DecodeError, Limits};
use hayro::hayro_interpret::hayro_syntax::object::array::ArrayIter;
use hayro::hayro_interpret::hayro_syntax::object::{Array, Dict, MaybeRef, Name, ObjectIdentifier};
use hayro::hayro_interpret::hayro_syntax::Pdf;
use std::collections::HashSet;

/// Deepest page tree accepted (a balanced tree of 2,000 pages is 3 levels).
pub const MAX_TREE_DEPTH: usize = 32;

fn corrupt(why: String) -> DecodeError {
    DecodeError::Corrupt(why)
}

fn show(id: ObjectIdentifier) -> String {
    format!("{} {}", id.obj_number, id.gen_number)
}

struct Node<'a> {
    id: ObjectIdentifier,
    kids: ArrayIter<'a>,
    count: i64,
    /// Pages found before this node.
    before: usize,
}

/// Checks the tree; the number of pages.
pub(super) fn check(pdf: &Pdf, limits: &Limits) -> Result<usize, DecodeError> {
    let xref = pdf.xref();
    let catalog = xref
        .get::<Dict<'_>>(xref.root_id())
        .ok_or_else(|| corrupt("no document catalog".into()))?;
    let root: ObjectIdentifier = match catalog.get_raw::<Dict<'_>>("Pages") {
        Some(MaybeRef::Ref(r)) => r.into(),
        _ => return Err(corrupt("the catalog names no page tree".into())),
    };
    let node =
        |id: ObjectIdentifier, depth: usize, before: usize| -> Result<Node<'_>, DecodeError> {
            if depth > MAX_TREE_DEPTH {
                return Err(corrupt(format!(
                    "the page tree is deeper than {MAX_TREE_DEPTH} levels"
                )));
            }
            let dict = xref
                .get::<Dict<'_>>(id)
                .ok_or_else(|| corrupt(format!("page tree node {} is missing", show(id))))?;
            let kids = dict
                .get::<Array<'_>>("Kids")
                .ok_or_else(|| corrupt(format!("page tree node {} has no /Kids", show(id))))?;
            let count = dict
                .get::<i64>("Count")
                .ok_or_else(|| corrupt(format!("page tree node {} has no /Count", show(id))))?;
            Ok(Node {
                id,
                kids: kids.raw_iter(),
                count,
                before,
            })
        };
    let top = node(root, 1, 0)?;
    if top.count > limits.max_pages as i64 {
        return Err(too_large(
            "pages",
            top.count as u64,
            limits.max_pages as u64,
        ));
    }
    let mut seen = HashSet::from([root]);
    let mut pages: Vec<ObjectIdentifier> = vec![];
    let mut stack = vec![top];
    while let Some(parent) = stack.last_mut() {
        let Some(kid) = parent.kids.next() else {
            let done = stack.pop().expect("a node");
            let under = pages.len() - done.before;
            if done.count != under as i64 {
                return Err(corrupt(format!(
                    "page tree node {} counts {} pages but holds {under}",
                    show(done.id),
                    done.count
                )));
            }
            continue;
        };
        let parent_id = parent.id;
        let MaybeRef::Ref(r) = kid else {
            return Err(corrupt(format!(
                "page tree node {} lists a kid that is not an indirect object",
                show(parent_id)
            )));
        };
        let id: ObjectIdentifier = r.into();
        if !seen.insert(id) {
            return Err(corrupt(format!(
                "the page tree reaches object {} twice",
                show(id)
            )));
        }
        if seen.len() > 2 * limits.max_pages + 1 {
            return Err(too_large(
                "page tree nodes",
                seen.len() as u64,
                2 * limits.max_pages as u64 + 1,
            ));
        }
        let dict = xref
            .get::<Dict<'_>>(id)
            .ok_or_else(|| corrupt(format!("page tree kid {} is not a dictionary", show(id))))?;
        match dict.get_raw::<Dict<'_>>("Parent") {
            Some(MaybeRef::Ref(p)) if ObjectIdentifier::from(p) == parent_id => {}
            _ => {
                return Err(corrupt(format!(
                    "page tree kid {} does not name {} as its /Parent",
                    show(id),
                    show(parent_id)
                )))
            }
        }
        match dict.get::<Name<'_>>("Type").as_ref().map(|n| n.as_str()) {
            Some("Page") => {
                pages.push(id);
                if pages.len() > limits.max_pages {
                    return Err(too_large(
                        "pages",
                        pages.len() as u64,
                        limits.max_pages as u64,
                    ));
                }
            }
            Some("Pages") => {
                let child = node(id, stack.len() + 1, pages.len())?;
                stack.push(child);
            }
            _ => {
                return Err(corrupt(format!(
                    "page tree kid {} is neither a /Page nor a /Pages node",
                    show(id)
                )))
            }
        }
    }
    let read: Vec<Option<ObjectIdentifier>> =
        pdf.pages().iter().map(|p| p.raw().obj_id()).collect();
    if read.len() != pages.len() || read.iter().zip(&pages).any(|(a, b)| *a != Some(*b)) {
        return Err(corrupt(format!(
            "the page tree holds {} pages, the PDF reader finds {}",
            pages.len(),
            read.len()
        )));
    }
    Ok(pages.len())
}
