//! What watch mode keeps in the database: jobs (one per dossier folder taken),
//! the write-ahead list of input moves, and the inboxes served.

use super::db::vals;
use super::{now, Records, RecordsError};

/// One planned move of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMove {
    pub src: String,
    pub dst: String,
    /// For a failed file: the text of the `.loi.txt` note beside `dst`.
    pub note: Option<String>,
}

/// A move written down but not yet confirmed done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMove {
    pub id: i64,
    pub job_id: i64,
    /// The inbox entry its job took (`inbox/folder`).
    pub entry: std::path::PathBuf,
    pub planned: PlannedMove,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobEnd {
    pub failed: bool,
    pub files: u32,
    pub documents: u32,
    pub failed_files: u32,
}

/// An inbox as `sohoa status` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InboxStatus {
    pub path: String,
    pub mode: String,
    pub settle_secs: f64,
    pub last_scan_at: Option<String>,
    pub in_progress: u32,
    /// The folders in progress, oldest first (at most what one take holds).
    pub in_progress_folders: Vec<String>,
    /// Dossiers finished today with at least one document archived (or found
    /// archived already), each counted once however often it came.
    pub done_today: u32,
    /// Of those, the ones with at least one file moved to failed/.
    pub done_with_failures_today: u32,
    /// Entries finished today of which nothing could be archived, all moved to
    /// failed/: refused folders (no dossier code, unknown unit), loose files,
    /// dossiers whose every file is bad.
    pub refused_today: u32,
}

/// A recent failure, newest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecentFailure {
    pub at: String,
    pub dossier_code: String,
    pub input_path: String,
    pub error_code: String,
    pub message: String,
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

impl Records {
    /// Marks jobs a previous watcher left in progress (it was killed) as
    /// interrupted; their folders are still in the inbox and are taken again.
    /// Returns the dossier codes of those jobs, once each.
    pub fn interrupt_jobs(&self) -> Result<Vec<String>, RecordsError> {
        const MINE: &str = "state = 'in_progress' AND (host = $1 OR host IS NULL)";
        Ok(self.db.transaction(|e| {
            let rows = e.query(
                &format!("SELECT DISTINCT dossier_code FROM watch_jobs WHERE {MINE} ORDER BY 1"),
                vals![crate::store::host()],
            )?;
            e.execute(
                &format!(
                    "UPDATE watch_jobs SET state = 'interrupted', finished_at = $2 WHERE {MINE}"
                ),
                vals![crate::store::host(), now()],
            )?;
            rows.iter().map(|r| r.get(0)).collect()
        })?)
    }

    pub fn start_job(
        &self,
        inbox: &str,
        folder: &str,
        dossier_code: &str,
    ) -> Result<i64, RecordsError> {
        Ok(self.db.run(|e| {
            e.value(
                "INSERT INTO watch_jobs (inbox, folder, dossier_code, state, started_at, host)
                 VALUES ($1, $2, $3, 'in_progress', $4, $5) RETURNING id",
                vals![inbox, folder, dossier_code, now(), crate::store::host()],
            )
        })?)
    }

