//! The cross-reference chain, read before hayro opens a file.
//!
//! hayro decodes cross-reference streams and object streams while it opens a
//! file, before anything can look at them. And when it finds the chain broken
//! (a `/Prev` that loops, an entry that points nowhere) it says nothing: it
//! rebuilds the table by scanning the whole file, decoding every object
//! stream it meets on the way. So the chain is read here first, with hayro's
//! own object parser: each cross-reference stream is measured before it is
//! decoded, and so is every object stream hayro could decode.
//!
//! - `Strict` (archive PDFs, which we wrote): the chain must be whole, with no
//!   loop, every entry must point at its object, and the file must not be one
//!   hayro would repair.
//! - `Lenient` (scanner PDFs): a broken chain is left to hayro to repair, so
//!   every object stream in the file is measured, wherever it is.

use super::budget::{Budget, Kind, MAX_STREAM_BYTES};
use super::filters::Chain;
use crate::decode::DecodeError;
use hayro::hayro_interpret::hayro_syntax::object::{Array, Dict, ObjectIdentifier, Stream};
use hayro::hayro_interpret::hayro_syntax::reader::{Reader, ReaderExt};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Most objects accepted in one file: hayro keeps an index entry for every
/// object the tables list, whether or not it exists.
pub const MAX_OBJECTS: usize = 1 << 22;
/// Longest chain of cross-reference sections (hayro gives up after 256).
const MAX_SECTIONS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strictness {
    Lenient,
    Strict,
}

#[derive(Debug, Clone, Copy)]
enum Entry {
    At { offset: usize, gen: i32 },
    InStream { stream: u32, index: u32 },
}

#[derive(Default)]
struct Table {
    /// The newest entry of each object number.
    entries: HashMap<u32, Entry>,
    /// Entries read, older ones included.
    read: usize,
    /// The first thing wrong with the chain.
    problem: Option<String>,
    /// Of the newest trailer.
    encrypted: bool,
    has_root: bool,
}

impl Table {
    fn problem(&mut self, why: String) {
        self.problem.get_or_insert(why);
    }

    fn add(&mut self, number: u32, entry: Option<Entry>) -> Result<(), DecodeError> {
        self.read += 1;
        if self.read > MAX_OBJECTS {
            return Err(super::budget::too_large(
                "cross-reference entries",
                self.read as u64,
                MAX_OBJECTS as u64,
            ));
        }
        // Newer sections are read first; a free entry hides nothing older
        // (hayro keeps the older one too).
        if let Some(entry) = entry {
            self.entries.entry(number).or_insert(entry);
        }
        Ok(())
    }
}

fn corrupt(why: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt(why.into())
}

/// Reads and measures the chain; see the module docs.
pub(super) fn check(
    data: &[u8],
    strictness: Strictness,
    budget: &mut Budget,
) -> Result<(), DecodeError> {
    let table = read_chain(data)?;
    if table.encrypted {
        return Err(DecodeError::Encrypted);
    }
    let strict = strictness == Strictness::Strict;
    if strict {
        if let Some(problem) = table.problem {
            return Err(corrupt(problem));
        }
        if !table.has_root {
            return Err(corrupt("the trailer names no document catalog"));
        }
    }
    let streams: BTreeSet<u32> = table
        .entries
        .values()
        .filter_map(|e| match e {
            Entry::InStream { stream, .. } => Some(*stream),
            Entry::At { .. } => None,
        })
        .collect();
    let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
    for number in streams {
        let found = match table.entries.get(&number) {
            Some(&Entry::At { offset, gen }) => object_at(data, offset)
                .filter(|(id, _)| *id == ObjectIdentifier::new(number, gen))
                .and_then(|(id, r)| Some((id, stream_from(r)?))),
            _ => None,
        };
        let Some((id, stream)) = found else {
            if strict {
                return Err(corrupt(format!("object stream {number} is missing")));
            }
            continue;
        };
        budget.stream_as(Some(id), &stream, Kind::ObjectStream)?;
        if strict {
            members.insert(number, member_numbers(&stream));
        }
    }
    if strict {
        check_entries(data, &table, &members)
    } else {
        measure_every_object_stream(data, budget)
    }
}

/// Every entry points at its object, which parses: hayro will not need to
/// rebuild the table (and scan the whole file) later on.
fn check_entries(
    data: &[u8],
    table: &Table,
    members: &HashMap<u32, Vec<u32>>,
) -> Result<(), DecodeError> {
    for (&number, entry) in &table.entries {
        let sound = match *entry {
            Entry::At { offset, gen } => object_at(data, offset).is_some_and(|(id, mut r)| {
                id == ObjectIdentifier::new(number, gen)
                    && r.read_without_context::<hayro::hayro_interpret::hayro_syntax::object::Object<'_>>()
                        .is_some()
            }),
            Entry::InStream { stream, index } => members
                .get(&stream)
                .and_then(|m| m.get(index as usize))
                .is_some_and(|&n| n == number),
        };
        if !sound {
            return Err(corrupt(format!(
                "the cross-reference table points object {number} where it is not"
            )));
        }
    }
    Ok(())
}

