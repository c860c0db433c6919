//! Schema migrations, embedded and applied in order at open. Each runs once,
//! in a transaction, and is recorded in `schema_migrations`. SQLite and
//! PostgreSQL each have their own SQL (`sql/sqlite`, `sql/postgres`) for the
//! same tables; the numbers match.

use super::db::{vals, Db};
use super::RecordsError;

const SQLITE: &[(u32, &str)] = &[
    (1, include_str!("sql/sqlite/0001_init.sql")),
    (2, include_str!("sql/sqlite/0002_watch.sql")),
    (3, include_str!("sql/sqlite/0003_register.sql")),
    (4, include_str!("sql/sqlite/0004_queue.sql")),
    (5, include_str!("sql/sqlite/0005_stations.sql")),
    (6, include_str!("sql/sqlite/0006_sync.sql")),
    (7, include_str!("sql/sqlite/0007_serve.sql")),
    (8, include_str!("sql/sqlite/0008_resumable.sql")),
    (9, include_str!("sql/sqlite/0009_register_note.sql")),
    (10, include_str!("sql/sqlite/0010_blank_documents.sql")),
    (11, include_str!("sql/sqlite/0011_signatures.sql")),
    (12, include_str!("sql/sqlite/0012_signed_sync.sql")),
    (13, include_str!("sql/sqlite/0013_signed_report.sql")),
];

const POSTGRES: &[(u32, &str)] = &[
    (1, include_str!("sql/postgres/0001_init.sql")),
    (2, include_str!("sql/postgres/0002_watch.sql")),
    (3, include_str!("sql/postgres/0003_register.sql")),
    (4, include_str!("sql/postgres/0004_queue.sql")),
    (5, include_str!("sql/postgres/0005_stations.sql")),
    (6, include_str!("sql/postgres/0006_sync.sql")),
    (7, include_str!("sql/postgres/0007_serve.sql")),
    (8, include_str!("sql/postgres/0008_resumable.sql")),
    (9, include_str!("sql/postgres/0009_register_note.sql")),
    (10, include_str!("sql/postgres/0010_blank_documents.sql")),
    (11, include_str!("sql/postgres/0011_signatures.sql")),
    (12, include_str!("sql/postgres/0012_signed_sync.sql")),
    (13, include_str!("sql/postgres/0013_signed_report.sql")),
];

/// Applies what is missing, all in one transaction: workers starting together
/// on PostgreSQL queue behind an advisory lock, on SQLite behind the write lock.
pub fn apply(db: &Db) -> Result<(), RecordsError> {
    let list = if db.is_sqlite() { SQLITE } else { POSTGRES };
    db.transaction(|e| {
        if !e.is_sqlite() {
            e.execute("SELECT pg_advisory_xact_lock(706168)", &[])?;
        }
        e.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        for (version, sql) in list {
            let done: i64 = e.value(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                vals![*version],
            )?;
            if done == 0 {
                e.batch(sql)?;
                e.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    vals![*version, super::now()],
                )?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
