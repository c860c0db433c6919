//! Where inputs go after a job, and moving them there without losing any.
//!
//! A job's moves are written to the records first (write-ahead), then made
//! one by one with [`move_file`], which is idempotent: a crash at any point is
//! finished by making the pending moves again at the next start.

use crate::intake::{is_junk, is_temporary};
use std::fs;
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};

/// `processed/<yyyy-mm-dd>/` under the data directory.
pub fn processed_dir(data_dir: &Path, date: &str) -> PathBuf {
    data_dir.join("processed").join(date)
}

/// `failed/` under the data directory.
pub fn failed_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("failed")
}

/// The note written beside a failed file.
pub fn note_path(dst: &Path) -> PathBuf {
    let mut name = dst.file_name().unwrap_or_default().to_os_string();
    name.push(".loi.txt");
    dst.with_file_name(name)
}

/// `dst` itself when free, else `name (2).ext`, `name (3).ext`, …: a file of
/// the same name dropped again (a rescan) never overwrites the first.
pub fn free_name(dst: &Path, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let is_free = |p: &Path| fs::symlink_metadata(p).is_err() && !taken(p);
    if is_free(dst) {
        return dst.to_path_buf();
    }
    let stem = dst.file_stem().unwrap_or_default().to_string_lossy();
    let ext = dst
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2..)
        .map(|n| dst.with_file_name(format!("{stem} ({n}){ext}")))
        .find(|p| is_free(p))
        .expect("an unbounded range has a free name")
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Moves `src` to `dst` durably. Within one filesystem a rename; across
/// filesystems (an inbox on a network share) a copy to a temporary name,
/// fsync, rename, then the source is removed. Done already (`src` gone,
/// `dst` there) counts as done. Symlinks are moved as links, never followed.
pub fn move_file(src: &Path, dst: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(src) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound && fs::symlink_metadata(dst).is_ok() => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let dir = dst
        .parent()
        .ok_or_else(|| io::Error::other("no parent folder"))?;
    fs::create_dir_all(dir)?;
    match fs::rename(src, dst) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::CrossesDevices => {
            let name = dst.file_name().unwrap_or_default().to_string_lossy();
            let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
            let _ = fs::remove_file(&tmp);
            let placed = if meta.file_type().is_symlink() {
                fs::read_link(src).and_then(|to| std::os::unix::fs::symlink(to, &tmp))
            } else {
                fs::copy(src, &tmp).and_then(|_| fs::File::open(&tmp)?.sync_all())
            }
            .and_then(|()| fs::rename(&tmp, dst));
            if let Err(e) = placed {
                // A full disk leaves no partial copy behind; the source is untouched.
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            sync_dir(dir)?;
            fs::remove_file(src)?;
        }
        Err(e) => return Err(e),
    }
    sync_dir(dir)?;
    if let Some(from) = src.parent() {
        sync_dir(from)?;
    }
    Ok(())
}

/// Writes `text` as the `.loi.txt` note beside `dst` (atomically).
pub fn write_note(dst: &Path, text: &str) -> io::Result<()> {
    let note = note_path(dst);
    let dir = note
        .parent()
        .ok_or_else(|| io::Error::other("no parent folder"))?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".loi.{}.tmp", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, &note)?;
    sync_dir(dir)
}

/// `failed/da-xu-ly/<yyyy-mm-dd>`: failed copies whose file went through since.
pub fn resolved_dir(data_dir: &Path, date: &str) -> PathBuf {
    failed_dir(data_dir).join("da-xu-ly").join(date)
}

/// A file at `shown` (inbox-relative) went through: its earlier failed copy
/// in `failed/`, and the copies of the same name kept beside it (`a (2).jpg`),
/// move with their `.loi.txt` notes to `failed/da-xu-ly/<date>/`, so that
/// `failed/` holds only what is still to fix. Nothing is deleted. Returns
/// how many failed copies moved.
pub fn clear_resolved(data_dir: &Path, shown: &str, date: &str) -> io::Result<usize> {
    let failed = failed_dir(data_dir).join(shown);
    let Some(dir) = failed.parent() else {
        return Ok(0);
    };
    let same = |p: &Path| {
        let (Some(stem), Some(name)) = (failed.file_stem(), p.file_name()) else {
            return false;
        };
        let ext = failed
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let (stem, name) = (stem.to_string_lossy(), name.to_string_lossy());
        name == format!("{stem}{ext}")
            || name
                .strip_prefix(&format!("{stem} ("))
                .and_then(|r| r.strip_suffix(&format!("){ext}")))
                .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0);
    };
    let copies: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| same(p))
        .collect();
    let to = resolved_dir(data_dir, date).join(shown);
    for copy in &copies {
        let dst = free_name(
            &to.with_file_name(copy.file_name().unwrap_or_default()),
            |_| false,
        );
        move_file(copy, &dst)?;
        let note = note_path(copy);
        if note.exists() {
            move_file(&note, &note_path(&dst))?;
        }
    }
    if !copies.is_empty() {
        // The dossier's folder in failed/ goes once nothing is left in it.
        if let Some(top) = shown.split('/').next() {
            remove_emptied(&failed_dir(data_dir).join(top), "");
        }
    }
    Ok(copies.len())
}

