//! How many bytes a stream's filters produce, found without keeping them.
//!
//! hayro decodes a stream whole into one vector, with no way to cap it from
//! outside: a few hundred kilobytes of Flate data can ask for gigabytes. So
//! before hayro sees a stream, its filter chain is run here as a pipeline of
//! small streaming decoders whose output is counted and dropped, stopping as
//! soon as the count passes the stream's cap. Memory stays at the decoders'
//! windows (tens of kilobytes) whatever the stream holds.
//!
//! Only the general-purpose filters are run (Flate, LZW, RunLength, ASCIIHex,
//! ASCII85): what comes out of them and goes into an image codec (DCT, JPX,
//! JBIG2, CCITT) is what is counted, since a codec's output is bounded by the
//! image's dimensions, which are checked separately. The count follows hayro's
//! lenient readers (zlib header optional, data after an error ignored) closely
//! enough to be an upper bound of what hayro will allocate.

use hayro::hayro_interpret::hayro_syntax::object::{Dict, Name, Object};
use stages::{finish, run, stage, Stage};

mod stages;

/// Output of a stage is handed on in pieces of at most this many bytes, and
/// input is taken in pieces that cannot expand beyond a few times that.
const PIECE: usize = 16 << 10;

/// The decoded data went past the cap (or a decoder parameter would make
/// hayro allocate more than the cap). `counted` is how far the count got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Exceeded {
    pub counted: u64,
}

/// The image codec at the end of a filter chain, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Dct,
    Jpx,
    Jbig2,
    Ccitt,
}

/// The filters of one stream, in the order they are applied.
pub(super) struct Chain<'a> {
    stages: Vec<(Kind, Option<Dict<'a>>)>,
    /// The first image codec; filters after it are not run.
    pub codec: Option<(Codec, Option<Dict<'a>>)>,
    /// An external file (`/F` names a file) or a filter hayro does not know:
    /// hayro decodes nothing, so there is nothing to count.
    pub undecodable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flate,
    Lzw,
    RunLength,
    AsciiHex,
    Ascii85,
}

enum Step {
    Stage(Kind),
    Codec(Codec),
    Crypt,
}

fn step(name: &Name<'_>) -> Option<Step> {
    Some(match name.as_str() {
        "FlateDecode" | "Fl" => Step::Stage(Kind::Flate),
        "LZWDecode" | "LZW" => Step::Stage(Kind::Lzw),
        "RunLengthDecode" | "RL" => Step::Stage(Kind::RunLength),
        "ASCIIHexDecode" | "AHx" => Step::Stage(Kind::AsciiHex),
        "ASCII85Decode" | "A85" => Step::Stage(Kind::Ascii85),
        "DCTDecode" | "DCT" => Step::Codec(Codec::Dct),
        "JPXDecode" => Step::Codec(Codec::Jpx),
        "JBIG2Decode" => Step::Codec(Codec::Jbig2),
        "CCITTFaxDecode" | "CCF" => Step::Codec(Codec::Ccitt),
        "Crypt" => Step::Crypt,
        _ => return None,
    })
}

impl<'a> Chain<'a> {
    /// Reads `/Filter` (or `/F`) and `/DecodeParms` (or `/DP`) as hayro does:
    /// unknown filter names are skipped together with their parameters.
    pub fn of(dict: &Dict<'a>) -> Chain<'a> {
        let mut chain = Chain {
            stages: vec![],
            codec: None,
            undecodable: false,
        };
        let filter = dict
            .get::<Object<'a>>("F")
            .filter(|f| matches!(f, Object::Name(_) | Object::Array(_)))
            .or_else(|| dict.get::<Object<'a>>("Filter"));
        let params = dict
            .get::<Object<'a>>("DP")
            .or_else(|| dict.get::<Object<'a>>("DecodeParms"));
        let named: Vec<(Name<'a>, Option<Dict<'a>>)> = match filter {
            Some(Object::Name(name)) => {
                let p = params.and_then(|p| p.into_dict());
                vec![(name, p)]
            }
            Some(Object::Array(names)) => {
                let mut params = params.and_then(|p| p.into_array()).map(|a| {
                    a.iter::<Object<'a>>()
                        .map(|o| o.into_dict())
                        .collect::<Vec<_>>()
                        .into_iter()
                });
                names
                    .iter::<Name<'a>>()
                    .map(|n| (n, params.as_mut().and_then(|p| p.next()).flatten()))
                    .collect()
            }
            _ => vec![],
        };
        if matches!(
            dict.get::<Object<'a>>("F"),
            Some(Object::String(_) | Object::Dict(_))
        ) {
            chain.undecodable = true;
        }
        for (i, (name, params)) in named.into_iter().enumerate() {
            match step(&name) {
                Some(Step::Stage(kind)) => chain.stages.push((kind, params)),
                Some(Step::Codec(codec)) => {
                    chain.codec = Some((codec, params));
                    break;
                }
                Some(Step::Crypt) if i == 0 => {}
                // A Crypt filter later in the chain makes hayro fail the stream.
                Some(Step::Crypt) => {
                    chain.undecodable = true;
                    break;
                }
                None => {}
            }
        }
        chain
    }

    /// True when a general-purpose filter runs: without one hayro hands the
    /// stream's own bytes on (to a codec, or as samples) and inflates nothing.
    pub fn inflates(&self) -> bool {
        !self.undecodable && !self.stages.is_empty()
    }

    /// Bytes the general-purpose filters make of `raw`, or `Exceeded` as soon
    /// as they make more than `cap`.
    pub fn decoded_len(&self, raw: &[u8], cap: u64) -> Result<u64, Exceeded> {
        if self.undecodable {
            return Ok(0);
        }
        for (kind, params) in &self.stages {
            predictor_row_fits(*kind, params.as_ref(), cap)?;
        }
        let mut stages: Vec<Box<dyn Stage>> =
            self.stages.iter().map(|(k, p)| stage(*k, p)).collect();
        let mut count = 0u64;
        let mut sink = |piece: &[u8]| {
            count += piece.len() as u64;
            if count > cap {
                Err(Exceeded { counted: count })
            } else {
                Ok(())
            }
        };
        for piece in raw.chunks(PIECE) {
            if !run(&mut stages, piece, &mut sink)? {
                break;
            }
        }
        finish(&mut stages, &mut sink)?;
        Ok(count)
    }
}

/// hayro allocates one row of a predictor before it looks at the data, so a
/// huge `/Columns` is refused here rather than allocated there.
fn predictor_row_fits(kind: Kind, params: Option<&Dict<'_>>, cap: u64) -> Result<(), Exceeded> {
    let Some(params) = params else {
        return Ok(());
    };
    if !matches!(kind, Kind::Flate | Kind::Lzw) || params.get::<u8>("Predictor").unwrap_or(1) <= 1 {
        return Ok(());
    }
    let columns = params.get::<f64>("Columns").unwrap_or(1.0).max(0.0) as u64;
    let colors = params.get::<f64>("Colors").unwrap_or(1.0).max(0.0) as u64;
    let bpc = params
        .get::<f64>("BitsPerComponent")
        .unwrap_or(8.0)
        .max(0.0) as u64;
    let row = columns
        .saturating_mul(colors)
        .saturating_mul(bpc)
        .div_ceil(8);
    if row > cap {
        return Err(Exceeded { counted: row });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
