//! The SQLite connection: WAL journal, busy timeout, foreign keys, and the
//! versioned migrations.
//!
//! Each migration is one SQL file in `migrations/`, applied in its own
//! `BEGIN IMMEDIATE` transaction that also records it in
//! `schema_migrations` and sets `PRAGMA user_version`. Migrations are only
//! ever appended; a database whose version is newer than the last one here
//! was written by a newer gantry and is refused.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::StoreError;
use crate::time::Timestamp;

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order; versions count up from 1 without gaps.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../migrations/0001_initial.sql"),
}];

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens (creating) the database at `path` and brings its schema up to
/// date.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let db_err = |source| StoreError::Database {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(db_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    // WAL: readers never block the writer, and writers of several
    // processes queue on the busy timeout.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(db_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::InvalidRecord {
            path: path.to_path_buf(),
            what: format!("the journal mode could not be set to WAL (it is {mode})"),
        });
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(db_err)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Applies the migrations the database lacks.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let db_err = |source| StoreError::Database {
        path: path.to_path_buf(),
        source,
    };
    let latest = schema_version();
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)?;
        if current > latest {
            return Err(StoreError::DatabaseTooNew {
                path: path.to_path_buf(),
                found: current,
                supported: latest,
            });
        }
        let Some(next) = MIGRATIONS.iter().find(|m| m.version == current + 1) else {
            return Ok(());
        };
        let migration_err = |source| StoreError::Migration {
            path: path.to_path_buf(),
            version: next.version,
            name: next.name,
            source,
        };
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT    NOT NULL,
                applied_at INTEGER NOT NULL
            )",
        )
        .map_err(migration_err)?;
        tx.execute_batch(next.sql).map_err(migration_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            (next.version, next.name, Timestamp::now().millis()),
        )
        .map_err(migration_err)?;
        // PRAGMA takes no parameters; the version is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", next.version))
            .map_err(migration_err)?;
        tx.commit().map_err(migration_err)?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i64::try_from(i).unwrap() + 1, "{}", m.name);
        }
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let mut conn = open(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        let applied: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, schema_version());
    }
}
