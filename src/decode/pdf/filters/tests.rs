use super::*;
use crate::decode::pdf::testing::{stream, tiny_pdf};
use crate::decode::test_support::{cpu_timed, zlib_zeros};
use hayro::hayro_interpret::hayro_syntax::object::{ObjectIdentifier, Stream};
use hayro::hayro_interpret::hayro_syntax::Pdf;
use std::collections::HashMap;
use std::time::Duration;

/// Our count and hayro's decoded length of one stream with this dictionary.
fn both(dict: &str, data: &[u8], cap: u64) -> (Result<u64, Exceeded>, usize) {
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        stream(dict, data),
    ];
    let pdf = Pdf::new(tiny_pdf(&objects)).expect("opens");
    let s = pdf
        .xref()
        .get::<Stream<'_>>(ObjectIdentifier::new(3, 0))
        .expect("stream");
    let ours = Chain::of(s.dict()).decoded_len(&s.raw_data(), cap);
    let theirs = s.decoded().map_or(0, |d| d.len());
    (ours, theirs)
}

fn sample() -> Vec<u8> {
    let mut data = "BT /F1 12 Tf (Giấy chứng nhận quyền sử dụng đất) Tj ET\n"
        .as_bytes()
        .repeat(300);
    data.extend(vec![0u8; 300_000]);
    data.extend((0..100_000u32).map(|i| (i * 7 % 251) as u8));
    data
}

/// PDF's LZW (EarlyChange 1) for data that does not fill the table.
fn lzw(data: &[u8]) -> Vec<u8> {
    let mut table: HashMap<Vec<u8>, u16> = (0..=255u16).map(|b| (vec![b as u8], b)).collect();
    let mut next = 258u16;
    let (mut acc, mut nbits, mut out) = (0u64, 0u32, vec![]);
    let width = |n: u16| match n {
        n if n >= 2048 => 12,
        n if n >= 1024 => 11,
        n if n >= 512 => 10,
        _ => 9,
    };
    let mut put = |code: u16, w: u32, out: &mut Vec<u8>| {
        acc = acc << w | u64::from(code);
        nbits += w;
        while nbits >= 8 {
            out.push((acc >> (nbits - 8)) as u8);
            nbits -= 8;
        }
    };
    put(256, 9, &mut out);
    let mut w: Vec<u8> = vec![];
    for &c in data {
        let mut wc = w.clone();
        wc.push(c);
        if table.contains_key(&wc) {
            w = wc;
        } else {
            put(table[&w], width(next), &mut out);
            assert!(next < 4000, "test data fills the LZW table");
            table.insert(wc, next);
            next += 1;
            w = vec![c];
        }
    }
    put(table[&w], width(next), &mut out);
    put(257, width(next + 1), &mut out);
    put(0, 7, &mut out);
    out
}

fn run_length(data: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    let mut i = 0;
    while i < data.len() {
        let run = data[i..]
            .iter()
            .take(128)
            .take_while(|&&b| b == data[i])
            .count();
        if run >= 2 {
            out.extend([(257 - run) as u8, data[i]]);
            i += run;
        } else {
            let n = (data.len() - i).min(128);
            out.push((n - 1) as u8);
            out.extend(&data[i..i + n]);
            i += n;
        }
    }
    out.push(128);
    out
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    for chunk in data.chunks(4) {
        let mut group = [0u8; 4];
        group[..chunk.len()].copy_from_slice(chunk);
        let mut v = u32::from_be_bytes(group);
        if chunk.len() == 4 && v == 0 {
            out.push(b'z');
            continue;
        }
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = (v % 85) as u8 + b'!';
            v /= 85;
        }
        out.extend(&digits[..chunk.len() + 1]);
    }
    out.extend(b"~>");
    out
}

