//! Keys on a PKCS#11 token: the USB tokens the Vietnamese CAs hand out, an
//! HSM, or SoftHSM2 in the tests, reached through the token's module (its
//! driver, a `.so`) with the `cryptoki` crate.
//!
//! [`TokenSigner::open`] loads the module, finds the token by its label, logs
//! in as the user with the PIN (once: a wrong PIN is never tried again, as
//! each wrong try brings the token closer to locking itself), chooses the
//! private key and its certificate and checks that they belong together.
//! The key stays on the token; each signature is one `C_Sign` call.
//!
//! A module is loaded and `C_Initialize`d once per process and stays so until
//! the process ends: PKCS#11 state is per process, not per caller (a second
//! `C_Initialize` fails, a `C_Finalize` would close every signer's session).
//! A signer's session is closed when it is dropped; the token forgets the
//! login when the process's last session on it closes. The login belongs to
//! the process, too: while one signer is open on a token, another one opened
//! on the same token finds the user already logged in, and the token does
//! not check its PIN again.

use super::{cert, Algorithm, SignError, Signer};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::asn1::{ObjectIdentifier, OctetString, UintRef};
use der::{Decode, Sequence};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The DER `DigestInfo` of a SHA-256 digest up to the digest itself: what
/// `CKM_RSA_PKCS` pads and signs (RFC 8017, 9.2).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// `RSAPublicKey` (RFC 8017, A.1.1), inside a certificate's public key.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A private key on a token, its certificate and the CA certificates the
/// token holds, with a logged-in session to sign with.
///
/// Used from one thread at a time (a PKCS#11 session is not `Sync`).
pub struct TokenSigner {
    session: Session,
    key: ObjectHandle,
    algorithm: Algorithm,
    chain: Vec<Vec<u8>>,
    token: String,
    key_label: String,
}

impl TokenSigner {
    /// Opens the token whose label is `token_label` in `module` (the path of
    /// a PKCS#11 `.so`), logs in as the user with `pin` (one try), finds the
    /// private key for signing (the one labelled `key_label` if given, else
    /// the only one: several without a label are an error listing their
    /// labels), its certificate (the X.509 certificate with the key's
    /// `CKA_ID`, else with its label, else whose public key is the key's),
    /// and the token's other certificates (its CA certificates; those of the
    /// token's other keys are left out) as the rest of the chain.
    ///
    /// The key must be the certificate's: for RSA the modulus and exponent,
    /// for ECDSA P-256 the public point (`CKA_EC_POINT` of the public key
    /// object with the key's `CKA_ID`) must be the certificate's. When the
    /// token shows neither (no public key object, attributes withheld), one
    /// test signature is made and checked with the certificate's key.
    pub fn open(
        module: &Path,
        token_label: &str,
        key_label: Option<&str>,
        pin: &str,
    ) -> Result<TokenSigner, SignError> {
        let ctx = load(module)?;
        let token = token_label.to_string();
        let slot = find_token(&ctx, token_label)?;
        let session = ctx.open_ro_session(slot).map_err(|e| failure(&token, e))?;
        login(&session, &token, pin)?;
        let objects = Objects {
            session: &session,
            token: &token,
        };
        let key = objects.signing_key(key_label)?;
        let algorithm = key.algorithm()?;
        let certs = objects.certificates()?;
        let public = objects.public_key(&key)?;

        // The certificate: by CKA_ID, else by label, else by public key.
        let named = certs
            .iter()
            .position(|c| !key.id.is_empty() && c.id == key.id)
            .or_else(|| {
                certs
                    .iter()
                    .position(|c| !key.label.is_empty() && c.label == key.label)
            });
        let leaf = match named {
            Some(i) => i,
            None => certs
                .iter()
                .position(|c| matches!(key_matches(&key, &public, &c.der), Ok(Some(true))))
                .ok_or_else(|| SignError::CertificateNotFound {
                    token: token.clone(),
                    key: key.label.clone(),
                })?,
        };
        let leaf_der = &certs[leaf].der;
        let matched = match key_matches(&key, &public, leaf_der)? {
            Some(m) => m,
            None => objects.test_signature(&key, algorithm, leaf_der)?,
        };
        if !matched {
            return Err(SignError::KeyMismatch(cert::identity(leaf_der)?.subject));
        }

        // The rest of the chain: the certificates of no private key on the token.
        let key_ids = objects.private_key_ids()?;
        let mut chain = vec![leaf_der.clone()];
        for (i, c) in certs.iter().enumerate() {
            let others_key = !c.id.is_empty() && key_ids.contains(&c.id);
            if i != leaf && !others_key && !chain.contains(&c.der) {
                chain.push(c.der.clone());
            }
        }
        let key_handle = key.handle;
        let key_label = key.label;
        Ok(TokenSigner {
            session,
            key: key_handle,
            algorithm,
            chain,
            token,
            key_label,
        })
    }

