//! The test PKI of `scripts/make_test_pki.py`, made once per test process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The password of every PKCS#12 file of the test PKI (not ASCII, as an
/// officer may choose).
pub const PASSWORD: &str = "mật-khẩu 2026";

/// The folder holding `ca.pem`, `NAME.pem`, `NAME.key.pem`, `NAME.p12`.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = std::process::Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/make_test_pki.py"))
            .arg(dir.path())
            .arg(PASSWORD)
            .status()
            .expect("run .venv/bin/python scripts/make_test_pki.py (make test sets up .venv)");
        assert!(status.success(), "make_test_pki.py failed");
        dir
    })
    .path()
}

pub fn file(name: &str) -> PathBuf {
    dir().join(name)
}

/// The DER of a PEM certificate of the test PKI.
pub fn cert_der(stem: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(file(&format!("{stem}.pem"))).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}
