//! `TokenSigner` against SoftHSM2 tokens made by `scripts/make_test_token.sh`
//! from the test PKI, with signatures checked by OpenSSL.

use super::super::test_pki;
use super::super::tests::verify;
use super::super::{cms, Algorithm, SignError, Signer, Signing};
use super::{load, TokenSigner};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// OpenSC's logging PKCS#11 module, in front of SoftHSM (`PKCS11SPY`).
const SPY: &str = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so";
const PIN: &str = "2468";
/// The officer's RSA key and the EC one (`officer-ec`).
const MAIN: &str = "sohoa thử";
/// The officer's key alone.
const ONE: &str = "sohoa một";
/// The EC key without its public key object (the certificate only).
const NO_PUBLIC: &str = "sohoa EC";
/// The wrong-PIN test's own token, so that no other test is logged in to it.
const PIN_TOKEN: &str = "sohoa PIN";
/// The token the removal test deletes.
const REMOVED: &str = "sohoa rút";
/// The officer's key with its certificate and an old key without one.
const OLD_KEY: &str = "sohoa cũ";

struct Tokens {
    dir: tempfile::TempDir,
}

impl Tokens {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    fn spy_log(&self) -> PathBuf {
        self.dir.path().join("spy.log")
    }
}

/// The tokens of all tests, in one SoftHSM2 store made once per process.
/// SoftHSM2 reads `SOFTHSM2_CONF` at `C_Initialize`, which happens once per
/// process (see `load`), so the variable is set once, here, before any test
/// opens a token; each test uses its own token label where it needs one.
fn tokens() -> &'static Tokens {
    static TOKENS: OnceLock<Tokens> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_test_token.sh");
        for (label, stems, public) in [
            (MAIN, &["officer", "officer-ec"][..], true),
            (ONE, &["officer"][..], true),
            (NO_PUBLIC, &["officer-ec"][..], false),
            (PIN_TOKEN, &["officer"][..], true),
            (REMOVED, &["officer"][..], true),
            (OLD_KEY, &["officer", "officer-ec"][..], true),
        ] {
            let out = Command::new(&script)
                .env("NO_PUBLIC_KEY", if public { "0" } else { "1" })
                .env("KEY_ONLY", if label == OLD_KEY { "officer-ec" } else { "" })
                .arg(dir.path())
                .arg(test_pki::dir())
                .args([label, PIN])
                .args(stems)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "make_test_token.sh {label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let tokens = Tokens { dir };
        // Set before any thread of this process loads SoftHSM or the spy.
        std::env::set_var("SOFTHSM2_CONF", tokens.conf());
        std::env::set_var("PKCS11SPY", MODULE);
        std::env::set_var("PKCS11SPY_OUTPUT", tokens.spy_log());
        tokens
    })
}

fn open(token: &str, key: Option<&str>, pin: &str) -> Result<TokenSigner, SignError> {
    tokens();
    TokenSigner::open(Path::new(MODULE), token, key, pin)
}

fn sign_and_verify(signer: &TokenSigner, data: &[u8]) -> (bool, String) {
    let digest: [u8; 32] = Sha256::digest(data).into();
    let der = cms::signed_data(Signing::key(signer), &digest).unwrap();
    verify(&der, data)
}

#[test]
fn the_rsa_key_of_a_token_signs_what_openssl_verifies() {
    let signer = open(MAIN, Some("officer"), PIN).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::RsaSha256);
    assert_eq!(signer.key_label(), "officer");
    // The officer's certificate, then the CA's; not the other key's certificate.
    assert_eq!(
        signer.chain(),
        [test_pki::cert_der("officer"), test_pki::cert_der("ca")]
    );
    let data = "Bản sao điện tử từ bản giấy".repeat(100);
    let (ok, printed) = sign_and_verify(&signer, data.as_bytes());
    assert!(ok, "{printed}");
    assert!(printed.contains("sha256WithRSAEncryption"), "{printed}");
    let digest: [u8; 32] = Sha256::digest(data.as_bytes()).into();
    let der = cms::signed_data(Signing::key(&signer), &digest).unwrap();
    assert!(!verify(&der, b"other bytes").0);
}

#[test]
fn the_ec_key_is_chosen_by_its_label_and_signs_too() {
    let signer = open(MAIN, Some("officer-ec"), PIN).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::EcdsaP256Sha256);
    assert_eq!(
        signer.chain(),
        [test_pki::cert_der("officer-ec"), test_pki::cert_der("ca")]
    );
    let (ok, printed) = sign_and_verify(&signer, b"%PDF-1.7 ...");
    assert!(ok, "{printed}");
    assert!(printed.contains("ecdsa-with-SHA256"), "{printed}");
}

