//! Time-stamps (RFC 3161) for PAdES baseline B-T: the SHA-256 of a
//! signature value is sent to the time-stamping authority `[sign] tsa_url`
//! names, and the token it returns goes into the signer's unsigned
//! attributes (`signature-time-stamp`, ETSI EN 319 122-1 5.3). `verify`
//! reads the token back with [`read_token`].

use super::SignError;
use chrono::{DateTime, NaiveDateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use std::io::Read;
use std::time::Duration;

/// `id-aa-signatureTimeStampToken` (RFC 3161, Appendix A).
pub const ID_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// `id-ct-TSTInfo`: what a token's SignedData holds.
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// The largest reply read from a TSA (a token with its chain is a few KiB).
const MAX_REPLY: u64 = 1 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<u64>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

#[derive(Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    /// A GeneralizedTime, read by hand: TSAs may give fractions of a second.
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<x509_cert::ext::pkix::name::GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

fn sha256_imprint(data: &[u8]) -> Result<MessageImprint, der::Error> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: ID_SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(Sha256::digest(data).to_vec())?,
    })
}

/// A token read back: the time it certifies, over which imprint, and the
/// SignedData to check the authority's signature of.
pub struct Token {
    pub time: DateTime<Utc>,
    /// The SignedData of the token; its content is the DER of the TSTInfo.
    pub signed: SignedData,
    /// The TSTInfo's DER (what the token's signer signed the digest of).
    pub content: Vec<u8>,
    imprint: MessageImprint,
    nonce: Option<Int>,
}

impl Token {
    /// Whether the token is over `data`, by the hash its imprint names (an
    /// authority may hash again, or write the algorithm's NULL parameters).
    pub fn covers(&self, data: &[u8]) -> bool {
        super::digest_of(self.imprint.hash_algorithm.oid, &[data])
            .is_some_and(|d| d == self.imprint.hashed_message.as_bytes())
    }
}

/// Reads a time-stamp token (a DER `ContentInfo`); the authority's signature
/// is the caller's to check.
pub fn read_token(token: &[u8]) -> Result<Token, String> {
    let info = ContentInfo::from_der(token).map_err(|e| format!("the time-stamp token: {e}"))?;
    let signed = super::verify::signed_data(&info, "the time-stamp token")?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err("the time-stamp token holds no TSTInfo".into());
    }
    let content = encap
        .econtent
        .as_ref()
        .ok_or("the time-stamp token's TSTInfo is missing")?
        .decode_as::<OctetString>()
        .map_err(|e| format!("the time-stamp token's content: {e}"))?
        .as_bytes()
        .to_vec();
    let tst = TstInfo::from_der(&content).map_err(|e| format!("the TSTInfo: {e}"))?;
    if tst.gen_time.tag() != Tag::GeneralizedTime {
        return Err("the TSTInfo's time is not a GeneralizedTime".into());
    }
    let time = generalized_time(tst.gen_time.value()).ok_or("the TSTInfo's time cannot be read")?;
    Ok(Token {
        time,
        signed,
        content,
        imprint: tst.message_imprint,
        nonce: tst.nonce,
    })
}

/// `YYYYMMDDHHMMSS[.f…]Z` (RFC 3161 2.4.2: UTC, fractions allowed).
fn generalized_time(value: &[u8]) -> Option<DateTime<Utc>> {
    let s = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    if whole.len() != 14 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    let nanos: u32 = format!("{fraction:0<9}").get(..9)?.parse().ok()?;
    Some(t.and_utc() + chrono::Duration::nanoseconds(i64::from(nanos)))
}

/// Why a time-stamping authority gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsaFailure {
    /// `[sign] tsa_url` is not an `http://` or `https://` address.
    #[error("not an http:// or https:// address")]
    NotHttp,
    #[error("cannot connect ({0})")]
    Unreachable(String),
    #[error("no answer in time")]
    TimedOut,
    #[error("HTTP {0}")]
    Http(u16),
    /// The authority refused the request (PKIStatus 2–5), with what it said.
    #[error("the request was refused (status {status}{})", if .said.is_empty() { String::new() } else { format!(": {}", .said) })]
    Refused { status: u8, said: String },
    /// A reply that is no time-stamp response, or a token that is not over
    /// this signature or does not answer this request.
    #[error("{0}")]
    BadReply(String),
}