/// Clears what is left of a dossier folder once its inputs are gone: junk
/// files, empty folders and, last, the marker. Anything else (a file left for
/// later, a temporary file a scanner is still writing, a rescan already put
/// in) stays, and so do the folder and its marker: an operator who drops new
/// scans and a new marker as the watcher finishes the last take keeps both.
/// True when the folder is gone.
pub fn remove_emptied(folder: &Path, marker: &str) -> bool {
    /// Removes junk and emptied folders under `dir`, and the marker too when
    /// `markers` is set. True when nothing but markers is left.
    fn clear(dir: &Path, marker: &str, markers: bool) -> bool {
        let Ok(entries) = fs::read_dir(dir) else {
            return false;
        };
        let mut empty = true;
        for e in entries.flatten() {
            let path = e.path();
            let name = crate::intake::nfc_name(&path);
            let Ok(ft) = e.file_type() else {
                empty = false;
                continue;
            };
            let gone = if ft.is_dir() {
                clear(&path, marker, markers) && (!markers || fs::remove_dir(&path).is_ok())
            } else if name.eq_ignore_ascii_case(marker) {
                !markers || fs::remove_file(&path).is_ok()
            } else if is_junk(&name) && !is_temporary(&name) {
                // Temporary names are a scanner still writing: not ours to delete.
                fs::remove_file(&path).is_ok()
            } else {
                false
            };
            empty &= gone;
        }
        empty
    }
    clear(folder, marker, false) && clear(folder, marker, true) && fs::remove_dir(folder).is_ok()
}

