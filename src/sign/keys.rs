//! Private keys in files: a PKCS#12 store (`.p12`, `.pfx`), as OpenSSL 3
//! writes it by default (PBES2, AES-256, HMAC-SHA-256) or in the legacy form
//! (3DES) older tools and CAs still hand out.

use super::{cert, Algorithm, SignError, Signer};
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::hazmat::PrehashSigner;
use rsa::signature::SignatureEncoding;
use std::path::Path;

enum Key {
    Rsa(rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>),
    P256(p256::ecdsa::SigningKey),
}

/// A key read from a file, and its certificate chain.
pub struct FileSigner {
    chain: Vec<Vec<u8>>,
    key: Key,
}

impl FileSigner {
    /// Opens a PKCS#12 file with its password. The key must be the one of
    /// the store's first certificate.
    pub fn open_pkcs12(path: &Path, password: &str) -> Result<FileSigner, SignError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|source| SignError::Read {
            path: shown.clone(),
            source,
        })?;
        let store = KeyStore::from_pkcs12(&data, password, Pkcs12ImportPolicy::Strict).map_err(
            |e| match e {
                p12_keystore::error::Error::MacError(_) => SignError::WrongPassword(shown.clone()),
                other => SignError::KeyFile {
                    path: shown.clone(),
                    detail: other.to_string(),
                },
            },
        )?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| SignError::KeyFile {
                path: shown.clone(),
                detail: "no private key with its certificate".into(),
            })?;
        let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        let leaf = certs.first().ok_or_else(|| SignError::KeyFile {
            path: shown.clone(),
            detail: "no certificate for the private key".into(),
        })?;
        let key = read_key(chain.key().as_der())?;
        if key_public_der(&key)? != cert::public_key_der(leaf)? {
            return Err(SignError::KeyMismatch(cert::identity(leaf)?.subject));
        }
        Ok(FileSigner { chain: certs, key })
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";

fn read_key(pkcs8: &[u8]) -> Result<Key, SignError> {
    let unreadable = || SignError::UnsupportedKey("unreadable".into());
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8).map_err(|_| unreadable())?;
    let algorithm = info.algorithm.oid.to_string();
    let curve = info
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    match (algorithm.as_str(), curve.as_deref()) {
        (RSA_ENCRYPTION, _) => rsa::PrivateKey::from_pkcs8_der(pkcs8)
            .map(|k| Key::Rsa(rsa::pkcs1v15::SigningKey::new(k)))
            .map_err(|_| unreadable()),
        (EC_PUBLIC_KEY, Some(P256)) => p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8)
            .map(Key::P256)
            .map_err(|_| unreadable()),
        (a, c) => Err(SignError::UnsupportedKey(key_kind(a, c))),
    }
}

/// A key algorithm sohoa does not sign with, as a user knows it.
pub(crate) fn key_kind(algorithm: &str, curve: Option<&str>) -> String {
    match (algorithm, curve) {
        (EC_PUBLIC_KEY, Some(c)) => format!("ECDSA {}", curve_name(c)),
        ("1.2.840.113549.1.1.10", _) => "RSA-PSS".into(),
        ("1.3.101.112", _) => "Ed25519".into(),
        ("1.3.101.113", _) => "Ed448".into(),
        (other, _) => other.to_string(),
    }
}

/// An elliptic curve's name, by its OID.
pub(crate) fn curve_name(oid: &str) -> String {
    match oid {
        P256 => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".into(),
        other => format!("curve {other}"),
    }
}

fn key_public_der(key: &Key) -> Result<Vec<u8>, SignError> {
    let doc = match key {
        Key::Rsa(k) => rsa::PublicKey::from(k.as_ref()).to_public_key_der(),
        Key::P256(k) => k.verifying_key().to_public_key_der(),
    };
    doc.map(|d| d.as_bytes().to_vec())
        .map_err(|e| SignError::Encode(e.to_string()))
}

impl Signer for FileSigner {
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn algorithm(&self) -> Algorithm {
        match self.key {
            Key::Rsa(_) => Algorithm::RsaSha256,
            Key::P256(_) => Algorithm::EcdsaP256Sha256,
        }
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        let failed = |e: rsa::signature::Error| SignError::Signing(e.to_string());
        match &self.key {
            Key::Rsa(k) => k.sign_prehash(digest).map(|s| s.to_vec()).map_err(failed),
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(digest).map_err(failed)?;
                Ok(s.to_der().to_vec())
            }
        }
    }
}

/// A secret a key needs before it can sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret<'a> {
    /// The password of a PKCS#12 file.
    Password { file: &'a Path },
    /// The user PIN of a token.
    Pin { token: &'a str },
}

impl Secret<'_> {
    /// The environment variable that may hold it.
    pub fn env(&self) -> &'static str {
        match self {
            Secret::Password { .. } => "SOHOA_SIGN_PASSWORD",
            Secret::Pin { .. } => "SOHOA_SIGN_PIN",
        }
    }
}

/// Asks the operator for a secret (at a terminal); `None` when it cannot be asked.
pub type Ask<'a> = Option<&'a dyn Fn(Secret) -> Result<String, SignError>>;

/// Opens the key `[sign]` names (`pkcs12`, or `pkcs11_module` with
/// `token_label`). The password or PIN comes from its file
/// (`password_file`, `pin_file`; the end of line is not part of it), else
/// from its environment variable, else from `ask`. A token is logged in to
/// once, here: a wrong PIN is never tried again.
pub fn open_configured(
    s: &crate::config::SignSettings,
    ask: Ask,
) -> Result<Box<dyn Signer>, SignError> {
    let secret = |file: &Option<std::path::PathBuf>, what: Secret| -> Result<String, SignError> {
        if let Some(f) = file {
            let text = std::fs::read_to_string(f).map_err(|source| SignError::Read {
                path: f.display().to_string(),
                source,
            })?;
            return Ok(text
                .strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text)
                .to_string());
        }
        if let Ok(v) = std::env::var(what.env()) {
            return Ok(v);
        }
        match ask {
            Some(ask) => ask(what),
            None => Err(SignError::NoSecret {
                pin: matches!(what, Secret::Pin { .. }),
                env: what.env(),
            }),
        }
    };
    match (&s.pkcs12, &s.pkcs11_module) {
        (Some(_), Some(_)) => Err(SignError::TwoKeys),
        (Some(file), None) => {
            let password = secret(&s.password_file, Secret::Password { file })?;
            Ok(Box::new(FileSigner::open_pkcs12(file, &password)?))
        }
        (None, Some(module)) => {
            let token = s.token_label.as_deref().ok_or(SignError::NoTokenLabel)?;
            let pin = secret(&s.pin_file, Secret::Pin { token })?;
            Ok(Box::new(super::token::TokenSigner::open(
                module,
                token,
                s.key_label.as_deref(),
                &pin,
            )?))
        }
        (None, None) => Err(SignError::NoKey),
    }
}
