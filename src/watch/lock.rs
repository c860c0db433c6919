//! One watcher per data directory: an exclusive lock on `<data-dir>/watch.lock`
//! (flock, released by the kernel when the process dies, even by `kill -9`).
//! On shared (PostgreSQL) records, where watchers on several machines split
//! the work through the queue, one per data directory and machine
//! (`watch.<host>.lock`). The file also says who holds it, for `sohoa status`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

pub struct DataDirLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another sohoa watch is already running on {path} ({holder})")]
    Held { path: PathBuf, holder: String },
    #[error("cannot open {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn lock_path(data_dir: &Path, shared: bool) -> PathBuf {
    if shared {
        data_dir.join(format!("watch.{}.lock", crate::store::host()))
    } else {
        data_dir.join("watch.lock")
    }
}

impl DataDirLock {
    /// Takes the lock or says who holds it.
    pub fn acquire(data_dir: &Path, shared: bool) -> Result<DataDirLock, LockError> {
        let path = lock_path(data_dir, shared);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(LockError::Held {
                    path: data_dir.to_path_buf(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!(
            "PID {}, {}",
            std::process::id(),
            chrono::Local::now().format(crate::format::LOCAL_TIME)
        );
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(me.as_bytes()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// Who holds the lock (`PID …, <start time>`), or `None` when no watcher runs.
pub fn holder(data_dir: &Path, shared: bool) -> Option<String> {
    let mut file = File::open(lock_path(data_dir, shared)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut text = String::new();
            file.read_to_string(&mut text).ok()?;
            Some(text.trim().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path(), false), None);
        let lock = DataDirLock::acquire(dir.path(), false).unwrap();
        let who = holder(dir.path(), false).expect("held");
        assert!(
            who.starts_with(&format!("PID {}, ", std::process::id())),
            "{who}"
        );
        assert!(matches!(
            DataDirLock::acquire(dir.path(), false),
            Err(LockError::Held { .. })
        ));
        drop(lock);
        assert_eq!(holder(dir.path(), false), None);
        assert!(DataDirLock::acquire(dir.path(), false).is_ok());
    }
}