/// Deletes `processed/<yyyy-mm-dd>` folders dated more than `days` days
/// before `today`. Returns how many.
pub fn expire_processed(data_dir: &Path, days: u32, today: chrono::NaiveDate) -> usize {
    let Ok(entries) = fs::read_dir(data_dir.join("processed")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            chrono::NaiveDate::parse_from_str(&e.file_name().to_string_lossy(), "%Y-%m-%d")
                .is_ok_and(|d| (today - d).num_days() > i64::from(days))
        })
        .filter(|e| fs::remove_dir_all(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_are_idempotent_and_names_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("in/a.jpg"), dir.path().join("out/x/a.jpg"));
        fs::create_dir_all(src.parent().unwrap()).unwrap();
        fs::write(&src, b"scan").unwrap();
        move_file(&src, &dst).unwrap();
        assert!(!src.exists() && fs::read(&dst).unwrap() == b"scan");
        // Redoing a move that completed (a crash before it was confirmed) is fine.
        move_file(&src, &dst).unwrap();
        // A move whose source and target are both gone is an error.
        assert!(move_file(&src, &dir.path().join("nowhere")).is_err());

        let taken = dir.path().join("out/x/a (2).jpg");
        let free = free_name(&dst, |p| p == taken);
        assert_eq!(free, dir.path().join("out/x/a (3).jpg"));
        assert_eq!(note_path(&dst), dir.path().join("out/x/a.jpg.loi.txt"));
    }

    /// A tmpfs of its own, mounted on a fresh temporary folder and unmounted
    /// when dropped (a failed assertion too): a second filesystem whatever the
    /// machine has. Needs root, or CAP_SYS_ADMIN, as CI has.
    struct Tmpfs {
        dir: tempfile::TempDir,
    }

    impl Tmpfs {
        fn mount(size: &str) -> Tmpfs {
            use std::ffi::CString;
            use std::os::unix::ffi::OsStrExt;
            let dir = tempfile::tempdir().unwrap();
            let target = CString::new(dir.path().as_os_str().as_bytes()).unwrap();
            let options = CString::new(format!("size={size}")).unwrap();
            // SAFETY: NUL-terminated strings that outlive the call.
            let rc = unsafe {
                libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    options.as_ptr().cast(),
                )
            };
            assert!(
                rc == 0,
                "this test mounts a tmpfs on {} to move files across filesystems, and that \
                 needs root with CAP_SYS_ADMIN (as CI runs): {}",
                dir.path().display(),
                io::Error::last_os_error()
            );
            Tmpfs { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            use std::os::unix::ffi::OsStrExt;
            let target = std::ffi::CString::new(self.dir.path().as_os_str().as_bytes()).unwrap();
            // SAFETY: a NUL-terminated string that outlives the call. Lazily:
            // nothing else holds the folder, but a failed test may have left files.
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        }
    }

    fn device(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).unwrap().dev()
    }

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn moves_across_filesystems_copy_sync_and_remove() {
        // The inbox on a filesystem of its own (a network share, say), the
        // data folder on the disk: rename fails with EXDEV, so the file is
        // copied, synced, renamed into place, and only then is the source removed.
        let inbox = Tmpfs::mount("16m");
        let data = tempfile::tempdir().unwrap();
        assert_ne!(
            device(inbox.path()),
            device(data.path()),
            "the two folders must be on different filesystems"
        );
        let scan: Vec<u8> = (0..3 << 20)
            .map(|i: u32| (i * 7 + i / 4093) as u8)
            .collect();
        let src = inbox.path().join("scan.jpg");
        fs::write(&src, &scan).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", inbox.path().join("link.jpg")).unwrap();
        let dst = data.path().join("processed/d/scan.jpg");
        move_file(&src, &dst).unwrap();
        assert!(fs::read(&dst).unwrap() == scan, "moved bytes differ");
        assert!(!src.exists());
        let link_dst = data.path().join("failed/d/link.jpg");
        move_file(&inbox.path().join("link.jpg"), &link_dst).unwrap();
        assert_eq!(
            fs::read_link(&link_dst).unwrap(),
            Path::new("/etc/hostname")
        );
        // No temporary file is left beside the target, and the inbox is empty.
        assert_eq!(names_in(dst.parent().unwrap()), ["scan.jpg"]);
        assert!(names_in(inbox.path()).is_empty());
        // Done already counts as done.
        move_file(&src, &dst).unwrap();
    }

    #[test]
    fn a_move_across_filesystems_that_fails_keeps_the_source() {
        // Until the copy is whole and renamed into place, the source is the
        // only copy: a full target filesystem, or a target name that cannot
        // be replaced, leaves it untouched, with no partial copy behind.
        let small = Tmpfs::mount("1m");
        let inbox = tempfile::tempdir().unwrap();
        assert_ne!(device(small.path()), device(inbox.path()));
        let scan: Vec<u8> = (0..2 << 20)
            .map(|i: u32| (i * 13 + i / 509) as u8)
            .collect();
        let src = inbox.path().join("scan.jpg");
        fs::write(&src, &scan).unwrap();

        let full = small.path().join("processed/scan.jpg");
        let e = move_file(&src, &full).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
        assert!(fs::read(&src).unwrap() == scan, "the source changed");
        assert!(
            names_in(full.parent().unwrap()).is_empty(),
            "a partial copy is left"
        );

        // A folder in the way of the target: the copy is made, its rename fails.
        let taken = small.path().join("failed/scan.jpg");
        fs::create_dir_all(taken.join("inside")).unwrap();
        let small_scan = &scan[..4096];
        fs::write(&src, small_scan).unwrap();
        assert!(move_file(&src, &taken).is_err());
        assert!(fs::read(&src).unwrap() == small_scan, "the source changed");
        assert_eq!(names_in(taken.parent().unwrap()), ["scan.jpg"]);
        assert!(taken.join("inside").is_dir());
    }

    #[test]
    fn emptied_folders_go_but_inputs_and_temporary_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("c");
        fs::create_dir_all(d.join("ket-qua")).unwrap();
        fs::write(d.join("Thumbs.db"), b"x").unwrap();
        fs::write(d.join("XONG"), b"").unwrap();
        fs::write(d.join("ket-qua/scan.jpg.part"), b"x").unwrap();
        assert!(!remove_emptied(&d, "XONG"));
        assert!(d.join("ket-qua/scan.jpg.part").exists() && !d.join("Thumbs.db").exists());
        assert!(
            d.join("XONG").exists(),
            "the marker stays with what is left"
        );
        fs::remove_file(d.join("ket-qua/scan.jpg.part")).unwrap();
        assert!(remove_emptied(&d, "XONG"));
        assert!(!d.exists());
    }

    #[test]
    fn old_processed_days_expire() {
        let dir = tempfile::tempdir().unwrap();
        for day in ["2026-11-01", "2026-11-20", "notes"] {
            fs::create_dir_all(dir.path().join("processed").join(day)).unwrap();
        }
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(expire_processed(dir.path(), 14, today), 1);
        assert!(dir.path().join("processed/2026-11-20").exists());
        assert!(dir.path().join("processed/notes").exists());
    }

    #[test]
    fn a_failed_copy_whose_file_went_through_moves_to_da_xu_ly() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        let f = failed_dir(data).join("HS-1");
        fs::create_dir_all(&f).unwrap();
        for n in [
            "01-don.jpg",
            "01-don (2).jpg",
            "01-don.jpg.loi.txt",
            "02-khac.jpg",
        ] {
            fs::write(f.join(n), n).unwrap();
        }
        assert_eq!(
            clear_resolved(data, "HS-1/01-don.jpg", "2026-12-01").unwrap(),
            2
        );
        let done = resolved_dir(data, "2026-12-01").join("HS-1");
        assert_eq!(
            fs::read_to_string(done.join("01-don.jpg")).unwrap(),
            "01-don.jpg"
        );
        assert!(done.join("01-don.jpg.loi.txt").exists());
        assert!(done.join("01-don (2).jpg").exists());
        // What is still to fix stays where it was.
        assert!(f.join("02-khac.jpg").exists());
        assert!(!f.join("01-don.jpg").exists());
        assert_eq!(
            clear_resolved(data, "HS-1/03-moi.jpg", "2026-12-01").unwrap(),
            0
        );
        assert_eq!(
            clear_resolved(data, "HS-1/02-khac.jpg", "2026-12-01").unwrap(),
            1
        );
        assert!(!f.exists(), "the emptied dossier folder goes");
    }
}