#[test]
fn counts_agree_with_hayro_for_every_filter() {
    let data = sample();
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let raw = miniz_oxide::deflate::compress_to_vec(&data, 6);
    let hex: Vec<u8> = hex::encode(&data)
        .into_bytes()
        .into_iter()
        .chain(*b">")
        .collect();
    let a85_flate = ascii85(&zlib);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("/Filter /FlateDecode", zlib.clone()),
        ("/Filter /FlateDecode", raw),
        ("/Filter /LZWDecode", lzw(&data[..200_000])),
        ("/Filter /RunLengthDecode", run_length(&data)),
        ("/Filter /ASCIIHexDecode", hex),
        ("/Filter /ASCII85Decode", ascii85(&data)),
        ("/Filter [/ASCII85Decode /FlateDecode]", a85_flate),
        ("", data.clone()),
    ];
    for (dict, encoded) in cases {
        let (ours, theirs) = both(dict, &encoded, u64::MAX);
        assert_eq!(ours, Ok(theirs as u64), "{dict}");
        assert!(theirs >= 200_000, "{dict}: hayro decoded {theirs}");
    }
    // A predictor drops a byte a row: the count is an upper bound.
    let dict = "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 10 >>";
    let (ours, theirs) = both(dict, &zlib, u64::MAX);
    assert_eq!(ours, Ok(data.len() as u64));
    assert_eq!(theirs, data.len() / 11 * 10);
}

#[test]
fn damaged_data_counts_what_comes_before_the_damage() {
    let data = sample();
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let cut = &zlib[..zlib.len() / 2];
    let (ours, theirs) = both("/Filter /FlateDecode", cut, u64::MAX);
    let ours = ours.expect("counted");
    assert!(ours > 0 && ours as usize <= data.len(), "{ours}");
    assert!(
        ours + (64 << 10) >= theirs as u64,
        "ours {ours}, hayro {theirs}"
    );
}

#[test]
fn a_nested_bomb_stops_at_the_cap_without_inflating() {
    // 1 GiB of zeros, deflated twice: about a kilobyte.
    let inner = zlib_zeros(b"", 1 << 30);
    let outer = miniz_oxide::deflate::compress_to_vec_zlib(&inner, 9);
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        stream("/Filter [/FlateDecode /FlateDecode]", &outer),
    ];
    let pdf = Pdf::new(tiny_pdf(&objects)).expect("opens");
    let s = pdf
        .xref()
        .get::<Stream<'_>>(ObjectIdentifier::new(3, 0))
        .expect("stream");
    let (counted, took) = cpu_timed(|| Chain::of(s.dict()).decoded_len(&s.raw_data(), 1 << 20));
    let Err(Exceeded { counted }) = counted else {
        panic!("{counted:?}")
    };
    assert!(
        counted > 1 << 20 && counted <= (1 << 20) + 4 * PIECE as u64,
        "{counted}"
    );
    assert!(took < Duration::from_millis(500), "{took:?}");
}

#[test]
fn predictor_rows_larger_than_the_cap_are_refused() {
    let dict =
        "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 2000000000 /Colors 4 >>";
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(b"\x02abcd", 6);
    let (ours, _) = both(dict, &zlib, 1 << 30);
    assert!(
        matches!(ours, Err(Exceeded { counted }) if counted == 8_000_000_000),
        "{ours:?}"
    );
}

#[test]
fn codecs_end_the_count_and_external_files_decode_nothing() {
    let jpeg = b"\xff\xd8 not really a JPEG";
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(jpeg, 6);
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        stream("/Filter [/FlateDecode /DCTDecode]", &zlib),
        stream("/F (elsewhere.bin) /Filter /FlateDecode", &zlib),
    ];
    let pdf = Pdf::new(tiny_pdf(&objects)).expect("opens");
    let get = |n| {
        pdf.xref()
            .get::<Stream<'_>>(ObjectIdentifier::new(n, 0))
            .expect("stream")
    };
    let wrapped = get(3);
    let chain = Chain::of(wrapped.dict());
    assert!(matches!(chain.codec, Some((Codec::Dct, _))));
    assert_eq!(
        chain.decoded_len(&wrapped.raw_data(), 1 << 20),
        Ok(jpeg.len() as u64)
    );
    let external = get(4);
    assert_eq!(
        Chain::of(external.dict()).decoded_len(&external.raw_data(), 1),
        Ok(0)
    );
}
