//! Verify: every signature of a PDF, checked as a validator would: the
//! `/ByteRange` covers all of the file but the signature value, the bytes it
//! covers have the digest the signature signed, the CMS signature is the
//! signer certificate's, the certificate chains up to a trust anchor and was
//! valid, and for signatures, at the signing time; and nothing was added
//! after the last signature.

use super::cert::{self, CertError, Identity};
use super::tsa;
use chrono::{DateTime, FixedOffset, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use lopdf::{Document, Object};
use rustls_pki_types::{CertificateDer, UnixTime};

use webpki::{EndEntityCert, KeyPurposeIdIter};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// One signature of a file and what its check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checked {
    /// The form field's name (`/T`), e.g. `Signature1`.
    pub field: String,
    /// Whom the signing certificate names, when it could be read.
    pub signer: Option<Identity>,
    /// The signing time the signature dictionary claims (`/M`).
    pub signed_at: Option<DateTime<FixedOffset>>,
    /// Whether the signed bytes run to the end of the file.
    pub whole_file: bool,
    /// The signature's time-stamp (PAdES B-T), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<TimeStamp>,
    /// Empty when the signature is valid.
    pub problems: Vec<Problem>,
}

impl Checked {
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A signature's time-stamp: the time a time-stamping authority certifies
/// the signature existed at, and who the authority is.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimeStamp {
    pub at: DateTime<Utc>,
    pub authority: Option<Identity>,
}

/// What is wrong with a signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum Problem {
    /// The signature dictionary or its CMS cannot be read.
    Malformed(String),
    /// The signed bytes are not those that were signed.
    Altered,
    /// The CMS signature is not the signer certificate's over its attributes.
    BadSignature,
    /// No path from the signer's certificate to a trust anchor.
    Untrusted(String),
    /// The certificate was expired, not yet valid, or not for signatures at
    /// the signing time.
    Certificate(String),
    /// Bytes after the last signature that no signature covers.
    ChangedAfterSigning,
    /// The signature's time-stamp token does not hold: what is wrong with it.
    TimeStamp(Box<Problem>),
    /// An algorithm sohoa cannot check (a digest, or a signature scheme or
    /// curve): the signature is neither found valid nor found broken.
    Unsupported(String),
}

impl Problem {
    /// Whether it says only that no trust anchor vouches for a certificate
    /// (the signer's or the time-stamping authority's): all a check without
    /// trust anchors can find wrong with a sound signature.
    pub fn is_untrusted(&self) -> bool {
        match self {
            Problem::Untrusted(_) => true,
            Problem::TimeStamp(p) => p.is_untrusted(),
            _ => false,
        }
    }
}

/// Trust anchors: DER certificates read from PEM files (`[sign] trust_anchors`).
pub fn read_anchors(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    let mut out = Vec::new();
    for path in paths {
        let before = out.len();
        for cert in
            CertificateDer::pem_file_iter(path).map_err(|e| format!("{}: {e}", path.display()))?
        {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            out.push(cert.to_vec());
        }
        if out.len() == before {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
    }
    Ok(out)
}

/// Checks every signature of `file` against `anchors`. An error is a file
/// that is not a readable PDF; a file without signatures gives none.
pub fn verify(file: &[u8], anchors: &[Vec<u8>]) -> Result<Vec<Checked>, String> {
    let doc = Document::load_mem(file).map_err(|e| format!("not a readable PDF: {e}"))?;
    // Field names by the signature dictionary they hold.
    let names: std::collections::HashMap<lopdf::ObjectId, String> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter_map(|d| {
            let v = d.get(b"V").and_then(Object::as_reference).ok()?;
            let t = d.get(b"T").and_then(Object::as_str).ok()?;
            Some((v, String::from_utf8_lossy(t).into_owned()))
        })
        .collect();
    let mut found: Vec<(usize, Checked)> = doc
        .objects
        .iter()
        .filter_map(|(id, o)| Some((id, o.as_dict().ok()?)))
        .filter(|(_, d)| d.has(b"ByteRange") && d.has(b"Contents"))
        .map(|(id, d)| {
            let field = names
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("{} {} R", id.0, id.1));
            check_one(file, d, field, anchors)
        })
        .collect();
    found.sort_by_key(|(end, _)| *end);
    if let Some((end, last)) = found.last_mut() {
        if *end != file.len() {
            last.problems.push(Problem::ChangedAfterSigning);
        }
    }
    Ok(found.into_iter().map(|(_, c)| c).collect())
}