    /// The label of the token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The label of the key signing (`CKA_LABEL`, empty if it has none).
    pub fn key_label(&self) -> &str {
        &self.key_label
    }
}

impl Signer for TokenSigner {
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        sign(&self.session, &self.token, self.key, self.algorithm, digest)
    }
}

/// One signature over a SHA-256 digest: PKCS#1 v1.5 over its `DigestInfo`,
/// or ECDSA turned from the token's `r || s` into a DER `ECDSA-Sig-Value`.
fn sign(
    session: &Session,
    token: &str,
    key: ObjectHandle,
    algorithm: Algorithm,
    digest: &[u8; 32],
) -> Result<Vec<u8>, SignError> {
    match algorithm {
        Algorithm::RsaSha256 => {
            let mut info = SHA256_DIGEST_INFO.to_vec();
            info.extend_from_slice(digest);
            session
                .sign(&Mechanism::RsaPkcs, key, &info)
                .map_err(|e| failure(token, e))
        }
        Algorithm::EcdsaP256Sha256 => {
            let rs = session
                .sign(&Mechanism::Ecdsa, key, digest)
                .map_err(|e| failure(token, e))?;
            let signature = p256::ecdsa::Signature::from_slice(&rs).map_err(|e| {
                SignError::Signing(format!(
                    "the token \"{token}\" returned {} bytes, not an ECDSA P-256 r || s: {e}",
                    rs.len()
                ))
            })?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
    }
}

/// The module at `path`, loaded and initialised once per process.
fn load(path: &Path) -> Result<Pkcs11, SignError> {
    static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| *p == key) {
        return Ok(ctx.clone());
    }
    let failed = |detail: String| SignError::Pkcs11Module {
        path: path.display().to_string(),
        detail,
    };
    let ctx = Pkcs11::new(&key).map_err(|e| failed(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Initialised by another part of the process (another path to the same module).
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(describe(&e))),
    }
    modules.push((key, ctx.clone()));
    Ok(ctx)
}

/// The slot of the one token labelled `label`.
fn find_token(ctx: &Pkcs11, label: &str) -> Result<Slot, SignError> {
    let fail = |e| failure(label, e);
    let mut present = Vec::new();
    let mut found = Vec::new();
    for slot in ctx.get_slots_with_token().map_err(fail)? {
        let info = match ctx.get_token_info(slot) {
            Ok(info) => info,
            // Unplugged since the slot list was read, or in a state where it does
            // not say who it is (SoftHSM2 answers CKR_GENERAL_ERROR for a token
            // deleted while loaded): not the token to sign with either way.
            Err(e) => {
                tracing::debug!("PKCS#11 slot {slot}: {}", describe(&e));
                continue;
            }
        };
        // An uninitialised token (SoftHSM2's free slot) has no label to list.
        if !info.token_initialized() {
            continue;
        }
        if info.label() == label {
            found.push(slot);
        }
        present.push(info.label().to_string());
    }
    present.sort();
    match found[..] {
        [slot] => Ok(slot),
        [] => Err(SignError::TokenNotFound {
            label: label.into(),
            present,
        }),
        _ => Err(SignError::Token(format!(
            "{} tokens are labelled \"{label}\"; leave only the one to sign with plugged in",
            found.len()
        ))),
    }
}

/// Logs in as the user, once.
fn login(session: &Session, token: &str, pin: &str) -> Result<(), SignError> {
    let pin = AuthPin::from(pin);
    match session.login(UserType::User, Some(&pin)) {
        // Another signer of this process is logged in to the token.
        Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(failure(token, e)),
    }
}

/// A private key found on the token.
struct Key {
    handle: ObjectHandle,
    label: String,
    id: Vec<u8>,
    key_type: Option<KeyType>,
    ec_params: Option<Vec<u8>>,
    modulus: Option<Vec<u8>>,
    exponent: Option<Vec<u8>>,
}

