//! Schema migrations, embedded and applied in order at open. Each runs once,
//! in a transaction, and is recorded in `schema_migrations`.

use super::RecordsError;
use rusqlite::Connection;

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("sql/0001_init.sql")),
    (2, include_str!("sql/0002_watch.sql")),
    (3, include_str!("sql/0003_register.sql")),
];

pub fn apply(conn: &mut Connection) -> Result<(), RecordsError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))",
                [version],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
