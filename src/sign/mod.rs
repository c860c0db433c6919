//! Sign: the officer's or the agency's digital signature on an archive copy.
//!
//! A [`Signer`] is where a private key is (a PKCS#12 file, a PKCS#11 token, a
//! remote signing service): it signs a SHA-256 digest and gives the
//! certificate chain. [`cms`] builds the CAdES detached signature (PAdES
//! baseline B-B) over a digest; [`cert`] checks the signing certificate
//! before anything is signed with it; [`keys`] opens the key of a file;
//! [`appearance`] lays out the visible block's text with its font subset.

pub mod appearance;
pub mod cert;
pub mod cms;
pub mod keys;

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
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("cannot encode the signature: {0}")]
    Encode(String),
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