impl Key {
    fn algorithm(&self) -> Result<Algorithm, SignError> {
        match self.key_type {
            Some(KeyType::RSA) => Ok(Algorithm::RsaSha256),
            Some(KeyType::EC) => match &self.ec_params {
                Some(p) if is_p256(p) => Ok(Algorithm::EcdsaP256Sha256),
                Some(p) => Err(SignError::UnsupportedKey(format!(
                    "ECDSA {} (\"{}\")",
                    ObjectIdentifier::from_der(p).map_or_else(
                        |_| hex::encode(p),
                        |o: ObjectIdentifier| super::keys::curve_name(&o.to_string())
                    ),
                    self.label,
                ))),
                None => Err(SignError::UnsupportedKey(format!(
                    "EC key \"{}\" of unknown curve",
                    self.label
                ))),
            },
            Some(other) => Err(SignError::UnsupportedKey(format!(
                "{other} key \"{}\"",
                self.label
            ))),
            None => Err(SignError::UnsupportedKey(format!(
                "key \"{}\" of unknown type",
                self.label
            ))),
        }
    }
}

/// A certificate found on the token.
struct TokenCert {
    id: Vec<u8>,
    label: String,
    der: Vec<u8>,
}

/// What the token shows of a key's public half (from the private key
/// object's attributes or its public key object).
#[derive(Default)]
struct Public {
    modulus: Option<Vec<u8>>,
    exponent: Option<Vec<u8>>,
    ec_point: Option<Vec<u8>>,
}

/// Object searches in a logged-in session.
struct Objects<'a> {
    session: &'a Session,
    token: &'a str,
}