/// One signature dictionary: where its signed bytes end, and its check.
fn check_one(
    file: &[u8],
    dict: &lopdf::Dictionary,
    field: String,
    anchors: &[Vec<u8>],
) -> (usize, Checked) {
    let signed_at = dict
        .get(b"M")
        .and_then(Object::as_str)
        .ok()
        .and_then(|s| parse_pdf_date(&String::from_utf8_lossy(s)));
    let mut checked = Checked {
        field,
        signer: None,
        signed_at,
        whole_file: false,
        time_stamp: None,
        problems: Vec::new(),
    };
    let ranges = match byte_range(file, dict) {
        Ok(r) => r,
        Err(e) => {
            checked.problems.push(Problem::Malformed(e));
            return (0, checked);
        }
    };
    let end = ranges[1].end;
    checked.whole_file = end == file.len();
    let signed = [&file[ranges[0].clone()], &file[ranges[1].clone()]];
    let contents = dict
        .get(b"Contents")
        .and_then(Object::as_str)
        .unwrap_or(&[]);
    let at = checked
        .signed_at
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    match check_cms(contents, &signed, at, anchors, &mut checked.problems) {
        Ok((who, stamp)) => {
            checked.signer = Some(who);
            checked.time_stamp = stamp;
        }
        Err(e) => checked.problems.push(Problem::Malformed(e)),
    }
    (end, checked)
}

/// The two signed ranges of `/ByteRange [0 a b c]`, checked: they start at
/// the file's start, stay inside it, and leave between them exactly the
/// `<…>` hex string of `/Contents`.
fn byte_range(
    file: &[u8],
    dict: &lopdf::Dictionary,
) -> Result<[std::ops::Range<usize>; 2], String> {
    let values: Vec<usize> = dict
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map_err(|_| "its /ByteRange is not an array".to_string())?
        .iter()
        .map(|v| v.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<_>>()
        .ok_or("its /ByteRange holds something other than offsets")?;
    let [start, len1, start2, len2] = values[..] else {
        return Err(format!(
            "its /ByteRange has {} numbers, not 4",
            values.len()
        ));
    };
    let end2 = start2.checked_add(len2).ok_or("its /ByteRange overflows")?;
    if start != 0 || len1 >= start2 || end2 > file.len() {
        return Err("its /ByteRange does not lie within the file".into());
    }
    let gap = &file[len1..start2];
    let hex_only = gap.len() >= 2
        && gap[0] == b'<'
        && gap[gap.len() - 1] == b'>'
        && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit);
    if !hex_only {
        return Err("its /ByteRange leaves out more than the signature value".into());
    }
    Ok([0..len1, start2..end2])
}

/// Checks the CMS of `contents` over the `signed` bytes, pushing what is wrong into
/// `problems`; returns the signer and the time-stamp. The certificate is
/// checked at the time-stamp's time when it holds, else at `at` (the claimed
/// time). An error is a CMS that cannot be read.
fn check_cms(
    contents: &[u8],
    signed_bytes: &[&[u8]],
    at: DateTime<Utc>,
    anchors: &[Vec<u8>],
    problems: &mut Vec<Problem>,
) -> Result<(Identity, Option<TimeStamp>), String> {
    // The value is padded with zeros to the room kept for it.
    let mut reader = der::SliceReader::new(contents).map_err(|e| e.to_string())?;
    let info = ContentInfo::decode(&mut reader).map_err(|e| format!("its CMS: {e}"))?;
    let signed = signed_data(&info, "its CMS")?;
    let signer_info = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or("its SignedData has no signer")?;
    let token = signer_info
        .unsigned_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .find(|a| a.oid == tsa::ID_SIGNATURE_TIME_STAMP_TOKEN)
        .and_then(|a| a.values.iter().next());
    let stamp = token.map(|t| check_time_stamp(t, signer_info.signature.as_bytes(), anchors));
    let at = match &stamp {
        Some(Ok(s)) => s.at,
        _ => at,
    };
    let who = check_signer(&signed, signed_bytes, at, anchors, AnyUsage, problems)?;
    let stamp = match stamp {
        Some(Ok(s)) => Some(s),
        Some(Err(p)) => {
            problems.push(Problem::TimeStamp(Box::new(p)));
            None
        }
        None => None,
    };
    Ok((who, stamp))
}

