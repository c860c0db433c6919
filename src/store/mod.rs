//! Store: writes PDFs into the archive so that a crash never leaves a partial
//! file under a final name (temp file in the same folder, fsync, rename, fsync
//! of the folder), and hashes inputs and outputs (SHA-256).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::codes::DossierCode;
use crate::intake::{DocKind, RESULT_DIR};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn code(&self) -> crate::errors::ErrorCode {
        crate::errors::ErrorCode::Store
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Digest of a multi-file component: SHA-256 over the sorted (name, hash) list,
/// so renaming or reordering pages is a change, and one file's hash is itself.
pub fn component_digest(files: &[(String, String)]) -> String {
    if let [(_, h)] = files {
        return h.clone();
    }
    let mut hasher = Sha256::new();
    for (name, hash) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(hash.as_bytes());
        hasher.update([b'\n']);
    }
    hex::encode(hasher.finalize())
}

/// `archive/<unit>/<yyyy>/<code>/[ket-qua/]<name>[.vN].pdf`, relative to the data dir.
pub fn archive_rel_path(code: &DossierCode, kind: DocKind, name: &str, version: u32) -> PathBuf {
    let mut p = PathBuf::from("archive");
    p.push(sanitize(&code.unit));
    p.push(code.year().to_string());
    p.push(sanitize(&code.code));
    if kind == DocKind::KetQua {
        p.push(RESULT_DIR);
    }
    let file = if version <= 1 {
        format!("{}.pdf", sanitize(name))
    } else {
        format!("{}.v{}.pdf", sanitize(name), version)
    };
    p.push(file);
    p
}

/// Keeps a name usable as one path component.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '\0' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match s.as_str() {
        "" | "." | ".." => "_".into(),
        _ => s,
    }
}

/// Writes `bytes` to `path` atomically and durably: readers see the old file or
/// the new one, never a part. Archive paths carry a version number taken from
/// the records, so a path already on disk can only be an orphan of a run that
/// crashed before committing its record; it is replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .ok_or_else(|| err(std::io::Error::other("no parent folder")))?;
    std::fs::create_dir_all(dir).map_err(err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        file_name,
        host(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// This machine's name (`SOHOA_HOST`, else the kernel's host name), as it
/// appears in temporary file names, watch locks and jobs: an archive and
/// records shared by several machines, where a process id means something
/// only on its own machine.
pub fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let name = std::env::var("SOHOA_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .unwrap_or_default();
        let name: String = name
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if name.is_empty() {
            "localhost".into()
        } else {
            name
        }
    })
}

/// Removes the temporary files `write_atomic` leaves when its process dies
/// mid-write (`.<name>.<host>.<pid>.tmp` of this machine whose process is
/// gone; other machines' are theirs to sweep). Returns how many.
pub fn sweep_orphan_temps(archive: &Path) -> usize {
    let orphan = |name: &str| {
        let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
            return false;
        };
        let Some((rest, pid)) = rest.rsplit_once('.') else {
            return false;
        };
        let ours = rest.rsplit_once('.').is_some_and(|(_, h)| h == host());
        match pid.parse::<u32>() {
            Ok(pid) if ours => !Path::new(&format!("/proc/{pid}")).exists(),
            _ => false,
        }
    };
    walkdir::WalkDir::new(archive)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && orphan(&e.file_name().to_string_lossy()))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_layout() {
        let code = DossierCode::parse("000.00.18.H44-230314-0027").unwrap();
        assert_eq!(
            archive_rel_path(&code, DocKind::ThanhPhan, "01-don", 1),
            PathBuf::from("archive/000.00.18.H44/2023/000.00.18.H44-230314-0027/01-don.pdf")
        );
        assert_eq!(
            archive_rel_path(&code, DocKind::KetQua, "qd", 2),
            PathBuf::from("archive/000.00.18.H44/2023/000.00.18.H44-230314-0027/ket-qua/qd.v2.pdf")
        );
    }

    #[test]
    fn orphan_temps_of_dead_processes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("archive/u/2023/c");
        std::fs::create_dir_all(&d).unwrap();
        let mine = d.join(format!(".a.pdf.{}.{}.tmp", host(), std::process::id()));
        let dead = d.join(format!(".b.pdf.{}.4294967290.tmp", host()));
        // A process of another machine writing to the shared archive.
        let elsewhere = d.join(".e.pdf.may-chu-2.4294967290.tmp");
        for p in [&mine, &dead, &elsewhere, &d.join("c.pdf"), &d.join("x.tmp")] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(sweep_orphan_temps(&dir.path().join("archive")), 1);
        assert!(mine.exists() && !dead.exists() && elsewhere.exists());
        assert!(d.join("c.pdf").exists() && d.join("x.tmp").exists());
    }

    #[test]
    fn atomic_write_replaces_an_orphan_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/x.pdf");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn digest_of_one_file_is_its_hash() {
        assert_eq!(component_digest(&[("a".into(), "h1".into())]), "h1");
        let two = component_digest(&[("a".into(), "h1".into()), ("b".into(), "h2".into())]);
        let swapped = component_digest(&[("b".into(), "h1".into()), ("a".into(), "h2".into())]);
        assert_ne!(two, swapped);
    }
}