impl Objects<'_> {
    fn fail(&self, e: P11Error) -> SignError {
        failure(self.token, e)
    }

    fn find(&self, template: &[Attribute]) -> Result<Vec<ObjectHandle>, SignError> {
        self.session
            .find_objects(template)
            .map_err(|e| self.fail(e))
    }

    fn attributes(
        &self,
        object: ObjectHandle,
        types: &[AttributeType],
    ) -> Result<Vec<Attribute>, SignError> {
        self.session
            .get_attributes(object, types)
            .map_err(|e| self.fail(e))
    }

    /// The private keys that may sign (`CKA_SIGN` not false).
    fn private_keys(&self) -> Result<Vec<Key>, SignError> {
        let mut keys = Vec::new();
        for handle in self.find(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])? {
            let mut key = Key {
                handle,
                label: String::new(),
                id: Vec::new(),
                key_type: None,
                ec_params: None,
                modulus: None,
                exponent: None,
            };
            let (mut can_sign, mut always_authenticate) = (true, false);
            let types = [
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::KeyType,
                AttributeType::Sign,
                AttributeType::AlwaysAuthenticate,
                AttributeType::EcParams,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ];
            for attribute in self.attributes(handle, &types)? {
                match attribute {
                    Attribute::Label(l) => key.label = String::from_utf8_lossy(&l).into_owned(),
                    Attribute::Id(id) => key.id = id,
                    Attribute::KeyType(t) => key.key_type = Some(t),
                    Attribute::Sign(s) => can_sign = s,
                    Attribute::AlwaysAuthenticate(a) => always_authenticate = a,
                    Attribute::EcParams(p) => key.ec_params = Some(p),
                    Attribute::Modulus(m) => key.modulus = Some(m),
                    Attribute::PublicExponent(e) => key.exponent = Some(e),
                    _ => {}
                }
            }
            if always_authenticate {
                // A PIN at every signature (C_Login as CKU_CONTEXT_SPECIFIC between
                // C_SignInit and C_Sign), which cryptoki's one-call sign cannot do.
                return Err(SignError::UnsupportedKey(format!(
                    "key \"{}\" asks for the PIN at every signature (CKA_ALWAYS_AUTHENTICATE)",
                    key.label
                )));
            }
            if can_sign {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// The key labelled `label`, or the only key.
    fn signing_key(&self, label: Option<&str>) -> Result<Key, SignError> {
        let keys = self.private_keys()?;
        let labels = || {
            let mut labels: Vec<String> = keys.iter().map(|k| k.label.clone()).collect();
            labels.sort();
            labels
        };
        let count = match label {
            Some(l) => keys.iter().filter(|k| k.label == l).count(),
            None => keys.len(),
        };
        match (count, label) {
            (1, _) => {}
            (0, _) => {
                return Err(SignError::KeyNotFound {
                    token: self.token.into(),
                    label: label.map(String::from),
                    present: labels(),
                })
            }
            (_, None) => {
                // Several keys, one with its certificate (an old key left on the
                // token, say): that one signs.
                let certs = self.certificates()?;
                let has_cert = |k: &Key| !k.id.is_empty() && certs.iter().any(|c| c.id == k.id);
                if keys.iter().filter(|k| has_cert(k)).count() == 1 {
                    let labels = labels();
                    return keys
                        .into_iter()
                        .find(has_cert)
                        .ok_or(SignError::KeyAmbiguous {
                            token: self.token.into(),
                            labels,
                        });
                }
                return Err(SignError::KeyAmbiguous {
                    token: self.token.into(),
                    labels: labels(),
                });
            }
            (n, Some(l)) => {
                return Err(SignError::Token(format!(
                    "the token \"{}\" holds {n} private keys labelled \"{l}\"",
                    self.token
                )))
            }
        }
        Ok(keys
            .into_iter()
            .find(|k| label.is_none_or(|l| k.label == l))
            .expect("counted above"))
    }

    /// The `CKA_ID`s of the token's private keys (signing or not).
    fn private_key_ids(&self) -> Result<Vec<Vec<u8>>, SignError> {
        let mut ids = Vec::new();
        for handle in self.find(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])? {
            for attribute in self.attributes(handle, &[AttributeType::Id])? {
                if let Attribute::Id(id) = attribute {
                    if !id.is_empty() {
                        ids.push(id);
                    }
                }
            }
        }
        Ok(ids)
    }

    /// The token's X.509 certificates, in the token's order.
    fn certificates(&self) -> Result<Vec<TokenCert>, SignError> {
        let template = [
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
        ];
        let mut certs = Vec::new();
        for handle in self.find(&template)? {
            let mut c = TokenCert {
                id: Vec::new(),
                label: String::new(),
                der: Vec::new(),
            };
            let types = [
                AttributeType::Id,
                AttributeType::Label,
                AttributeType::Value,
            ];
            for attribute in self.attributes(handle, &types)? {
                match attribute {
                    Attribute::Id(id) => c.id = id,
                    Attribute::Label(l) => c.label = String::from_utf8_lossy(&l).into_owned(),
                    Attribute::Value(v) => c.der = v,
                    _ => {}
                }
            }
            if !c.der.is_empty() {
                certs.push(c);
            }
        }
        Ok(certs)
    }

    /// The public half as the token shows it: the private key's modulus and
    /// exponent, else those of the public key object with the key's
    /// `CKA_ID`, and that object's EC point.
    fn public_key(&self, key: &Key) -> Result<Public, SignError> {
        let mut public = Public {
            modulus: key.modulus.clone(),
            exponent: key.exponent.clone(),
            ec_point: None,
        };
        if key.id.is_empty() {
            return Ok(public);
        }
        let template = [
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Id(key.id.clone()),
        ];
        // With several public keys of that CKA_ID, the first is as good a guess as
        // any: a wrong one shows as a mismatch, not as a wrong signature.
        if let Some(&handle) = self.find(&template)?.first() {
            let types = [
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::EcPoint,
            ];
            for attribute in self.attributes(handle, &types)? {
                match attribute {
                    Attribute::Modulus(m) if public.modulus.is_none() => public.modulus = Some(m),
                    Attribute::PublicExponent(e) if public.exponent.is_none() => {
                        public.exponent = Some(e)
                    }
                    Attribute::EcPoint(p) => public.ec_point = Some(p),
                    _ => {}
                }
            }
        }
        Ok(public)
    }

    /// Whether a signature the key makes verifies with the certificate's
    /// public key (when the token does not show the key's public half).
    fn test_signature(
        &self,
        key: &Key,
        algorithm: Algorithm,
        leaf: &[u8],
    ) -> Result<bool, SignError> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use rsa::pkcs8::DecodePublicKey;
        let digest: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(b"sohoa: does this key belong to this certificate?").into()
        };
        let signature = sign(self.session, self.token, key.handle, algorithm, &digest)?;
        let spki = cert::public_key_der(leaf)?;
        Ok(match algorithm {
            Algorithm::RsaSha256 => {
                let Ok(public) = rsa::PublicKey::from_public_key_der(&spki) else {
                    return Ok(false);
                };
                let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public);
                rsa::pkcs1v15::Signature::try_from(signature.as_slice())
                    .is_ok_and(|s| verifier.verify_prehash(&digest, &s).is_ok())
            }
            Algorithm::EcdsaP256Sha256 => {
                let Ok(verifier) = p256::ecdsa::VerifyingKey::from_public_key_der(&spki) else {
                    return Ok(false);
                };
                p256::ecdsa::Signature::from_der(&signature)
                    .is_ok_and(|s| verifier.verify_prehash(&digest, &s).is_ok())
            }
        })
    }
}