#[test]
fn several_keys_and_no_label_or_an_unknown_label_list_the_keys() {
    match open(MAIN, None, PIN) {
        Err(e @ SignError::KeyAmbiguous { .. }) => {
            let SignError::KeyAmbiguous { token, labels } = &e else {
                unreachable!()
            };
            let mut labels = labels.clone();
            labels.sort();
            assert_eq!(token, MAIN);
            assert_eq!(labels, ["officer", "officer-ec"]);
            assert!(e.to_string().contains("\"officer-ec\""), "{e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a key was chosen among two"),
    }
    match open(MAIN, Some("officer-rsa"), PIN) {
        Err(e @ SignError::KeyNotFound { .. }) => {
            assert_eq!(
                e.to_string(),
                "the token \"sohoa thử\" holds no private key labelled \"officer-rsa\" for signing \
                 (keys present: \"officer\", \"officer-ec\")"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("an unknown key label opened a key"),
    }
    // A token with one key needs no label.
    let signer = open(ONE, None, PIN).unwrap();
    assert_eq!(signer.key_label(), "officer");
    assert_eq!(signer.token(), ONE);
    // Of two keys, the one with its certificate signs without a label.
    let signer = open(OLD_KEY, None, PIN).unwrap();
    assert_eq!(signer.key_label(), "officer");
}

#[test]
fn without_a_public_key_object_a_test_signature_matches_key_and_certificate() {
    let log = tokens().spy_log();
    let before = calls(&log, "C_SignInit");
    let signer = TokenSigner::open(Path::new(SPY), NO_PUBLIC, None, PIN).unwrap();
    assert_eq!(calls(&log, "C_SignInit") - before, 1, "one test signature");
    assert_eq!(signer.algorithm(), Algorithm::EcdsaP256Sha256);
    assert_eq!(signer.chain()[0], test_pki::cert_der("officer-ec"));
    let (ok, printed) = sign_and_verify(&signer, b"x");
    assert!(ok, "{printed}");
}

/// How many times the spy saw `function` called.
fn calls(log: &Path, function: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.split_once(": ")
                .is_some_and(|(_, f)| f.trim() == function)
        })
        .count()
}

#[test]
fn a_wrong_pin_is_told_apart_and_not_tried_again() {
    let tokens = tokens();
    let log = tokens.spy_log();
    let before = calls(&log, "C_Login");
    match TokenSigner::open(Path::new(SPY), PIN_TOKEN, None, "1357") {
        Err(SignError::WrongPin { token }) => assert_eq!(token, PIN_TOKEN),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a wrong PIN opened the token"),
    }
    assert_eq!(calls(&log, "C_Login") - before, 1, "C_Login called once");
    let ctx = load(Path::new(MODULE)).unwrap();
    let slot = super::find_token(&ctx, PIN_TOKEN).unwrap();
    assert!(ctx.get_token_info(slot).unwrap().user_pin_count_low());
    // The token still takes the right PIN.
    let signer = open(PIN_TOKEN, None, PIN).unwrap();
    assert!(sign_and_verify(&signer, b"x").0);
    assert!(!ctx.get_token_info(slot).unwrap().user_pin_count_low());
}

#[test]
fn an_unknown_token_or_module_is_told_with_what_there_is() {
    match open("sohoa không có", None, PIN) {
        Err(e @ SignError::TokenNotFound { .. }) => {
            let SignError::TokenNotFound { label, present } = &e else {
                unreachable!()
            };
            assert_eq!(label, "sohoa không có");
            for l in [MAIN, ONE, PIN_TOKEN] {
                assert!(present.iter().any(|p| p == l), "{l} not in {present:?}");
            }
            assert!(e.to_string().contains("\"sohoa thử\""), "{e}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("an unknown token opened"),
    }
    let missing = Path::new("/usr/lib/khong-co-pkcs11.so");
    match TokenSigner::open(missing, MAIN, None, PIN) {
        Err(SignError::Pkcs11Module { path, detail }) => {
            assert_eq!(path, missing.display().to_string());
            assert!(!detail.is_empty());
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a missing module loaded"),
    }
}

/// SoftHSM2 has no device to unplug; deleting the token's store while a
/// signer has it open is the nearest thing. The session lives on (still
/// `CKS_RO_USER_FUNCTIONS`), but the key object is gone: `C_SignInit`
/// returns `CKR_OBJECT_HANDLE_INVALID` (the same whether `softhsm2-util
/// --delete-token` or `rm -r` removes the token's directory), and
/// `C_GetTokenInfo` on its slot `CKR_GENERAL_ERROR`.
#[test]
fn a_token_removed_after_opening_fails_the_signature_as_removed() {
    let tokens = tokens();
    let signer = open(REMOVED, None, PIN).unwrap();
    let digest = [7u8; 32];
    signer.sign_digest(&digest).unwrap();
    let out = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", REMOVED])
        .env("SOFTHSM2_CONF", tokens.conf())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for _ in 0..2 {
        match signer.sign_digest(&digest) {
            Err(e @ SignError::TokenRemoved { .. }) => {
                let SignError::TokenRemoved { token, detail } = &e else {
                    unreachable!()
                };
                assert_eq!(token, REMOVED);
                assert_eq!(detail, "C_SignInit returned CKR_OBJECT_HANDLE_INVALID");
                assert!(e.to_string().contains("was removed"), "{e}");
            }
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("a deleted token signed"),
        }
    }
    // Gone for good: opening it again finds no such token (its slot, which
    // SoftHSM2 still lists, is passed over), and the other tokens still open.
    assert!(matches!(
        open(REMOVED, None, PIN),
        Err(SignError::TokenNotFound { .. })
    ));
    assert!(open(ONE, None, PIN).is_ok());
}