/// The `SignedData` a CMS `ContentInfo` holds; `what` names it in errors.
pub(crate) fn signed_data(info: &ContentInfo, what: &str) -> Result<SignedData, String> {
    if info.content_type != ID_SIGNED_DATA {
        return Err(format!("{what} is not SignedData"));
    }
    info.content
        .decode_as()
        .map_err(|e| format!("{what}: its SignedData: {e}"))
}

/// `id-kp-timeStamping` (RFC 3161, 2.3): the only purpose a TSA's certificate may have.
const TIME_STAMPING: webpki::KeyUsage =
    webpki::KeyUsage::required(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08]);

/// A time-stamp token over `signature`: over that value, signed by a
/// time-stamping certificate that chains to `anchors` at the token's time.
/// An error is the first thing found wrong.
fn check_time_stamp(
    token: &der::Any,
    signature: &[u8],
    anchors: &[Vec<u8>],
) -> Result<TimeStamp, Problem> {
    let der = token
        .to_der()
        .map_err(|e| Problem::Malformed(e.to_string()))?;
    let read = tsa::read_token(&der).map_err(Problem::Malformed)?;
    if !read.covers(signature) {
        return Err(Problem::Altered);
    }
    let mut problems = Vec::new();
    let authority = check_signer(
        &read.signed,
        &[&read.content],
        read.time,
        anchors,
        TIME_STAMPING,
        &mut problems,
    )
    .map_err(Problem::Malformed)?;
    match problems.into_iter().next() {
        Some(p) => Err(p),
        None => Ok(TimeStamp {
            at: read.time,
            authority: Some(authority),
        }),
    }
}

type Verifier = &'static dyn rustls_pki_types::SignatureVerificationAlgorithm;

/// What a CMS signature algorithm can be checked as (the key decides which
/// applies: an ECDSA OID names no curve); `rsaEncryption` takes the digest
/// algorithm's hash.
fn verifiers(signature: ObjectIdentifier, digest: ObjectIdentifier) -> Vec<Verifier> {
    use webpki::aws_lc_rs as a;
    let rsa_hash = match signature {
        o if o == RSA_ENCRYPTION => digest,
        o if o == SHA256_WITH_RSA => ID_SHA256,
        o if o == SHA384_WITH_RSA => ID_SHA384,
        o if o == SHA512_WITH_RSA => ID_SHA512,
        o if o == ECDSA_WITH_SHA256 => {
            return vec![
                a::ECDSA_P256_SHA256,
                a::ECDSA_P384_SHA256,
                a::ECDSA_P521_SHA256,
            ]
        }
        o if o == ECDSA_WITH_SHA384 => {
            return vec![
                a::ECDSA_P256_SHA384,
                a::ECDSA_P384_SHA384,
                a::ECDSA_P521_SHA384,
            ]
        }
        o if o == ECDSA_WITH_SHA512 => {
            return vec![
                a::ECDSA_P256_SHA512,
                a::ECDSA_P384_SHA512,
                a::ECDSA_P521_SHA512,
            ]
        }
        _ => return Vec::new(),
    };
    match rsa_hash {
        o if o == ID_SHA256 => vec![a::RSA_PKCS1_2048_8192_SHA256],
        o if o == ID_SHA384 => vec![a::RSA_PKCS1_2048_8192_SHA384],
        o if o == ID_SHA512 => vec![a::RSA_PKCS1_2048_8192_SHA512],
        _ => Vec::new(),
    }
}

