//! The SQLite connection: WAL journal, busy timeout, foreign keys, and the
//! versioned migrations.
//!
//! Each migration is one SQL file in `migrations/`, applied in its own
//! `BEGIN IMMEDIATE` transaction that also records it in
//! `schema_migrations` and sets `PRAGMA user_version`. Migrations are only
//! ever appended; a database whose version is newer than the last one here
//! was written by a newer gantry and is refused.

use std::fs::{self, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::StoreError;
use crate::home::{DATABASE_FILE, Home};
use crate::time::Timestamp;

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order; versions count up from 1 without gaps.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "test_results",
        sql: include_str!("../migrations/0002_test_results.sql"),
    },
    Migration {
        version: 3,
        name: "outbox",
        sql: include_str!("../migrations/0003_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "deployments",
        sql: include_str!("../migrations/0004_deployments.sql"),
    },
    Migration {
        version: 5,
        name: "rollouts",
        sql: include_str!("../migrations/0005_rollouts.sql"),
    },
    Migration {
        version: 6,
        name: "api_tokens",
        sql: include_str!("../migrations/0006_api_tokens.sql"),
    },
    Migration {
        version: 7,
        name: "incidents",
        sql: include_str!("../migrations/0007_incidents.sql"),
    },
    Migration {
        version: 8,
        name: "job_queue",
        sql: include_str!("../migrations/0008_job_queue.sql"),
    },
];

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// How long a statement waits for another process's write lock, and an
/// open for another process's set-up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Opens the database of `home`, creating it (and the home) when `create`
/// and it does not exist; `None` when it does not exist and not `create`.
///
/// Everything that changes the file's set-up (creating it, switching it
/// to WAL, migrating it) happens while holding `locks/setup.lock`: SQLite
/// cannot wait for a journal-mode switch the way it waits for a write
/// lock, so processes opening one home at once take turns instead. A new
/// database is built under a temporary name and renamed into place, so
/// `gantry.db` is never an empty file that gantry left behind: an empty,
/// foreign or non-SQLite file there is refused, not taken over.
pub(crate) fn open(home: &Home, create: bool) -> Result<Option<Connection>, StoreError> {
    let path = home.database();
    if !create && !home.exists()? {
        return Ok(None);
    }
    if !create && !inspect(&path)? {
        return Ok(None);
    }
    home.create()?;
    let _setup = SetupLock::acquire(home)?;
    if !inspect(&path)? {
        if !create {
            return Ok(None);
        }
        create_database(home, &path)?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&path, flags).map_err(|e| db_error(&path, e))?;
    set_up(&mut conn, &path)?;
    Ok(Some(conn))
}

fn db_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Database {
        path: path.to_path_buf(),
        source,
    }
}

fn unusable(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::UnusableDatabase {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Whether the database file exists; an error when what is there cannot
/// be a database: a folder, a device or FIFO (also through a link), a
/// dangling link, an empty file, or a file that is not SQLite.
fn inspect(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(StoreError::io("inspect", path, e)),
        Ok(_) => {}
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(unusable(path, "it is a link to a file that does not exist"));
        }
        Err(e) => return Err(StoreError::io("inspect", path, e)),
    };
    if meta.is_dir() {
        return Err(unusable(path, "it is a folder, not a database file"));
    }
    if !meta.is_file() {
        return Err(unusable(
            path,
            "it is not a regular file (a device, FIFO or socket)",
        ));
    }
    if meta.len() == 0 {
        return Err(unusable(
            path,
            "it is an empty file, which gantry never leaves behind",
        ));
    }
    let mut head = [0u8; 16];
    let read = fs::File::open(path)
        .and_then(|f| {
            let mut n = 0;
            let mut f = f.take(16);
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .map_err(|e| StoreError::io("read", path, e))?;
    if read < head.len() || &head != SQLITE_MAGIC {
        return Err(unusable(path, "it is not an SQLite database"));
    }
    Ok(true)
}

/// Builds a new database under a temporary name, then renames it into
/// place.
fn create_database(home: &Home, path: &Path) -> Result<(), StoreError> {
    let temp = home
        .root()
        .join(format!("{DATABASE_FILE}.new-{}", std::process::id()));
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", temp.display()));
        if let Err(e) = fs::remove_file(&p)
            && e.kind() != io::ErrorKind::NotFound
        {
            return Err(StoreError::io("remove", &p, e));
        }
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&temp, flags).map_err(|e| db_error(&temp, e))?;
    set_up(&mut conn, &temp)?;
    // Closing the only connection checkpoints the WAL into the file.
    conn.close().map_err(|(_, e)| db_error(&temp, e))?;
    fs::rename(&temp, path).map_err(|e| StoreError::io("rename", &temp, e))
}

/// WAL journal, busy timeout, foreign keys, a check that this is gantry's
/// database, and the migrations. Called under the set-up lock.
fn set_up(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let db_err = |source| db_error(path, source);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    // WAL: readers never block the writer, and writers of several
    // processes queue on the busy timeout. The mode is kept in the file:
    // once set, opening only reads it.
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(db_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(unusable(
                path,
                format!("the journal mode could not be set to WAL (it is {mode})"),
            ));
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(db_err)?;
    // Up to 32 MiB of pages in memory (SQLite's default is 2 MiB): one
    // large transaction, such as a suite's 100,000 test cases and their
    // two indexes, then writes each page once instead of spilling and
    // reading back. Memory is only taken as pages are used.
    conn.pragma_update(None, "cache_size", -32_768)
        .map_err(db_err)?;
    check_is_gantry(conn, path)?;
    migrate(conn, path)
}

/// Refuses an SQLite database that another program made: one with tables
/// but no schema version, or a version without gantry's migration table.
fn check_is_gantry(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let db_err = |source| db_error(path, source);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(db_err)?;
    let has_migrations: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(db_err)?
        > 0;
    if (version == 0 && objects > 0) || (version > 0 && !has_migrations) {
        return Err(unusable(
            path,
            "it is an SQLite database of another program, not gantry's run history",
        ));
    }
    Ok(())
}

/// An exclusive lock on `locks/setup.lock`, held while a database is
/// created, switched to WAL or migrated.
struct SetupLock {
    _file: fs::File,
}

impl SetupLock {
    fn acquire(home: &Home) -> Result<SetupLock, StoreError> {
        let dir = home.locks();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create", &dir, e))?;
        let path = dir.join("setup.lock");
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open", &path, e))?;
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SetupLock { _file: file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::io(
                        "lock",
                        &path,
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            "another process has been setting up the database for 60 s",
                        ),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(StoreError::io("lock", &path, e)),
            }
        }
    }
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
        let home = Home::new(dir.path());
        let path = home.database();
        let mut conn = open(&home, true).unwrap().unwrap();
        migrate(&mut conn, &path).unwrap();
        let applied: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, schema_version());
    }
}