/// A time-stamping authority reached over HTTP (RFC 3161, 3.4).
pub struct Tsa {
    url: String,
    http: reqwest::blocking::Client,
}

impl Tsa {
    pub fn new(url: &str) -> Result<Tsa, SignError> {
        let fail = |failure| SignError::TimeStamp {
            url: url.to_string(),
            failure,
        };
        let parsed = reqwest::Url::parse(url);
        if !parsed.is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            return Err(fail(TsaFailure::NotHttp));
        }
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| fail(TsaFailure::Unreachable(e.to_string())))?;
        Ok(Tsa {
            url: url.to_string(),
            http,
        })
    }

    /// A token over `signature` (a SignerInfo's signature value), checked to
    /// be over it and to answer this request; its DER `ContentInfo`.
    pub fn stamp(&self, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = |failure| SignError::TimeStamp {
            url: self.url.clone(),
            failure,
        };
        let bad = |detail: String| fail(TsaFailure::BadReply(detail));
        let sent = |e: reqwest::Error| match e.is_timeout() {
            true => fail(TsaFailure::TimedOut),
            false => fail(TsaFailure::Unreachable(e.to_string())),
        };
        // Unique per request (RFC 3161 nonces guard against replay, not guessing).
        let nonce = {
            let mut h = Sha256::new();
            h.update(signature);
            h.update(Utc::now().timestamp_nanos_opt().unwrap_or(0).to_be_bytes());
            let d = h.finalize();
            u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) >> 1
        };
        let request = TimeStampReq {
            version: 1,
            message_imprint: sha256_imprint(signature)?,
            req_policy: None,
            nonce: Some(nonce),
            cert_req: true,
        }
        .to_der()?;
        let reply = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .body(request)
            .send()
            .map_err(sent)?;
        let status = reply.status();
        if !status.is_success() {
            return Err(fail(TsaFailure::Http(status.as_u16())));
        }
        let mut body = Vec::new();
        reply
            .take(MAX_REPLY + 1)
            .read_to_end(&mut body)
            .map_err(|e| fail(TsaFailure::Unreachable(e.to_string())))?;
        if body.len() as u64 > MAX_REPLY {
            return Err(bad(format!("the reply is larger than {MAX_REPLY} bytes")));
        }
        let reply = TimeStampResp::from_der(&body)
            .map_err(|e| bad(format!("the reply is not a time-stamp response: {e}")))?;
        // 0 granted, 1 granted with modifications (RFC 3161, 2.4.2).
        if reply.status.status > 1 {
            return Err(fail(TsaFailure::Refused {
                status: reply.status.status,
                said: reply.status.status_string.unwrap_or_default().join("; "),
            }));
        }
        let token = reply
            .time_stamp_token
            .ok_or_else(|| bad("the reply holds no token".into()))?
            .to_der()?;
        let read = read_token(&token).map_err(bad)?;
        if !read.covers(signature) {
            return Err(bad("the token is over another value".into()));
        }
        let ours = Int::new(&nonce.to_be_bytes()).ok();
        let same_nonce = match (&read.nonce, &ours) {
            (Some(theirs), Some(ours)) => trimmed(theirs.as_bytes()) == trimmed(ours.as_bytes()),
            _ => false,
        };
        if !same_nonce {
            return Err(bad("the token does not answer this request (nonce)".into()));
        }
        Ok(token)
    }
}

/// An INTEGER's bytes without leading zeros.
fn trimmed(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times_with_and_without_fractions() {
        let t = generalized_time(b"20261204093015Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-04T09:30:15+00:00");
        let t = generalized_time(b"20261204093015.25Z").unwrap();
        assert_eq!(t.timestamp_subsec_millis(), 250);
        assert!(generalized_time(b"20261204093015").is_none(), "UTC only");
        assert!(generalized_time(b"2026120409301Z").is_none());
    }

    #[test]
    fn a_request_is_der_with_the_sha256_imprint() {
        let req = TimeStampReq {
            version: 1,
            message_imprint: sha256_imprint(b"abc").unwrap(),
            req_policy: None,
            nonce: Some(5),
            cert_req: true,
        }
        .to_der()
        .unwrap();
        let back = TimeStampReq::from_der(&req).unwrap();
        assert_eq!(back.nonce, Some(5));
        assert!(back.cert_req);
        assert_eq!(
            back.message_imprint.hashed_message.as_bytes(),
            Sha256::digest(b"abc").as_slice()
        );
    }
}
