//! gantry's persistence: the run history in an embedded SQLite database,
//! and caches and artifacts as content-addressed blobs, all under one home
//! folder (`$GANTRY_HOME`):
//!
//! ```text
//! gantry.db            run history, cache and artifact index (SQLite, WAL)
//! blobs/blake3/ab/…    zstd-compressed blobs named by the BLAKE3 hash of their bytes
//! blobs/tmp/           blobs being written
//! logs/<run>/<job>/    log files the executor writes (job.log, <step>.log)
//! locks/<token>.lock   held by each process that records runs
//! ```
//!
//! This is the only crate that speaks SQL. Several processes may use one
//! home at once: SQLite serialises writers (`BEGIN IMMEDIATE` with a busy
//! timeout), blobs never change once written, and a blob file is moved
//! into place or deleted only while holding the database's write lock.
//! The store writes what it is given: masking secrets is the caller's job.

mod archive;
mod artifacts;
mod blobs;
mod cache;
mod db;
mod deployments;
mod error;
mod history;
mod home;
mod incidents;
mod logs;
mod outbox;
mod outputs;
mod owner;
mod paths;
mod rollouts;
mod run_query;
mod test_results;
mod time;
mod tokens;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use archive::{ArchiveStats, pack, unpack};
pub use artifacts::{ArtifactInfo, DEFAULT_RETENTION_DAYS};
pub use blobs::{
    BlobInfo, BlobReader, BlobWriter, Blobs, COMPRESSION_LEVEL, Digest, ParseDigestError,
    PendingBlob,
};
pub use cache::{
    CacheEntry, CacheList, CacheListDocument, DEFAULT_CACHE_LIMIT, PruneDocument, PrunePolicy,
    PruneReport, RestoredCache, SavedCache,
};
pub use db::{MIGRATIONS, Migration, schema_version};
pub use deployments::{
    Deployment, DeploymentId, DeploymentState, DeploymentStatus, DeploymentsDocument,
    EnvironmentApproval, NewDeployment, StateChange,
};
pub use error::StoreError;
pub use history::{
    CacheEvent, CacheEventRecord, Conclusion, HistoryWrite, JobRecord, JobRowId, NewJob, NewRun,
    NewStep, ParseIdError, RunDetail, RunDetailDocument, RunId, RunSummary, RunsDocument,
    StepRecord, StepRowId,
};

/// The version of the JSON documents of this crate (`runs`, `runs show`,
/// `cache list`, `cache prune`), raised when a field changes meaning or
/// goes away.
pub const DOCUMENT_VERSION: u32 = 1;
pub use incidents::{Incident, IncidentId, IncidentsDocument, MAX_TITLE as MAX_INCIDENT_TITLE};
pub use logs::{LogSection, LogStep, RunLogs};
pub use outbox::{
    Attempt, Delivery, DeliveryFilter, DeliveryId, DeliveryStatus, Enqueued, NewDelivery,
};
pub use outputs::RunOutputs;
pub use paths::{EntryKind, PathEntry, PathPatterns};
pub use rollouts::RolloutRecord;
pub use run_query::{Counts, DurationHistogram, RunQuery, RunStats};
pub use test_results::{
    FailedTest, FailingCase, FlakyEntry, FlakyReport, JobTests, NewTestReport, StoredCase,
    StoredReport, TestCounts, TestEvidence, TestQuery, TestsReport,
};
pub use time::{Clock, Timestamp, system_clock};
pub use tokens::{NewToken, TokenInfo};
pub use writer::{HistoryError, HistoryWriter};

pub use home::{DATABASE_FILE, HOME_ENV, Home};

/// Settings of a [`Store`].
#[derive(Clone)]
pub struct StoreOptions {
    /// Total compressed size of all caches; saving a cache evicts the least
    /// recently used ones beyond it.
    pub cache_limit_bytes: u64,
    /// Retention of artifacts uploaded without `retention-days`.
    pub default_retention_days: u32,
    /// Where the current time comes from.
    pub clock: Clock,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_limit_bytes: DEFAULT_CACHE_LIMIT,
            default_retention_days: DEFAULT_RETENTION_DAYS,
            clock: system_clock(),
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("cache_limit_bytes", &self.cache_limit_bytes)
            .field("default_retention_days", &self.default_retention_days)
            .finish_non_exhaustive()
    }
}