/// Whether the certificate's public key is the key's: `Some(false)` for a
/// certificate of another key type or curve or with other values, `None`
/// when the token shows too little of the key to tell.
fn key_matches(key: &Key, public: &Public, leaf: &[u8]) -> Result<Option<bool>, SignError> {
    let certificate = cert::parse(leaf)?;
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let cert_key = spki.subject_public_key.raw_bytes();
    let parse = |e: der::Error| SignError::Certificate(cert::CertError::Parse(e.to_string()));
    match key.key_type {
        Some(KeyType::RSA) => {
            if spki.algorithm.oid != RSA_ENCRYPTION {
                return Ok(Some(false));
            }
            let (Some(n), Some(e)) = (&public.modulus, &public.exponent) else {
                return Ok(None);
            };
            let theirs = RsaPublicKey::from_der(cert_key).map_err(parse)?;
            Ok(Some(
                unsigned(n) == theirs.modulus.as_bytes()
                    && unsigned(e) == theirs.public_exponent.as_bytes(),
            ))
        }
        Some(KeyType::EC) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(PRIME256V1) {
                return Ok(Some(false));
            }
            Ok(public
                .ec_point
                .as_deref()
                .and_then(ec_point)
                .map(|point| point == cert_key))
        }
        _ => Ok(Some(false)),
    }
}

/// A big-endian unsigned integer without its leading zero bytes.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The uncompressed point of a `CKA_EC_POINT`: a DER OCTET STRING as the
/// standard says, or the bare point as some tokens give it.
fn ec_point(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() == 65 && value[0] == 0x04 {
        return Some(value.to_vec());
    }
    OctetString::from_der(value)
        .ok()
        .map(|o| o.as_bytes().to_vec())
        .filter(|p| p.len() == 65 && p[0] == 0x04)
}

/// Whether `CKA_EC_PARAMS` names P-256 (`prime256v1`).
fn is_p256(params: &[u8]) -> bool {
    ObjectIdentifier::from_der(params).is_ok_and(|oid| oid == PRIME256V1)
}

/// The `SignError` of a PKCS#11 failure on the token labelled `token`.
fn failure(token: &str, e: P11Error) -> SignError {
    let token = token.to_string();
    match &e {
        P11Error::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect | RvError::PinLenRange | RvError::PinInvalid => {
                SignError::WrongPin { token }
            }
            RvError::PinLocked => SignError::PinLocked { token },
            RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::SlotIdInvalid
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceError
            | RvError::KeyHandleInvalid
            | RvError::ObjectHandleInvalid
            | RvError::UserNotLoggedIn => SignError::TokenRemoved {
                token,
                detail: describe(&e),
            },
            _ => SignError::Token(format!("the token \"{token}\": {}", describe(&e))),
        },
        _ => SignError::Token(format!("the token \"{token}\": {}", describe(&e))),
    }
}

/// `C_Sign returned CKR_DEVICE_REMOVED`: the function and the return value
/// by their names in the standard (cryptoki's own text is the standard's
/// paragraph about the code).
fn describe(e: &P11Error) -> String {
    match e {
        P11Error::Pkcs11(rv, function) => {
            let code = match rv {
                RvError::VendorDefined(v) => format!("CKR_VENDOR_DEFINED+{v:#x}"),
                RvError::UnknownErrorCode(v) => format!("unknown code {v:#x}"),
                named => {
                    let mut s = String::from("CKR");
                    for c in format!("{named:?}").chars() {
                        if c.is_ascii_uppercase() {
                            s.push('_');
                        }
                        s.push(c.to_ascii_uppercase());
                    }
                    s
                }
            };
            format!("C_{function:?} returned {code}")
        }
        other => other.to_string(),
    }
}

/// The labels of an error message, quoted: `"a", "b"`, or `none`.
pub(super) fn listed(labels: &[String]) -> String {
    if labels.is_empty() {
        return "none".into();
    }
    labels
        .iter()
        .map(|l| format!("\"{l}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` labelled "x"` for a key asked for by its label, else nothing.
pub(super) fn labelled(label: &Option<String>) -> String {
    label
        .as_ref()
        .map(|l| format!(" labelled \"{l}\""))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