    /// Writes down all moves of a job at once, before any is made.
    pub fn plan_moves(&self, job_id: i64, moves: &[PlannedMove]) -> Result<(), RecordsError> {
        self.db.transaction(|e| {
            for m in moves {
                e.execute(
                    "INSERT INTO watch_moves (job_id, src, dst, note) VALUES ($1, $2, $3, $4)",
                    vals![job_id, &m.src, &m.dst, m.note.clone()],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Moves written down and not yet confirmed, oldest first.
    pub fn pending_moves(&self) -> Result<Vec<PendingMove>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT m.id, m.job_id, m.src, m.dst, m.note, j.inbox, j.folder FROM watch_moves m
                   JOIN watch_jobs j ON j.id = m.job_id
                  WHERE j.host = $1 OR j.host IS NULL ORDER BY m.id",
                vals![crate::store::host()],
            )
        })?;
        rows.iter()
            .map(|r| {
                let (inbox, folder): (String, String) = (r.get(5)?, r.get(6)?);
                Ok(PendingMove {
                    id: r.get(0)?,
                    job_id: r.get(1)?,
                    entry: std::path::Path::new(&inbox).join(folder),
                    planned: PlannedMove {
                        src: r.get(2)?,
                        dst: r.get(3)?,
                        note: r.get(4)?,
                    },
                })
            })
            .collect()
    }

    /// Whether `dst` is already the target of a pending move.
    pub fn move_target_taken(&self, dst: &str) -> Result<bool, RecordsError> {
        let row = self
            .db
            .run(|e| e.query_opt("SELECT 1 FROM watch_moves WHERE dst = $1", vals![dst]))?;
        Ok(row.is_some())
    }

    pub fn move_done(&self, id: i64) -> Result<(), RecordsError> {
        self.db
            .run(|e| e.execute("DELETE FROM watch_moves WHERE id = $1", vals![id]))?;
        Ok(())
    }

    pub fn finish_job(&self, job_id: i64, end: JobEnd) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "UPDATE watch_jobs SET state = $2, files = $3, documents = $4, failed_files = $5,
                        finished_at = $6, finished_on = $7
                  WHERE id = $1",
                vals![
                    job_id,
                    if end.failed { "failed" } else { "done" },
                    end.files,
                    end.documents,
                    end.failed_files,
                    now(),
                    today()
                ],
            )
        })?;
        Ok(())
    }

    /// Replaces the list of inboxes served (at watcher start).
    /// The inboxes served now, in place of those before. Two watchers starting
    /// together on shared records both write the same inbox: the second
    /// updates the first's row (a plain insert would fail on its key).
    pub fn register_inboxes(&self, inboxes: &[(String, &str, f64)]) -> Result<(), RecordsError> {
        self.db.transaction(|e| {
            e.execute("DELETE FROM watch_inboxes", &[])?;
            for (path, mode, settle) in inboxes {
                e.execute(
                    "INSERT INTO watch_inboxes (path, mode, settle_secs) VALUES ($1, $2, $3)
                     ON CONFLICT (path) DO UPDATE SET mode = excluded.mode, settle_secs = excluded.settle_secs",
                    vals![path, *mode, *settle],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    pub fn inbox_scanned(&self, path: &str) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "UPDATE watch_inboxes SET last_scan_at = $2 WHERE path = $1",
                vals![path, now()],
            )
        })?;
        Ok(())
    }

    /// Each inbox served, with its jobs in progress and those finished today.
    pub fn inbox_status(&self) -> Result<Vec<InboxStatus>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT i.path, i.mode, i.settle_secs, i.last_scan_at,
                        (SELECT COUNT(*) FROM watch_jobs j WHERE j.inbox = i.path AND j.state = 'in_progress'),
                        (SELECT COUNT(DISTINCT j.dossier_code) FROM watch_jobs j WHERE j.inbox = i.path
                            AND j.state IN ('done', 'failed') AND j.finished_on = $1 AND j.files > 0),
                        (SELECT COUNT(DISTINCT j.dossier_code) FROM watch_jobs j WHERE j.inbox = i.path
                            AND j.state IN ('done', 'failed') AND j.finished_on = $1 AND j.files > 0 AND j.failed_files > 0),
                        (SELECT COUNT(*) FROM watch_jobs j WHERE j.inbox = i.path
                            AND j.state IN ('done', 'failed') AND j.finished_on = $1 AND j.files = 0 AND j.failed_files > 0)
                   FROM watch_inboxes i ORDER BY i.path",
                vals![today()],
            )
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let path: String = r.get(0)?;
            let folders = self.db.run(|e| {
                e.query(
                    "SELECT folder FROM watch_jobs WHERE inbox = $1 AND state = 'in_progress' ORDER BY id",
                    vals![&path],
                )
            })?;
            out.push(InboxStatus {
                path,
                mode: r.get(1)?,
                settle_secs: r.get(2)?,
                last_scan_at: r.get(3)?,
                in_progress: r.get(4)?,
                in_progress_folders: folders.iter().map(|f| f.get(0)).collect::<Result<_, _>>()?,
                done_today: r.get(5)?,
                done_with_failures_today: r.get(6)?,
                refused_today: r.get(7)?,
            });
        }
        Ok(out)
    }

    /// The `n` newest unresolved failures.
    pub fn recent_failures(&self, n: u32) -> Result<Vec<RecentFailure>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT created_at, dossier_code, input_path, error_code, message FROM failures
                  WHERE resolved = 0 ORDER BY id DESC LIMIT $1",
                vals![n],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(RecentFailure {
                    at: r.get(0)?,
                    dossier_code: r.get(1)?,
                    input_path: r.get(2)?,
                    error_code: r.get(3)?,
                    message: r.get(4)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_moves_and_status_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let r = Records::open(&dir.path().join("db")).unwrap();
        r.register_inboxes(&[("/in".into(), "events", 10.0)])
            .unwrap();
        let a = r.start_job("/in", "X", "X").unwrap();
        let b = r.start_job("/in", "Y", "Y").unwrap();
        let moves = [
            PlannedMove {
                src: "/in/X/a.jpg".into(),
                dst: "/p/a.jpg".into(),
                note: None,
            },
            PlannedMove {
                src: "/in/X/b.jpg".into(),
                dst: "/f/b.jpg".into(),
                note: Some("lỗi".into()),
            },
        ];
        r.plan_moves(a, &moves).unwrap();
        assert!(r.move_target_taken("/p/a.jpg").unwrap());
        let pending = r.pending_moves().unwrap();
        assert_eq!(
            pending
                .iter()
                .map(|p| p.planned.clone())
                .collect::<Vec<_>>(),
            moves
        );
        r.move_done(pending[0].id).unwrap();
        assert_eq!(r.pending_moves().unwrap().len(), 1);
        r.finish_job(
            a,
            JobEnd {
                failed: true,
                files: 1,
                documents: 1,
                failed_files: 1,
            },
        )
        .unwrap();
        let s = &r.inbox_status().unwrap()[0];
        assert_eq!(
            (s.in_progress, s.done_today, s.done_with_failures_today),
            (1, 1, 1)
        );
        assert_eq!(s.in_progress_folders, ["Y"]);
        // A folder refused whole (no file went through) is no finished dossier.
        r.finish_job(
            b,
            JobEnd {
                failed: true,
                files: 0,
                documents: 0,
                failed_files: 2,
            },
        )
        .unwrap();
        let s = &r.inbox_status().unwrap()[0];
        assert_eq!((s.done_today, s.refused_today), (1, 1));
        let c = r.start_job("/in", "Z", "Z").unwrap();
        // A killed watcher's job is interrupted at the next start.
        assert_eq!(r.interrupt_jobs().unwrap(), ["Z"]);
        assert!(r.interrupt_jobs().unwrap().is_empty());
        let s = &r.inbox_status().unwrap()[0];
        assert_eq!(s.in_progress, 0);
        let _ = c;
    }
}