/// The run history, caches and artifacts of one home folder. `Send` and
/// `Sync`: share it between threads with an `Arc`. Keep it alive while a
/// run it began is going on: its lock is what tells other processes that
/// the run has not crashed.
pub struct Store {
    home: Home,
    db_path: PathBuf,
    conn: Mutex<Connection>,
    blobs: Blobs,
    owner: Mutex<Option<owner::Owner>>,
    options: StoreOptions,
    crashed: Vec<RunId>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("home", &self.home)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating) `home/gantry.db` and `home/blobs/`, applies the
    /// migrations, and marks runs whose process has died as crashed.
    pub fn open(home: &Path) -> Result<Store, StoreError> {
        Store::open_with(home, StoreOptions::default())
    }

    /// [`Store::open`] with settings.
    pub fn open_with(home: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        Store::open_in(&Home::new(home), options)
    }

    /// Opens (creating) the store of `home`.
    pub fn open_in(home: &Home, options: StoreOptions) -> Result<Store, StoreError> {
        let conn = db::open(home, true)?.ok_or_else(|| StoreError::UnusableDatabase {
            path: home.database(),
            reason: "it could not be created".into(),
        })?;
        Store::with_connection(home, conn, options)
    }

    /// Opens the store of `home` if a run database exists there; `None`
    /// when nothing was ever recorded (and then nothing is created). What
    /// is in the database's place and is not a gantry database, or a home
    /// that is not a folder, is an error.
    pub fn open_existing(home: &Home, options: StoreOptions) -> Result<Option<Store>, StoreError> {
        match db::open(home, false)? {
            Some(conn) => Store::with_connection(home, conn, options).map(Some),
            None => Ok(None),
        }
    }

    fn with_connection(
        home: &Home,
        conn: Connection,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let blobs_dir = home.blobs();
        std::fs::create_dir_all(&blobs_dir).map_err(|e| StoreError::io("create", &blobs_dir, e))?;
        let db_path = home.database();
        let mut store = Store {
            home: home.clone(),
            db_path,
            conn: Mutex::new(conn),
            blobs: Blobs::new(blobs_dir),
            owner: Mutex::new(None),
            options,
            crashed: Vec::new(),
        };
        store.crashed = store.mark_crashed_runs()?;
        Ok(store)
    }

    /// The home folder.
    pub fn home(&self) -> &Path {
        self.home.root()
    }

    /// The home folder's layout.
    pub fn layout(&self) -> &Home {
        &self.home
    }

    /// The database file.
    pub fn database_path(&self) -> &Path {
        &self.db_path
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The content-addressed blob files.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// The runs that [`Store::open`] found cut off and marked as crashed.
    pub fn crashed_on_open(&self) -> &[RunId] {
        &self.crashed
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.options.clock)()
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves the connection
        // usable: SQLite rolls back the unfinished transaction on drop.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| self.db_error(e))?;
        let value = f(&tx).map_err(|e| self.tx_error(e))?;
        tx.finish().map_err(|e| self.db_error(e))?;
        Ok(value)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`), committed when
    /// `f` succeeds and rolled back otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, TxError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.db_error(e))?;
        let value = f(&tx).map_err(|e| self.tx_error(e))?;
        tx.commit().map_err(|e| self.db_error(e))?;
        Ok(value)
    }

    pub(crate) fn db_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.db_path.clone(),
            source,
        }
    }

    pub(crate) fn tx_error(&self, e: TxError) -> StoreError {
        match e {
            TxError::Db(source) => self.db_error(source),
            TxError::Invalid(what) => StoreError::InvalidRecord {
                path: self.db_path.clone(),
                what,
            },
            TxError::Store(e) => e,
        }
    }

    /// The token of this process's lock, taken on first use.
    pub(crate) fn owner_token(&self) -> Result<String, StoreError> {
        let mut owner = self
            .owner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(o) = owner.as_ref() {
            return Ok(o.token().to_string());
        }
        let o = owner::Owner::acquire(self.home.root())?;
        let token = o.token().to_string();
        *owner = Some(o);
        Ok(token)
    }
}

/// An error inside a transaction: SQL, a malformed row, or anything else.
#[derive(Debug)]
pub(crate) enum TxError {
    Db(rusqlite::Error),
    Invalid(String),
    Store(StoreError),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

/// Converts an unsigned count or id to SQLite's integer.
pub(crate) fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Converts SQLite's integer back, refusing negatives.
pub(crate) fn from_sql_int(n: i64, what: &str) -> Result<u64, TxError> {
    u64::try_from(n).map_err(|_| TxError::Invalid(format!("{what} is negative ({n})")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_store_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<super::Store>();
        shared::<super::HistoryWriter>();
    }
}