/// The object numbers an object stream says it holds, in order.
fn member_numbers(stream: &Stream<'_>) -> Vec<u32> {
    let n = stream.dict().get::<usize>("N").unwrap_or(0);
    let Ok(data) = stream.decoded_data() else {
        return vec![];
    };
    let mut r = Reader::new(&data);
    let mut numbers = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        r.skip_white_spaces_and_comments();
        let Some(number) = r.read_without_context::<u32>() else {
            break;
        };
        r.skip_white_spaces_and_comments();
        if r.read_without_context::<usize>().is_none() {
            break;
        }
        numbers.push(number);
    }
    numbers
}

/// `N G obj` at `offset`, and a reader just after it.
fn object_at(data: &[u8], offset: usize) -> Option<(ObjectIdentifier, Reader<'_>)> {
    if offset >= data.len() {
        return None;
    }
    let mut r = Reader::new(data);
    r.jump(offset);
    r.skip_white_spaces_and_comments();
    let id = r.read_without_context::<ObjectIdentifier>()?;
    r.skip_white_spaces_and_comments();
    Some((id, r))
}

fn stream_from<'d>(mut r: Reader<'d>) -> Option<Stream<'d>> {
    r.read_without_context::<Stream<'d>>()
}

/// Where the newest cross-reference section starts.
fn start_offset(data: &[u8]) -> Option<usize> {
    let tail_from = data.len().saturating_sub(64 << 10);
    let at = rfind(&data[tail_from..], b"startxref")
        .map(|p| p + tail_from)
        .or_else(|| rfind(data, b"startxref"))?;
    let mut r = Reader::new(data);
    r.jump(at + b"startxref".len());
    r.skip_white_spaces_and_comments();
    r.read_without_context::<usize>()
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn read_chain(data: &[u8]) -> Result<Table, DecodeError> {
    let mut table = Table::default();
    let Some(start) = start_offset(data) else {
        table.problem("no startxref: the end of the file is missing".into());
        return Ok(table);
    };
    let mut visited = HashSet::new();
    // Sections still to read, the next on top: hayro lets a table's own
    // entries override its /XRefStm's, and those its /Prev's.
    let mut todo = vec![start];
    let mut newest = true;
    while let Some(offset) = todo.pop() {
        if !visited.insert(offset) {
            table.problem(format!(
                "the cross-reference chain loops back to byte {offset} (/Prev)"
            ));
            continue;
        }
        if visited.len() > MAX_SECTIONS {
            table.problem(format!("more than {MAX_SECTIONS} cross-reference sections"));
            break;
        }
        let Some(trailer) = read_section(data, offset, &mut table)? else {
            table.problem(format!("no cross-reference section at byte {offset}"));
            continue;
        };
        if newest {
            table.encrypted = trailer.contains_key("Encrypt");
            table.has_root = trailer.contains_key("Root");
            newest = false;
        }
        for key in ["Prev", "XRefStm"] {
            if let Some(next) = trailer.get::<i64>(key) {
                match usize::try_from(next) {
                    Ok(next) => todo.push(next),
                    Err(_) => table.problem(format!("/{key} {next} is not a position in the file")),
                }
            }
        }
    }
    Ok(table)
}

/// Reads the table or stream at `offset` into `table`; its trailer dictionary.
fn read_section<'d>(
    data: &'d [u8],
    offset: usize,
    table: &mut Table,
) -> Result<Option<Dict<'d>>, DecodeError> {
    if offset >= data.len() {
        return Ok(None);
    }
    let mut r = Reader::new(data);
    r.jump(offset);
    r.skip_white_spaces_and_comments();
    if r.forward_tag(b"xref").is_some() {
        return classic_section(r, table);
    }
    let Some((_, r)) = object_at(data, offset) else {
        return Ok(None);
    };
    let Some(stream) = stream_from(r) else {
        return Ok(None);
    };
    let dict = stream.dict().clone();
    // Decoded when hayro opens the file, and dropped after.
    let chain = Chain::of(&dict);
    chain
        .decoded_len(&stream.raw_data(), MAX_STREAM_BYTES)
        .map_err(|e| {
            super::budget::too_large(
                "decoded cross-reference stream bytes",
                e.counted,
                MAX_STREAM_BYTES,
            )
        })?;
    let Some(widths) = dict.get::<Array<'_>>("W") else {
        return Ok(None);
    };
    let w: Vec<usize> = widths.iter::<u8>().map(usize::from).collect();
    let [w0, w1, w2] = w[..] else {
        return Ok(None);
    };
    if w0 + w1 + w2 == 0 {
        return Ok(None);
    }
    let Ok(decoded) = stream.decoded_data() else {
        table.problem(format!(
            "the cross-reference stream at byte {offset} does not decode"
        ));
        return Ok(Some(dict));
    };
    let size = dict.get::<u32>("Size").unwrap_or(0);
    let ranges: Vec<(u32, u32)> = match dict.get::<Array<'_>>("Index") {
        Some(index) => index.iter::<(u32, u32)>().collect(),
        None => vec![(0, size)],
    };
    let mut fields = decoded.chunks_exact(w0 + w1 + w2);
    let number = |b: &[u8]| b.iter().fold(0u64, |v, &d| v << 8 | u64::from(d));
    'ranges: for (first, count) in ranges {
        for i in 0..count {
            let Some(f) = fields.next() else {
                break 'ranges;
            };
            let kind = if w0 == 0 { 1 } else { number(&f[..w0]) };
            let (a, b) = (number(&f[w0..w0 + w1]), number(&f[w0 + w1..]));
            let entry = match kind {
                0 => None,
                1 => Some(Entry::At {
                    offset: a as usize,
                    gen: b as i32,
                }),
                2 => Some(Entry::InStream {
                    stream: a as u32,
                    index: b as u32,
                }),
                _ => {
                    table.problem(format!("cross-reference entry of unknown type {kind}"));
                    None
                }
            };
            table.add(first.saturating_add(i), entry)?;
        }
    }
    Ok(Some(dict))
}

