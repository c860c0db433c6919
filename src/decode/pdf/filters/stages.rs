//! The streaming decoders: each takes its input a piece at a time and hands
//! its output on in pieces, holding no more than its window (Flate's 32 KiB,
//! LZW's table) and one piece.

use super::{Exceeded, Kind, PIECE};
use hayro::hayro_interpret::hayro_syntax::object::Dict;
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

pub(super) type Out<'o> = dyn FnMut(&[u8]) -> Result<(), Exceeded> + 'o;

/// Pushes `input` through the stages into `sink`. False once the first stage
/// has seen the end of its data.
pub(super) fn run(
    stages: &mut [Box<dyn Stage>],
    input: &[u8],
    sink: &mut Out<'_>,
) -> Result<bool, Exceeded> {
    match stages.split_first_mut() {
        None => sink(input).map(|_| true),
        Some((first, rest)) => first.feed(input, &mut |piece| run(rest, piece, sink).map(|_| ())),
    }
}

/// Ends the data: each stage hands on what it still holds, in order.
pub(super) fn finish(stages: &mut [Box<dyn Stage>], sink: &mut Out<'_>) -> Result<(), Exceeded> {
    if let Some((first, rest)) = stages.split_first_mut() {
        first.finish(&mut |piece| run(rest, piece, sink).map(|_| ()))?;
        finish(rest, sink)?;
    }
    Ok(())
}

pub(super) trait Stage {
    /// Decodes the next piece of input, handing output on in pieces; false
    /// once the encoded data has ended (later input is ignored).
    fn feed(&mut self, input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded>;

    /// The input is over: hands on anything held back.
    fn finish(&mut self, _out: &mut Out<'_>) -> Result<(), Exceeded> {
        Ok(())
    }
}

pub(super) fn stage(kind: Kind, params: &Option<Dict<'_>>) -> Box<dyn Stage> {
    match kind {
        Kind::Flate => Box::new(Flate::default()),
        Kind::Lzw => {
            let early = params
                .as_ref()
                .and_then(|p| p.get::<u8>("EarlyChange"))
                .is_none_or(|e| e != 0);
            Box::new(Lzw::new(early))
        }
        Kind::RunLength => Box::new(RunLength::default()),
        Kind::AsciiHex => Box::new(AsciiHex::default()),
        Kind::Ascii85 => Box::new(Ascii85::default()),
    }
}

/// Collects a stage's output and hands it on in pieces of `PIECE` bytes.
struct Batch<'b, 'o> {
    buf: Vec<u8>,
    out: &'b mut Out<'o>,
}

impl<'b, 'o> Batch<'b, 'o> {
    fn new(out: &'b mut Out<'o>) -> Self {
        Batch {
            buf: Vec::with_capacity(PIECE),
            out,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), Exceeded> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(())
    }

