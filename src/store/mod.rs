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

/// Lower-case hex SHA-256 of a file and its length, read in pieces (memory
/// does not grow with the file).
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((hex::encode(h.finalize()), n))
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
///
/// Collision-free: a name that itself ends like a version suffix (`X.v2`, or
/// `X.v2-3`, the form `write_new` falls back to) gets a `_` appended, so `X.v2`
/// at version 1 (`X.v2_.pdf`) never lands where `X` at version 2 (`X.v2.pdf`) does.
pub fn archive_rel_path(code: &DossierCode, kind: DocKind, name: &str, version: u32) -> PathBuf {
    let mut p = PathBuf::from("archive");
    p.push(sanitize(&code.unit));
    p.push(code.year().to_string());
    p.push(sanitize(&code.code));
    if kind == DocKind::KetQua {
        p.push(RESULT_DIR);
    }
    let mut stem = sanitize(name);
    if ends_like_a_version(&stem) {
        stem.push('_');
    }
    let file = if version <= 1 {
        format!("{stem}.pdf")
    } else {
        format!("{stem}.v{version}.pdf")
    };
    p.push(file);
    p
}

/// True for `….v<N>`, `….v<N>-<K>`, each followed by any number of `_`.
fn ends_like_a_version(stem: &str) -> bool {
    let s = stem.trim_end_matches('_');
    let s = match s.rsplit_once('-') {
        Some((head, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => s,
    };
    s.rsplit_once(".v")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
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

/// Longest document name or local dossier code a station may send, in bytes:
/// with `.v<N>-<K>.pdf` it stays well under the 255 bytes of a file name.
pub const MAX_NAME_BYTES: usize = 180;

/// Why a name sent by a client cannot be a file name of the archive, if it cannot.
/// (Names read from an inbox are file names already; the server refuses
/// rather than rewrites what a station sends.)
pub fn refuse_name(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("empty")
    } else if name.len() > MAX_NAME_BYTES {
        Some("longer than 180 bytes")
    } else if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control() || is_bidi_control(c))
    {
        Some("contains a path separator or a control character")
    } else if name.starts_with('.') {
        Some("starts with a dot")
    } else if ends_like_a_version(name) {
        Some("ends like a version suffix (.vN)")
    } else if !unicode_normalization::is_nfc(name) {
        Some("not in Unicode NFC")
    } else {
        None
    }
}

/// Characters that reorder the text around them (U+202A–U+202E,
/// U+2066–U+2069): a name holding one reads differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes `bytes` as a new archive file at `path` (absolute), durably (temp file
/// in the same folder, fsync, rename, fsync of the folder), and never over an
/// existing file: if `path` is taken (an orphan of a crash before its record
/// was committed, or another writer's), the file goes to `<stem>-2.pdf`,
/// `<stem>-3.pdf`, … instead. Returns where it went.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .ok_or_else(|| err(std::io::Error::other("no parent folder")))?;
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = temp_path(dir, &file_name(path));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    let placed = place_new(&tmp, path);
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    placed
}

/// Moves a file already written and fsynced (`tmp`, on the archive's filesystem)
/// to `path` or, if that is taken, to the first free `<stem>-K.pdf`, without
/// ever replacing a file (`renameat2(RENAME_NOREPLACE)`, or a hard link where the
/// filesystem lacks it), then fsyncs the folder. Returns where it went.
pub fn place_new(tmp: &Path, path: &Path) -> Result<PathBuf, StoreError> {
    let err = |p: &Path, source| StoreError::Write {
        path: p.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .ok_or_else(|| err(path, std::io::Error::other("no parent folder")))?;
    std::fs::create_dir_all(dir).map_err(|e| err(path, e))?;
    let name = file_name(path);
    let stem = name.strip_suffix(".pdf").unwrap_or(&name).to_string();
    for k in 1..=1000u32 {
        let target = if k == 1 {
            path.to_path_buf()
        } else {
            dir.join(format!("{stem}-{k}.pdf"))
        };
        match rename_noreplace(tmp, &target) {
            Ok(()) => {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| err(&target, e))?;
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err(&target, e)),
        }
    }
    Err(err(
        path,
        std::io::Error::other("no free name for this file (1000 taken)"),
    ))
}

/// Which file a path names now (device and inode), to tell later whether
/// it is still the same file.
pub fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Removes the file at `path` if it is still the file `id` named (not one
/// another writer has put under the same name since).
pub fn remove_if_same(path: &Path, id: Option<(u64, u64)>) -> bool {
    id.is_some() && file_id(path) == id && std::fs::remove_file(path).is_ok()
}

/// Renames `from` to `to` only if `to` does not exist (atomically).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("a NUL byte in a path"))
    };
    let (a, b) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        // A filesystem without RENAME_NOREPLACE: a hard link fails on an existing name too.
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {
            std::fs::hard_link(from, to)?;
            std::fs::remove_file(from)
        }
        _ => Err(e),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `.<name>.<host>.<pid>.tmp` in `dir`: what `sweep_orphan_temps` recognises.
pub fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{}.{}.{}.tmp", name, host(), std::process::id()))
}

/// Writes `bytes` to `path` atomically and durably: readers see the old file or
/// the new one, never a part. For files that are not archive copies (reports);
/// archive files go through `write_new`, which never replaces one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = temp_path(dir, &file_name(path));
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

