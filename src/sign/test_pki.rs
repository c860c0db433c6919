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

/// The test time-stamping authority of `scripts/test_tsa.py` on loopback,
/// stopped when dropped.
pub struct TestTsa {
    child: std::process::Child,
    pub url: String,
}

impl TestTsa {
    /// Answers with tokens of the test PKI's `tsa` certificate; `refuse`:
    /// with HTTP 503 to everything, as a TSA that is down.
    pub fn start(refuse: bool) -> TestTsa {
        use std::io::BufRead;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = std::process::Command::new(root.join(".venv/bin/python"));
        cmd.arg(root.join("scripts/test_tsa.py")).arg(dir());
        if refuse {
            cmd.arg("--refuse");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start scripts/test_tsa.py");
        let mut port = String::new();
        std::io::BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut port)
            .expect("the test TSA's port");
        TestTsa {
            child,
            url: format!("http://127.0.0.1:{}/tsa", port.trim()),
        }
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
