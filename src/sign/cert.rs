//! The signing certificate: whom it names, and whether it may sign at a
//! given time (validity and key usage), checked before anything is signed.

use chrono::{DateTime, Utc};
use der::{asn1::ObjectIdentifier, Decode, Encode};
use thiserror::Error;
use x509_cert::ext::pkix::name::DirectoryString;
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// What a certificate says about its holder, as records and reports show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The subject's common name (the officer, or the agency), NFC.
    pub name: String,
    /// The whole subject, `CN=…, O=…, C=VN`, unescaped.
    pub subject: String,
    /// The serial number, upper-case hex.
    pub serial: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CertError {
    #[error("not an X.509 certificate: {0}")]
    Parse(String),
    #[error("the certificate of {name} is valid only from {from}")]
    NotYetValid { name: String, from: DateTime<Utc> },
    #[error("the certificate of {name} expired on {until}")]
    Expired { name: String, until: DateTime<Utc> },
    #[error("the certificate of {name} is not for digital signatures (its key usage has neither digitalSignature nor nonRepudiation)")]
    NotForSigning { name: String },
}

/// Reads the holder of a DER certificate.
pub fn identity(der: &[u8]) -> Result<Identity, CertError> {
    let cert = parse(der)?;
    let tbs = cert.tbs_certificate();
    let time = |t: &x509_cert::time::Time| {
        DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
            .unwrap_or_default()
    };
    let subject = tbs.subject();
    Ok(Identity {
        name: common_name(subject).unwrap_or_else(|| names(subject)),
        subject: names(subject),
        serial: hex::encode_upper(tbs.serial_number().as_bytes()),
        issuer: names(tbs.issuer()),
        not_before: time(&tbs.validity().not_before),
        not_after: time(&tbs.validity().not_after),
    })
}

/// The holder, if the certificate may make a signature at `at`: within its
/// validity, and with the digital-signature key usage (or no key usage
/// extension, which restricts nothing).
pub fn check_signing(der: &[u8], at: DateTime<Utc>) -> Result<Identity, CertError> {
    let who = identity(der)?;
    if at < who.not_before {
        return Err(CertError::NotYetValid {
            name: who.name,
            from: who.not_before,
        });
    }
    if at > who.not_after {
        return Err(CertError::Expired {
            name: who.name,
            until: who.not_after,
        });
    }
    let usage = parse(der)?
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|e| CertError::Parse(e.to_string()))?;
    // A document signer's certificate may have either (ETSI EN 319 412-2, 4.3.2:
    // nonRepudiation alone is the usual one for signing documents).
    if usage.is_some_and(|(_, u)| !u.digital_signature() && !u.non_repudiation()) {
        return Err(CertError::NotForSigning { name: who.name });
    }
    Ok(who)
}

pub(crate) fn parse(der: &[u8]) -> Result<Certificate, CertError> {
    Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))
}

/// The DER of the subject public key info, to match a private key.
pub(crate) fn public_key_der(der: &[u8]) -> Result<Vec<u8>, CertError> {
    parse(der)?
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| CertError::Parse(e.to_string()))
}

/// The subject's title (`T=`, the holder's position), if the certificate
/// carries one: the default position of the officer's block.
pub fn title(der: &[u8]) -> Option<String> {
    const TITLE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.12");
    let cert = parse(der).ok()?;
    let atv = cert
        .tbs_certificate()
        .subject()
        .iter()
        .find(|atv| atv.oid == TITLE)?;
    let value = DirectoryString::try_from(&atv.value).ok()?;
    Some(nfc(&value.value())).filter(|t| !t.trim().is_empty())
}

fn common_name(name: &Name) -> Option<String> {
    let cn = name.common_name().ok().flatten()?;
    Some(nfc(&cn.value()))
}

/// `CN=…, O=…` in the order written, with the values as they are (no
/// RFC 4514 escaping of Vietnamese letters).
fn names(name: &Name) -> String {
    name.iter()
        .map(|atv| {
            let value = DirectoryString::try_from(&atv.value)
                .map(|s| s.value().into_owned())
                .or_else(|_| {
                    atv.value
                        .decode_as::<der::asn1::Ia5String>()
                        .map(|s| s.to_string())
                })
                .unwrap_or_else(|_| hex::encode(atv.value.value()));
            format!("{}={}", label(&atv.oid), nfc(&value))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(oid: &ObjectIdentifier) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("2.5.4.3", "CN"),
        ("2.5.4.4", "SN"),
        ("2.5.4.42", "GN"),
        ("2.5.4.5", "SERIALNUMBER"),
        ("2.5.4.6", "C"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.10", "O"),
        ("2.5.4.11", "OU"),
        ("2.5.4.12", "T"),
        ("0.9.2342.19200300.100.1.1", "UID"),
        ("1.2.840.113549.1.9.1", "E"),
    ];
    let s = oid.to_string();
    KNOWN
        .iter()
        .find(|(o, _)| *o == s)
        .map_or(s.clone(), |(_, l)| l.to_string())
}

fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}