/// Removes the archive PDFs of `dossiers` that no record points at: what a
/// job cut by a kill between writing a PDF and committing its record left
/// behind (its scans are still in the inbox, and are taken again). Only the
/// folders of those dossiers (`archive/<unit>/<year>/<code>/`) are looked at;
/// `recorded` says whether a path, relative to `data_dir` as recorded, is a
/// document's. Returns how many were removed.
pub fn sweep_unrecorded<E>(
    data_dir: &Path,
    dossiers: &[String],
    mut recorded: impl FnMut(&str) -> Result<bool, E>,
) -> Result<usize, E> {
    let folders: std::collections::HashSet<String> = dossiers.iter().map(|c| sanitize(c)).collect();
    let dossier_dirs = walkdir::WalkDir::new(data_dir.join("archive"))
        .follow_links(false)
        .min_depth(3)
        .max_depth(3)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && folders.contains(&*e.file_name().to_string_lossy()));
    let mut removed = 0;
    for dir in dossier_dirs {
        for file in walkdir::WalkDir::new(dir.path()).follow_links(false) {
            let Ok(file) = file else { continue };
            let name = file.file_name().to_string_lossy();
            if !file.file_type().is_file() || name.starts_with('.') || !name.ends_with(".pdf") {
                continue;
            }
            let Ok(rel) = file.path().strip_prefix(data_dir) else {
                continue;
            };
            if !recorded(&rel.to_string_lossy())? && std::fs::remove_file(file.path()).is_ok() {
                tracing::info!(path = %rel.display(), "removed an archive PDF no record points at");
                removed += 1;
            }
        }
    }
    Ok(removed)
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
    fn unrecorded_pdfs_of_the_given_dossiers_are_swept() {
        let data = tempfile::tempdir().unwrap();
        let dossier = |code: &str| data.path().join("archive/000.00.18.H44/2023").join(code);
        let cut = dossier("000.00.18.H44-231120-0001");
        let other = dossier("000.00.18.H44-231120-0002");
        for p in [
            cut.join("don.pdf"),
            cut.join("don-2.pdf"),
            cut.join("ket-qua/quyet-dinh.pdf"),
            cut.join("ghi-chu.txt"),
            other.join("don.pdf"),
        ] {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"%PDF").unwrap();
        }
        let recorded = ["archive/000.00.18.H44/2023/000.00.18.H44-231120-0001/don-2.pdf"];
        let removed = sweep_unrecorded(
            data.path(),
            &["000.00.18.H44-231120-0001".to_string()],
            |rel| Ok::<_, ()>(recorded.contains(&rel)),
        )
        .unwrap();
        assert_eq!(removed, 2);
        assert!(!cut.join("don.pdf").exists() && !cut.join("ket-qua/quyet-dinh.pdf").exists());
        assert!(cut.join("don-2.pdf").exists(), "a recorded file stays");
        assert!(cut.join("ghi-chu.txt").exists() && other.join("don.pdf").exists());
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
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/x.pdf");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_new_archive_file_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/x.pdf");
        assert_eq!(write_new(&p, b"one").unwrap(), p);
        let second = write_new(&p, b"two").unwrap();
        assert_eq!(second, dir.path().join("a/b/x-2.pdf"));
        assert_eq!(
            write_new(&p, b"three").unwrap(),
            dir.path().join("a/b/x-3.pdf")
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 3, "no temporary file left");
    }

    #[test]
    fn names_that_look_like_versions_do_not_collide() {
        let code = DossierCode::parse("000.00.18.H44-230314-0027").unwrap();
        let path = |n: &str, v| archive_rel_path(&code, DocKind::ThanhPhan, n, v);
        let mut seen = std::collections::HashSet::new();
        for (n, v) in [
            ("X", 1),
            ("X", 2),
            ("X", 3),
            ("X.v2", 1),
            ("X.v2", 2),
            ("X.v2_", 1),
            ("X.v2__", 1),
            ("X.v1-2", 1),
            ("X-2", 1),
            ("X.v", 1),
            ("X.v2a", 1),
        ] {
            assert!(
                seen.insert(path(n, v)),
                "{n} v{v} collides: {:?}",
                path(n, v)
            );
        }
        assert!(path("X.v2", 1).ends_with("X.v2_.pdf"));
        assert!(path("X.v", 1).ends_with("X.v.pdf"));
    }

    #[test]
    fn names_a_client_may_not_send() {
        for bad in [
            "",
            " ",
            ".",
            "..",
            ".an",
            "a/b",
            "a\\b",
            "a\nb",
            "X.v2",
            "X.v12-3",
            "X.v2_",
            &"ă".repeat(100),
        ] {
            assert!(refuse_name(bad).is_some(), "{bad:?}");
        }
        let decomposed = "Gia\u{0301}y";
        assert!(refuse_name(decomposed).is_some());
        for good in ["01-don", "Giấy đề nghị (bản sao)", "X.v", "X.vx", "ket.qua"] {
            assert_eq!(refuse_name(good), None, "{good:?}");
        }
    }

    #[test]
    fn digest_of_one_file_is_its_hash() {
        assert_eq!(component_digest(&[("a".into(), "h1".into())]), "h1");
        let two = component_digest(&[("a".into(), "h1".into()), ("b".into(), "h2".into())]);
        let swapped = component_digest(&[("b".into(), "h1".into()), ("a".into(), "h2".into())]);
        assert_ne!(two, swapped);
    }
}