/// Checks the signer of `signed` over `content` (the bytes it signs), its
/// certificate at `at` for `usage`, pushing what is wrong into `problems`;
/// returns the signer.
fn check_signer(
    signed: &SignedData,
    content: &[&[u8]],
    at: DateTime<Utc>,
    anchors: &[Vec<u8>],
    usage: impl webpki::ExtendedKeyUsageValidator,
    problems: &mut Vec<Problem>,
) -> Result<Identity, String> {
    let signer_info = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or("its SignedData has no signer")?;
    let certs: Vec<Vec<u8>> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            _ => None,
        })
        .collect();
    let leaf = certs
        .iter()
        .find(|der| identifies(&signer_info.sid, der))
        .ok_or("its SignedData lacks the signer's certificate")?;
    let who = cert::identity(leaf).map_err(|e| e.to_string())?;

    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or("its signer has no signed attributes")?;
    let message_digest = attrs
        .iter()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("its signed attributes lack the message digest")?;
    let digest_alg = signer_info.digest_alg.oid;
    match super::digest_of(digest_alg, content) {
        Some(d) if d != message_digest.as_bytes() => problems.push(Problem::Altered),
        Some(_) => {}
        None => problems.push(Problem::Unsupported(format!(
            "digest algorithm {digest_alg}"
        ))),
    }

    let leaf_der = CertificateDer::from(leaf.as_slice());
    let end_entity =
        EndEntityCert::try_from(&leaf_der).map_err(|e| format!("its certificate: {e}"))?;
    let signed_bytes = attrs.to_der().map_err(|e| e.to_string())?;
    let scheme = signer_info.signature_algorithm.oid;
    let value = signer_info.signature.as_bytes();
    let mut applies = false;
    let mut verified = false;
    for v in verifiers(scheme, digest_alg) {
        match end_entity.verify_signature(v, &signed_bytes, value) {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(webpki::Error::InvalidSignatureForPublicKey) => applies = true,
            // Another curve than the key's: the next one may be it.
            Err(_) => {}
        }
    }
    match (verified, applies) {
        (true, _) => {}
        (false, true) => problems.push(Problem::BadSignature),
        (false, false) => problems.push(Problem::Unsupported(format!(
            "signature algorithm {scheme} with the signer's key"
        ))),
    }

    match cert::check_signing(leaf, at) {
        Ok(_) => {}
        Err(
            e @ (CertError::Expired { .. }
            | CertError::NotYetValid { .. }
            | CertError::NotForSigning { .. }),
        ) => {
            problems.push(Problem::Certificate(e.to_string()));
        }
        Err(e) => return Err(e.to_string()),
    }
    if let Err(e) = chain_to_anchor(&leaf_der, &certs, at, anchors, usage) {
        problems.push(Problem::Untrusted(e));
    }
    Ok(who)
}

/// Whether `der` is the certificate `sid` names.
fn identifies(sid: &SignerIdentifier, der: &[u8]) -> bool {
    let Ok(cert) = Certificate::from_der(der) else {
        return false;
    };
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .get_extension::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    }
}

/// Why a certificate is untrusted, as `Problem::Untrusted` says it (and
/// `text` words it): no anchors at all, or none the chain reaches.
pub const NO_ANCHORS: &str = "no trust anchors are configured ([sign] trust_anchors)";
pub const NO_PATH: &str = "its certificate is not issued by a trusted authority";

/// Any extended key usage: a document signer's certificate may name
/// e-mail protection, client authentication, document signing, or nothing.
struct AnyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// A path from `leaf` through the certificates the signature carries up to
/// one of `anchors`, every certificate valid at `at`.
fn chain_to_anchor(
    leaf: &CertificateDer<'_>,
    carried: &[Vec<u8>],
    at: DateTime<Utc>,
    anchors: &[Vec<u8>],
    usage: impl webpki::ExtendedKeyUsageValidator,
) -> Result<(), String> {
    if anchors.is_empty() {
        return Err(NO_ANCHORS.into());
    }
    let anchor_ders: Vec<CertificateDer<'_>> = anchors
        .iter()
        .map(|a| CertificateDer::from(a.as_slice()))
        .collect();
    let trust: Vec<_> = anchor_ders
        .iter()
        .filter_map(|a| webpki::anchor_from_trusted_cert(a).ok())
        .collect();
    let intermediates: Vec<CertificateDer<'_>> = carried
        .iter()
        .filter(|c| c.as_slice() != leaf.as_ref())
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let end_entity = EndEntityCert::try_from(leaf).map_err(|e| e.to_string())?;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(at.timestamp()).unwrap_or(0),
    ));
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &trust,
            &intermediates,
            time,
            usage,
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            webpki::Error::UnknownIssuer => NO_PATH.into(),
            other => other.to_string(),
        })
}

/// `D:YYYYMMDDHHmmSS+HH'mm'`, or a shorter form (ISO 32000-1, 7.9.4).
fn parse_pdf_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 14 {
        return None;
    }
    let rest = &s[14..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let n: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = (
                n.get(0..2)?.parse::<i32>().ok()?,
                n.get(2..4).unwrap_or("00").parse::<i32>().ok()?,
            );
            let secs = h * 3600 + m * 60;
            FixedOffset::east_opt(if sign == '-' { -secs } else { secs })?
        }
        _ => FixedOffset::east_opt(0)?,
    };
    let naive = chrono::NaiveDateTime::parse_from_str(&digits[..14], "%Y%m%d%H%M%S").ok()?;
    naive.and_local_timezone(offset).single()
}
