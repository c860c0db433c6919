//! Sign: the officer's or the agency's digital signature on an archive copy.
//!
//! A [`Signer`] is where a private key is (a PKCS#12 file, a PKCS#11 token, a
//! remote signing service): it signs a SHA-256 digest and gives the
//! certificate chain. [`cms`] builds the CAdES detached signature (PAdES
//! baseline B-B) over a digest; [`cert`] checks the signing certificate
//! before anything is signed with it; [`keys`] opens the key of a file or
//! the one `[sign]` names; [`appearance`] lays out the visible block's text
//! with its font subset; [`pdf`] writes the signature as an incremental
//! update; [`tsa`] asks a time-stamping authority for a token (B-T);
//! [`verify`] checks the signatures of a file; [`copy`] makes the
//! officer's and the SAO Y copies and checks them; [`archive`] signs a
//! recorded document's file and records the signed form; [`text`] says a
//! signing error in the operator's language.

pub mod appearance;
pub mod archive;
pub mod cert;
pub mod cms;
pub mod copy;
pub mod keys;
pub mod pdf;
pub mod text;
pub mod token;
pub mod tsa;
pub mod verify;

use thiserror::Error;

/// The signature schemes sohoa produces (those of the Vietnamese government
/// CA's tokens and of OpenSSL's default keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaSha256,
    /// ECDSA on P-256 with SHA-256 (DER-encoded signature value).
    EcdsaP256Sha256,
}

/// What signs: the key, and the time-stamping authority whose token makes
/// the signature PAdES B-T (`[sign] tsa_url`; B-B without one).
#[derive(Clone, Copy)]
pub struct Signing<'a> {
    pub signer: &'a dyn Signer,
    pub tsa: Option<&'a tsa::Tsa>,
}

