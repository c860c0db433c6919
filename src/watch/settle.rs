//! When a dossier folder is ready to take: nothing in it has changed size or
//! modification time for the settle time, or the operator dropped the marker
//! file. Pure bookkeeping over snapshots; the watcher decides when to look.

use crate::intake::{is_junk, nfc_name};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What an inbox entry looks like at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Every file under the entry, junk and temporary names included (a
    /// scanner writing `x.jpg.part` is activity): path, size, mtime.
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
    /// Files that could become documents (not junk, not the marker).
    pub inputs: usize,
    /// The operator's marker file is present.
    pub marker: bool,
}

/// Looks at `entry` (a dossier folder, or a loose file) without following
/// symlinks. Unreadable parts count as activity: they make the snapshot
/// differ, so the entry waits.
pub fn snapshot(entry: &Path, marker: &str) -> Snapshot {
    let mut snap = Snapshot {
        files: Vec::new(),
        inputs: 0,
        marker: false,
    };
    let walker = walkdir::WalkDir::new(entry)
        .follow_links(false)
        .sort_by_file_name();
    for item in walker {
        let Ok(item) = item else {
            snap.files
                .push((PathBuf::from("?"), u64::MAX, Some(SystemTime::now())));
            continue;
        };
        if item.file_type().is_dir() {
            continue;
        }
        let meta = item.metadata().ok();
        let name = nfc_name(item.path());
        if name.eq_ignore_ascii_case(marker) {
            snap.marker = true;
        } else if !is_junk(&name) {
            snap.inputs += 1;
        }
        snap.files.push((
            item.path().to_path_buf(),
            meta.as_ref().map_or(u64::MAX, |m| m.len()),
            meta.and_then(|m| m.modified().ok()),
        ));
    }
    snap
}

/// What the tracker says of an entry after a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Take it now.
    Ready,
    /// Look again at this instant.
    Wait(Instant),
    /// Nothing to take (no inputs, or already taken as it is).
    Idle,
}

struct Seen {
    snap: Snapshot,
    since: Instant,
    /// Taken in this state; only a change makes it interesting again.
    taken: bool,
}

/// Settle bookkeeping for the entries of all inboxes.
#[derive(Default)]
pub struct Tracker {
    seen: HashMap<PathBuf, Seen>,
}

impl Tracker {
    /// Records a look at `entry` made at `now` and says what to do with it.
    pub fn observe(
        &mut self,
        entry: &Path,
        snap: Snapshot,
        settle: Duration,
        now: Instant,
    ) -> Readiness {
        let seen = self
            .seen
            .entry(entry.to_path_buf())
            .or_insert_with(|| Seen {
                snap: snap.clone(),
                since: now,
                taken: false,
            });
        if seen.snap != snap {
            *seen = Seen {
                snap,
                since: now,
                taken: false,
            };
        }
        if seen.taken || seen.snap.inputs == 0 {
            return Readiness::Idle;
        }
        if seen.snap.marker || now.duration_since(seen.since) >= settle {
            return Readiness::Ready;
        }
        Readiness::Wait(seen.since + settle)
    }

    /// Notes that `entry` was taken as last seen (what stays behind, e.g. a
    /// file left for later, waits for a change).
    pub fn taken(&mut self, entry: &Path) {
        if let Some(seen) = self.seen.get_mut(entry) {
            seen.taken = true;
        }
    }

    /// After a take, what is in `entry` now: if every file of `snap` was
    /// there as the entry was taken (a file left behind, one whose move
    /// failed), it waits for a change; if files came in meanwhile (the
    /// emptied folder removed and made again by a scanner), it is a new entry
    /// and settles as any other. Returns whether it is new.
    pub fn after_take(&mut self, entry: &Path, snap: Snapshot, now: Instant) -> bool {
        let arrived = match self.seen.get(entry) {
            Some(seen) => snap.files.iter().any(|f| !seen.snap.files.contains(f)),
            None => true,
        };
        self.seen.insert(
            entry.to_path_buf(),
            Seen {
                snap,
                since: now,
                taken: !arrived,
            },
        );
        arrived
    }

    /// Forgets one entry, so that the next look starts its settle time afresh.
    pub fn forget(&mut self, entry: &Path) {
        self.seen.remove(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_ready_after_the_settle_time_without_change() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("000.00.18.H44-230101-0001");
        std::fs::create_dir(&d).unwrap();
        let settle = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut tr = Tracker::default();
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t0),
            Readiness::Idle,
            "empty"
        );

        std::fs::write(d.join("a.jpg"), b"12").unwrap();
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t0),
            Readiness::Wait(t0 + settle)
        );
        // Still growing at t0 + 8 s: the clock starts again.
        std::fs::write(d.join("a.jpg"), b"1234").unwrap();
        let t1 = t0 + Duration::from_secs(8);
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t1),
            Readiness::Wait(t1 + settle)
        );
        assert_eq!(
            tr.observe(
                &d,
                snapshot(&d, "XONG"),
                settle,
                t1 + Duration::from_secs(9)
            ),
            Readiness::Wait(t1 + settle)
        );
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t1 + settle),
            Readiness::Ready
        );
        tr.taken(&d);
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t1 + settle * 2),
            Readiness::Idle
        );

        // A late result is a change: it settles and is taken again.
        std::fs::create_dir(d.join("ket-qua")).unwrap();
        std::fs::write(d.join("ket-qua/qd.pdf"), b"%PDF").unwrap();
        let t2 = t1 + settle * 3;
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t2),
            Readiness::Wait(t2 + settle)
        );
    }

    #[test]
    fn files_that_came_in_during_a_take_are_a_new_entry() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("000.00.18.H44-230101-0001");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("a.jpg"), b"12").unwrap();
        let settle = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut tr = Tracker::default();
        tr.observe(&d, snapshot(&d, "XONG"), settle, t0);
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t0 + settle),
            Readiness::Ready
        );
        // The take could not move a.jpg: it stays, and waits for a change.
        assert!(!tr.after_take(&d, snapshot(&d, "XONG"), t0 + settle));
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t0 + settle * 3),
            Readiness::Idle
        );
        // The folder was emptied and removed, and a rescan put in under the
        // same name before the watcher looked again: it is taken in its turn.
        std::fs::remove_file(d.join("a.jpg")).unwrap();
        std::fs::write(d.join("b.jpg"), b"34").unwrap();
        let t1 = t0 + settle * 4;
        assert!(tr.after_take(&d, snapshot(&d, "XONG"), t1));
        assert_eq!(
            tr.observe(&d, snapshot(&d, "XONG"), settle, t1 + settle),
            Readiness::Ready
        );
    }

    #[test]
    fn the_marker_makes_a_folder_ready_at_once_and_junk_is_not_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("x");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("Thumbs.db"), b"x").unwrap();
        std::fs::write(d.join("scan.jpg.part"), b"x").unwrap();
        let s = snapshot(&d, "XONG");
        assert_eq!((s.inputs, s.marker), (0, false));
        std::fs::write(d.join("don.jpg"), b"x").unwrap();
        std::fs::write(d.join("xong"), b"").unwrap();
        let s = snapshot(&d, "XONG");
        assert_eq!((s.inputs, s.marker), (1, true));
        let mut tr = Tracker::default();
        let now = Instant::now();
        assert_eq!(
            tr.observe(&d, s, Duration::from_secs(60), now),
            Readiness::Ready
        );
    }
}