fn classic_section<'d>(
    mut r: Reader<'d>,
    table: &mut Table,
) -> Result<Option<Dict<'d>>, DecodeError> {
    loop {
        r.skip_white_spaces_and_comments();
        let mut header = r.clone();
        let (Some(first), Some(count)) = (header.read_without_context::<u32>(), {
            header.skip_white_spaces();
            header.read_without_context::<u32>()
        }) else {
            break;
        };
        r = header;
        r.skip_white_spaces();
        for i in 0..count {
            // 20 bytes an entry, as hayro reads them.
            let Some(line) = r.read_bytes(20) else {
                table.problem("a cross-reference table ends early".into());
                return Ok(None);
            };
            let digits = |b: &[u8]| -> Option<u64> {
                b.iter().try_fold(0u64, |v, &d| {
                    d.is_ascii_digit().then(|| v * 10 + u64::from(d - b'0'))
                })
            };
            let (Some(offset), Some(gen)) = (digits(&line[..10]), digits(&line[11..16])) else {
                table.problem("a cross-reference entry is not a number".into());
                return Ok(None);
            };
            let entry = (line[17] == b'n').then_some(Entry::At {
                offset: offset as usize,
                gen: gen as i32,
            });
            table.add(first.saturating_add(i), entry)?;
        }
    }
    r.skip_white_spaces_and_comments();
    if r.forward_tag(b"trailer").is_none() {
        return Ok(None);
    }
    r.skip_white_spaces_and_comments();
    Ok(r.read_without_context::<Dict<'d>>())
}

/// hayro's repair decodes every `/Type /ObjStm` stream it finds: each is
/// measured first, wherever it is in the file.
fn measure_every_object_stream(data: &[u8], budget: &mut Budget) -> Result<(), DecodeError> {
    const NEEDLE: &[u8] = b"/ObjStm";
    let mut from = 0;
    while let Some(found) = find(&data[from..], NEEDLE) {
        let at = from + found;
        from = at + NEEDLE.len();
        let window = at.saturating_sub(4096);
        let Some(keyword) = rfind(&data[window..at], b"obj").map(|k| window + k) else {
            continue;
        };
        let Some(start) = header_start(data, keyword) else {
            continue;
        };
        if let Some((id, r)) = object_at(data, start) {
            if let Some(stream) = stream_from(r) {
                budget.stream_as(Some(id), &stream, Kind::ObjectStream)?;
            }
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Where `N G obj` begins, given where its `obj` is.
fn header_start(data: &[u8], keyword: usize) -> Option<usize> {
    let mut i = keyword;
    for _ in 0..2 {
        while i > 0 && data[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        let end = i;
        while i > 0 && data[i - 1].is_ascii_digit() {
            i -= 1;
        }
        if i == end {
            return None;
        }
    }
    Some(i)
}

#[cfg(test)]
mod tests;