    fn push_repeated(&mut self, byte: u8, n: usize) -> Result<(), Exceeded> {
        self.buf.resize(self.buf.len() + n, byte);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Exceeded> {
        if !self.buf.is_empty() {
            (self.out)(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Deflate, with or without the zlib header (hayro accepts both).
#[derive(Default)]
struct Flate {
    state: Option<Box<InflateState>>,
    /// The first bytes, kept until the header can be told apart.
    head: Vec<u8>,
    window: Vec<u8>,
    ended: bool,
}

impl Flate {
    fn inflate(&mut self, mut input: &[u8], out: &mut Out<'_>) -> Result<(), Exceeded> {
        let state = self.state.as_mut().expect("started");
        if self.window.is_empty() {
            self.window = vec![0; 4 * PIECE];
        }
        loop {
            let r = inflate(state, input, &mut self.window, MZFlush::None);
            input = &input[r.bytes_consumed..];
            if r.bytes_written > 0 {
                out(&self.window[..r.bytes_written])?;
            }
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.ended = true;
                    return Ok(());
                }
                Ok(_) if r.bytes_written == self.window.len() => continue,
                Ok(_) if input.is_empty() => return Ok(()),
                Ok(_) => continue,
                // No progress: the rest of the data is needed first.
                Err(MZError::Buf) if input.is_empty() => return Ok(()),
                // Damaged data: hayro keeps what came before, and so does the count.
                Err(_) => {
                    self.ended = true;
                    return Ok(());
                }
            }
        }
    }
}

impl Stage for Flate {
    fn feed(&mut self, input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded> {
        if self.ended {
            return Ok(false);
        }
        if self.state.is_some() {
            self.inflate(input, out)?;
            return Ok(!self.ended);
        }
        self.head.extend_from_slice(input);
        if self.head.len() < 2 {
            return Ok(true);
        }
        let (cmf, flg) = (self.head[0], self.head[1]);
        let zlib =
            cmf & 0x0f == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0 && flg & 0x20 == 0;
        self.state = Some(InflateState::new_boxed(DataFormat::Raw));
        let head = std::mem::take(&mut self.head);
        self.inflate(&head[if zlib { 2 } else { 0 }..], out)?;
        Ok(!self.ended)
    }
}

/// LZW as in PDF (and hayro): 9- to 12-bit codes, MSB first, 256 clears the
/// table, 257 ends the data, `EarlyChange` widening one code early.
struct Lzw {
    early: bool,
    prefix: Vec<u16>,
    last: Vec<u8>,
    first: Vec<u8>,
    len: Vec<u16>,
    prev: Option<u16>,
    bits: u32,
    nbits: u32,
    scratch: Vec<u8>,
    ended: bool,
}

const LZW_CLEAR: u16 = 256;
const LZW_END: u16 = 257;
const LZW_MAX: usize = 4096;

impl Lzw {
    fn new(early: bool) -> Self {
        let mut lzw = Lzw {
            early,
            prefix: Vec::with_capacity(LZW_MAX),
            last: Vec::with_capacity(LZW_MAX),
            first: Vec::with_capacity(LZW_MAX),
            len: Vec::with_capacity(LZW_MAX),
            prev: None,
            bits: 0,
            nbits: 0,
            scratch: vec![0; LZW_MAX],
            ended: false,
        };
        for b in 0..=255u8 {
            lzw.register_raw(0, b, b, 1);
        }
        // Clear and end of data hold no string.
        lzw.register_raw(0, 0, 0, 0);
        lzw.register_raw(0, 0, 0, 0);
        lzw
    }

    fn register_raw(&mut self, prefix: u16, last: u8, first: u8, len: u16) {
        self.prefix.push(prefix);
        self.last.push(last);
        self.first.push(first);
        self.len.push(len);
    }

    /// Adds `prev` + `byte` unless the table is full.
    fn register(&mut self, prev: u16, byte: u8) -> bool {
        if self.len.len() >= LZW_MAX {
            return false;
        }
        let p = prev as usize;
        let (first, len) = (self.first[p], self.len[p].saturating_add(1));
        self.register_raw(prev, byte, first, len);
        true
    }

    fn width(&self) -> u32 {
        match self.len.len() + usize::from(self.early) {
            n if n >= 2048 => 12,
            n if n >= 1024 => 11,
            n if n >= 512 => 10,
            _ => 9,
        }
    }

    fn emit(&mut self, code: u16, out: &mut Batch<'_, '_>) -> Result<(), Exceeded> {
        let n = self.len[code as usize] as usize;
        let mut c = code as usize;
        for i in (0..n).rev() {
            self.scratch[i] = self.last[c];
            c = self.prefix[c] as usize;
        }
        out.push(&self.scratch[..n])
    }

    /// One code; false when the data has ended (or is broken).
    fn code(&mut self, code: u16, out: &mut Batch<'_, '_>) -> Result<bool, Exceeded> {
        let size = self.len.len();
        match code {
            LZW_CLEAR => {
                self.truncate();
                self.prev = None;
                return Ok(true);
            }
            LZW_END => return Ok(false),
            c if (c as usize) < size => {
                self.emit(c, out)?;
                if let Some(prev) = self.prev {
                    let byte = self.first[c as usize];
                    self.register(prev, byte);
                }
            }
            c if c as usize == size => {
                let Some(prev) = self.prev else {
                    return Ok(false);
                };
                let byte = self.first[prev as usize];
                if !self.register(prev, byte) {
                    return Ok(false);
                }
                self.emit(c, out)?;
            }
            _ => return Ok(false),
        }
        self.prev = Some(code);
        Ok(true)
    }

    fn truncate(&mut self) {
        self.prefix.truncate(258);
        self.last.truncate(258);
        self.first.truncate(258);
        self.len.truncate(258);
    }
}

impl Stage for Lzw {
    fn feed(&mut self, input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded> {
        if self.ended {
            return Ok(false);
        }
        let mut batch = Batch::new(out);
        for &byte in input {
            self.bits = (self.bits << 8) | u32::from(byte);
            self.nbits += 8;
            let width = self.width();
            if self.nbits >= width {
                let code = ((self.bits >> (self.nbits - width)) & ((1 << width) - 1)) as u16;
                self.nbits -= width;
                self.bits &= (1 << self.nbits) - 1;
                if !self.code(code, &mut batch)? {
                    self.ended = true;
                    break;
                }
            }
        }
        batch.flush()?;
        Ok(!self.ended)
    }
}

#[derive(Default)]
enum RunState {
    #[default]
    Length,
    Literal(usize),
    Repeat(usize),
    Ended,
}

#[derive(Default)]
struct RunLength(RunState);

impl Stage for RunLength {
    fn feed(&mut self, mut input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded> {
        let mut batch = Batch::new(out);
        while let Some((&byte, rest)) = input.split_first() {
            match self.0 {
                RunState::Ended => break,
                RunState::Length => {
                    self.0 = match byte {
                        128 => RunState::Ended,
                        0..=127 => RunState::Literal(byte as usize + 1),
                        _ => RunState::Repeat(257 - byte as usize),
                    };
                    input = rest;
                }
                RunState::Literal(n) => {
                    let take = n.min(input.len());
                    batch.push(&input[..take])?;
                    input = &input[take..];
                    self.0 = if take == n {
                        RunState::Length
                    } else {
                        RunState::Literal(n - take)
                    };
                }
                RunState::Repeat(n) => {
                    batch.push_repeated(byte, n)?;
                    input = rest;
                    self.0 = RunState::Length;
                }
            }
        }
        batch.flush()?;
        Ok(!matches!(self.0, RunState::Ended))
    }
}

#[derive(Default)]
struct AsciiHex {
    high: Option<u8>,
    ended: bool,
}

impl Stage for AsciiHex {
    fn feed(&mut self, input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded> {
        let mut batch = Batch::new(out);
        for &c in input {
            if self.ended {
                break;
            }
            let digit = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                b'>' => {
                    self.ended = true;
                    break;
                }
                _ => continue,
            };
            match self.high.take() {
                None => self.high = Some(digit),
                Some(high) => batch.push(&[high << 4 | digit])?,
            }
        }
        if self.ended {
            if let Some(high) = self.high.take() {
                batch.push(&[high << 4])?;
            }
        }
        batch.flush()?;
        Ok(!self.ended)
    }
}

#[derive(Default)]
struct Ascii85 {
    group: Vec<u8>,
    ended: bool,
}

impl Ascii85 {
    fn flush_group(&mut self, batch: &mut Batch<'_, '_>) -> Result<(), Exceeded> {
        let n = self.group.len();
        if n >= 2 {
            // Every full or partial group becomes n − 1 bytes; their values
            // do not matter to the count, but a later filter reads them.
            let mut digits = [84u32; 5];
            for (d, c) in digits.iter_mut().zip(&self.group) {
                *d = u32::from(c - b'!');
            }
            let value = digits
                .iter()
                .fold(0u32, |v, &d| v.wrapping_mul(85).wrapping_add(d));
            batch.push(&value.to_be_bytes()[..n - 1])?;
        }
        self.group.clear();
        Ok(())
    }
}

impl Stage for Ascii85 {
    fn feed(&mut self, input: &[u8], out: &mut Out<'_>) -> Result<bool, Exceeded> {
        let mut batch = Batch::new(out);
        for &c in input {
            if self.ended {
                break;
            }
            match c {
                b'!'..=b'u' => {
                    self.group.push(c);
                    if self.group.len() == 5 {
                        self.flush_group(&mut batch)?;
                    }
                }
                b'z' => {
                    self.flush_group(&mut batch)?;
                    batch.push(&[0; 4])?;
                }
                b'~' => {
                    self.flush_group(&mut batch)?;
                    self.ended = true;
                }
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0' => {}
                _ => self.ended = true,
            }
        }
        batch.flush()?;
        Ok(!self.ended)
    }

    fn finish(&mut self, out: &mut Out<'_>) -> Result<(), Exceeded> {
        let mut batch = Batch::new(out);
        self.flush_group(&mut batch)?;
        batch.flush()
    }
}