impl<'a> Signing<'a> {
    /// The key alone: PAdES B-B.
    pub fn key(signer: &'a dyn Signer) -> Signing<'a> {
        Signing { signer, tsa: None }
    }
}

/// A private key and its certificate chain.
pub trait Signer {
    /// DER certificates: the signer's first, then the CA certificates the key
    /// store or token holds.
    fn chain(&self) -> &[Vec<u8>];
    fn algorithm(&self) -> Algorithm;
    /// The signature value over a SHA-256 digest: PKCS#1 v1.5 bytes, or a
    /// DER `ECDSA-Sig-Value`.
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignError>;
}

#[derive(Debug, Error)]
pub enum SignError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The PKCS#12 password is wrong (the file's integrity check fails).
    #[error("wrong password for {0}")]
    WrongPassword(String),
    #[error("{path} is not a usable PKCS#12 key file: {detail}")]
    KeyFile { path: String, detail: String },
    #[error("unsupported key: {0} (RSA or ECDSA P-256 keys are supported)")]
    UnsupportedKey(String),
    #[error("the key does not belong to the certificate {0}")]
    KeyMismatch(String),
    #[error(transparent)]
    Certificate(#[from] cert::CertError),
    /// The font of the visible block cannot be read or lacks a character.
    #[error("font {path}: {detail}")]
    Font { path: String, detail: String },
    /// The PDF to sign cannot be read or updated.
    #[error("cannot sign {path}: {detail}")]
    Pdf { path: String, detail: String },
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("cannot encode the signature: {0}")]
    Encode(String),
    /// The PKCS#11 module (the token's driver, a `.so`) cannot be loaded or
    /// does not initialise.
    #[error("cannot load the PKCS#11 module {path}: {detail}")]
    Pkcs11Module { path: String, detail: String },
    /// No token with this label is plugged in; `present` are the labels of
    /// those that are.
    #[error("no token labelled \"{label}\" is plugged in (tokens present: {})", token::listed(.present))]
    TokenNotFound { label: String, present: Vec<String> },
    /// The token refused the PIN (`CKR_PIN_INCORRECT`). Never retried: every
    /// wrong try brings the token closer to locking the PIN.
    #[error("wrong PIN for the token \"{token}\"")]
    WrongPin { token: String },
    /// The token's PIN is locked after too many wrong tries (`CKR_PIN_LOCKED`).
    #[error("the PIN of the token \"{token}\" is locked after too many wrong tries")]
    PinLocked { token: String },
    /// No private key for signing (with the label asked for, if one was);
    /// `present` are the labels of the keys the token holds.
    #[error("the token \"{token}\" holds no private key{} for signing (keys present: {})", token::labelled(.label), token::listed(.present))]
    KeyNotFound {
        token: String,
        label: Option<String>,
        present: Vec<String>,
    },
    /// Several private keys and no label to choose one by.
    #[error("the token \"{token}\" holds several private keys ({}); choose one by its label", token::listed(.labels))]
    KeyAmbiguous { token: String, labels: Vec<String> },
    /// The token holds no certificate for the key (`key` is its label).
    #[error("the token \"{token}\" holds no certificate for the key \"{key}\"")]
    CertificateNotFound { token: String, key: String },
    /// The token went away or stopped answering while in use (unplugged:
    /// `CKR_DEVICE_REMOVED`, `CKR_TOKEN_NOT_PRESENT`, the session or the key
    /// gone, the login lost); `detail` names the PKCS#11 call and code.
    #[error("the token \"{token}\" was removed or stopped answering ({detail})")]
    TokenRemoved { token: String, detail: String },
    /// Any other failure of the token or its module.
    #[error("token error: {0}")]
    Token(String),
    /// No key is named: neither a PKCS#12 file nor a PKCS#11 module.
    #[error("no signing key: give --pkcs12 FILE, or --pkcs11-module LIB --token-label LABEL (or [sign] in the config)")]
    NoKey,
    /// Both a PKCS#12 file and a PKCS#11 module are named.
    #[error("both a PKCS#12 file and a PKCS#11 module are given; choose one")]
    TwoKeys,
    /// A PKCS#11 module is named without the token's label.
    #[error("a PKCS#11 module needs the token's label (--token-label)")]
    NoTokenLabel,
    /// The password or PIN was not given and cannot be asked for (no terminal).
    #[error("the {} is needed: give it in a file (--{}-file) or in {env}", if *.pin { "PIN" } else { "password" }, if *.pin { "pin" } else { "password" })]
    NoSecret {
        /// The token's PIN (else a key file's password).
        pin: bool,
        env: &'static str,
    },
    /// The archive file to sign is not the one recorded (its SHA-256 differs).
    #[error("{path} is not the file recorded (its SHA-256 differs); it was changed or replaced outside sohoa")]
    ArchiveChanged { path: String },
    /// The time-stamping authority gave no usable token (unreachable,
    /// refused, or a reply that is not over this signature).
    #[error("no time-stamp from {url} ([sign] tsa_url): {failure}")]
    TimeStamp {
        url: String,
        failure: tsa::TsaFailure,
    },
    /// The signed file did not pass the check made right after signing.
    #[error("the signed copy of {path} does not verify: {}", text::problems(.problems))]
    SelfCheck {
        path: String,
        problems: Vec<verify::Problem>,
    },
}

impl SignError {
    /// Whether the key itself failed (a wrong PIN, the token removed or
    /// failing), so that nothing more can be signed in this run; other errors
    /// are the one document's.
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            SignError::WrongPin { .. }
                | SignError::PinLocked { .. }
                | SignError::TokenRemoved { .. }
                | SignError::Token(_)
                | SignError::Signing(_)
                | SignError::TimeStamp { .. }
        )
    }
}

/// The digest of `parts` by the algorithm `oid` names (SHA-256, -384, -512).
pub(crate) fn digest_of(oid: der::asn1::ObjectIdentifier, parts: &[&[u8]]) -> Option<Vec<u8>> {
    use sha2::Digest;
    const ID_SHA256: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    const ID_SHA384: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    const ID_SHA512: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match oid {
        o if o == ID_SHA256 => Some(run::<sha2::Sha256>(parts)),
        o if o == ID_SHA384 => Some(run::<sha2::Sha384>(parts)),
        o if o == ID_SHA512 => Some(run::<sha2::Sha512>(parts)),
        _ => None,
    }
}

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        SignError::Encode(e.to_string())
    }
}

#[cfg(test)]
pub(crate) mod test_pki;
#[cfg(test)]
mod tests;
