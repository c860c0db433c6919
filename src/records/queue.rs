//! The shared work queue of `sohoa batch` workers: dossier folders as items,
//! claimed under a lease the worker renews while it works. On PostgreSQL a
//! claim skips rows other workers hold (`FOR UPDATE SKIP LOCKED`); on SQLite
//! the claim runs in a write transaction, which serialises the workers.

use super::db::vals;
use super::{now, Records, RecordsError};

/// A dossier folder to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    pub id: i64,
    pub inbox: String,
    pub folder: String,
    /// Claimed before by a worker that did not finish it (died, or lost
    /// its lease).
    pub retaken: bool,
}

/// Unix seconds.
fn epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Records {
    /// Adds folders (inbox, folder, fingerprint) not already queued with the
    /// same fingerprint; for each, whether it was already finished (nothing to do).
    pub fn enqueue(&self, items: &[(String, String, String)]) -> Result<Vec<bool>, RecordsError> {
        Ok(self.db.transaction(|e| {
            let mut finished = Vec::with_capacity(items.len());
            for (inbox, folder, fingerprint) in items {
                e.execute(
                    "INSERT INTO work_queue (inbox, folder, fingerprint, state) VALUES ($1, $2, $3, 'queued')
                     ON CONFLICT (inbox, folder, fingerprint) DO NOTHING",
                    vals![inbox, folder, fingerprint],
                )?;
                let state: String = e.value(
                    "SELECT state FROM work_queue WHERE inbox = $1 AND folder = $2 AND fingerprint = $3",
                    vals![inbox, folder, fingerprint],
                )?;
                finished.push(state == "done" || state == "failed");
            }
            Ok(finished)
        })?)
    }

    /// Claims up to `n` items that are queued or whose lease ran out, for
    /// `lease_secs` seconds.
    pub fn claim(
        &self,
        worker: &str,
        n: usize,
        lease_secs: i64,
    ) -> Result<Vec<QueueItem>, RecordsError> {
        let lock = if self.db.is_sqlite() {
            ""
        } else {
            "FOR UPDATE SKIP LOCKED"
        };
        let sql = format!(
            "UPDATE work_queue SET state = 'claimed', worker = $1, lease_until = $2, attempts = attempts + 1
              WHERE id IN (SELECT id FROM work_queue
                            WHERE state = 'queued' OR (state = 'claimed' AND lease_until < $3)
                            ORDER BY id LIMIT $4 {lock})
              RETURNING id, inbox, folder, attempts"
        );
        let now = epoch();
        let rows = self
            .db
            .transaction(|e| e.query(&sql, vals![worker, now + lease_secs, now, n]))?;
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(QueueItem {
                    id: r.get(0)?,
                    inbox: r.get(1)?,
                    folder: r.get(2)?,
                    retaken: r.get::<i64>(3)? > 1,
                })
            })
            .collect::<Result<Vec<_>, RecordsError>>()?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    /// Claims one folder for a watcher, queuing it first if needed: unless
    /// another worker holds it under a live lease. A finished item is claimed
    /// again: its folder is still in the inbox, so it came back (watchers move
    /// a folder's files out before they finish its item).
    pub fn claim_folder(
        &self,
        worker: &str,
        (inbox, folder, fingerprint): (&str, &str, &str),
        lease_secs: i64,
    ) -> Result<Option<i64>, RecordsError> {
        let now = epoch();
        let row = self.db.transaction(|e| {
            e.execute(
                "INSERT INTO work_queue (inbox, folder, fingerprint, state) VALUES ($1, $2, $3, 'queued')
                 ON CONFLICT (inbox, folder, fingerprint) DO NOTHING",
                vals![inbox, folder, fingerprint],
            )?;
            e.query_opt(
                "UPDATE work_queue SET state = 'claimed', worker = $4, lease_until = $5, attempts = attempts + 1
                  WHERE inbox = $1 AND folder = $2 AND fingerprint = $3
                    AND NOT (state = 'claimed' AND lease_until >= $6 AND worker <> $4)
                  RETURNING id",
                vals![inbox, folder, fingerprint, worker, now + lease_secs, now],
            )
        })?;
        Ok(row.map(|r| r.get(0)).transpose()?)
    }

    /// Extends the lease of the items this worker still holds (the heartbeat).
    pub fn renew(&self, worker: &str, ids: &[i64], lease_secs: i64) -> Result<(), RecordsError> {
        let until = epoch() + lease_secs;
        self.db.transaction(|e| {
            for id in ids {
                e.execute(
                    "UPDATE work_queue SET lease_until = $3 WHERE id = $1 AND worker = $2 AND state = 'claimed'",
                    vals![*id, worker, until],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Marks an item finished (by this worker only: a lease taken over by
    /// another worker stays theirs).
    pub fn finish_item(&self, worker: &str, id: i64, failed: bool) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "UPDATE work_queue SET state = $3, finished_at = $4 WHERE id = $1 AND worker = $2",
                vals![id, worker, if failed { "failed" } else { "done" }, now()],
            )
        })?;
        Ok(())
    }

    /// Items held by workers of this host (`host:pid`): (id, worker, inbox, folder).
    pub fn claimed_on_host(
        &self,
        host: &str,
    ) -> Result<Vec<(i64, String, QueueItem)>, RecordsError> {
        let rows = self.db.run(|e| {
            e.query(
                "SELECT id, worker, inbox, folder, attempts FROM work_queue
                  WHERE state = 'claimed' AND worker LIKE $1 ORDER BY id",
                vals![format!("{host}:%")],
            )
        })?;
        rows.iter()
            .map(|r| {
                let id = r.get(0)?;
                Ok((
                    id,
                    r.get(1)?,
                    QueueItem {
                        id,
                        inbox: r.get(2)?,
                        folder: r.get(3)?,
                        retaken: r.get::<i64>(4)? > 1,
                    },
                ))
            })
            .collect()
    }

    /// Takes over an item still claimed by `from` (a dead worker of this
    /// host) for `to`, with a fresh lease. False when `from` no longer holds
    /// it (its lease ran out and another worker claimed it).
    pub fn take_over(
        &self,
        id: i64,
        from: &str,
        to: &str,
        lease_secs: i64,
    ) -> Result<bool, RecordsError> {
        let n = self.db.run(|e| {
            e.execute(
                "UPDATE work_queue SET worker = $3, lease_until = $4
                  WHERE id = $1 AND worker = $2 AND state = 'claimed'",
                vals![id, from, to, epoch() + lease_secs],
            )
        })?;
        Ok(n == 1)
    }

    /// Puts back an item whose worker died: queued again, or done when its
    /// folder is gone (its scans were moved out after it was archived).
    pub fn release_dead(&self, id: i64, worker: &str, done: bool) -> Result<(), RecordsError> {
        self.db.run(|e| {
            e.execute(
                "UPDATE work_queue SET state = $3, finished_at = $4 WHERE id = $1 AND worker = $2 AND state = 'claimed'",
                vals![id, worker, if done { "done" } else { "queued" }, done.then(now)],
            )
        })?;
        Ok(())
    }

    /// Whether a worker other than `worker` holds, under a live lease, an
    /// item of a folder named `folder` (the same dossier, changed since, or
    /// in another inbox): then PDFs of that dossier no record points at yet
    /// may be that worker's, about to be recorded.
    pub fn others_hold_folder(&self, folder: &str, worker: &str) -> Result<bool, RecordsError> {
        let n: i64 = self.db.run(|e| {
            e.value(
                "SELECT COUNT(*) FROM work_queue
                  WHERE folder = $1 AND worker <> $2 AND state = 'claimed' AND lease_until >= $3",
                vals![folder, worker, epoch()],
            )
        })?;
        Ok(n > 0)
    }

    /// Items not finished yet (queued, or held by some worker).
    pub fn unfinished_items(&self) -> Result<u64, RecordsError> {
        Ok(self.db.run(|e| {
            e.value(
                "SELECT COUNT(*) FROM work_queue WHERE state IN ('queued', 'claimed')",
                &[],
            )
        })?)
    }
}
