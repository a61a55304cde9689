//! The ledger on disk: an append-only log under one folder.
//!
//! ```text
//! entries      frames: u32 big-endian length, the entry bytes, their RFC 6962 leaf hash
//! hashes       every complete subtree hash, 32 bytes each, in post-order (tree.rs)
//! index        u64 big-endian offset of each frame
//! committed    two slots, each the acknowledged size, its bytes of `entries`, its root (committed.rs)
//! lock         held exclusively by an appender or `repair`, shared by readers
//! log.key      the log's Ed25519 signed-note key (mode 0600); log.pub its verifier key
//! checkpoints/ every signed checkpoint, <size>.note; checkpoint is the latest
//! ```
//!
//! An append writes the frames to `entries`, the hashes to `hashes` and
//! the offsets to `index` and syncs the three at once, then overwrites the
//! older slot of `committed` with the next record and syncs it, and only
//! then returns: an entry is acknowledged when the newest valid slot
//! counts it. Bytes past what it counts belong to an append that never
//! returned (a torn tail); so does a newest slot left unreadable by a crash
//! while it was written, when the other slot is valid and consistent and
//! the data past it is exactly what that append wrote before its slot.
//!
//! Nothing here repairs behind the caller's back: opening, reading and
//! [`Ledger::verify`] never write. A torn tail is reported by `verify`,
//! refused by [`Ledger::append`] and removed only by [`Ledger::repair`],
//! which refuses to drop anything that was acknowledged. A missing or
//! damaged log key is an error; a key is generated only when the ledger is
//! created.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::LedgerError;
use crate::checkpoint::Checkpoint;
use crate::committed::{CommitFile, Committed, CommittedError, SLOT_BYTES, Slot, SlotState};
use crate::hash::{Hash, empty_root, leaf_hash, to_hex};
use crate::note::{NoteSigner, NoteVerifier};
use crate::tree::{self, NodeSource, hashes_for_append, stored_count, stored_index};

/// Most bytes one entry may have.
pub const MAX_ENTRY_BYTES: usize = 64 << 20;
const FRAME_OVERHEAD: u64 = 4 + 32;

const ENTRIES: &str = "entries";
const HASHES: &str = "hashes";
const INDEX: &str = "index";
const COMMITTED: &str = "committed";
const LOCK: &str = "lock";
const LOG_KEY: &str = "log.key";
const LOG_PUB: &str = "log.pub";
const CHECKPOINTS: &str = "checkpoints";
const LATEST: &str = "checkpoint";

/// An open ledger.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    lock: File,
}

/// Holds the lock file's lock until dropped.
struct LockGuard<'a>(&'a File);

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The version of the JSON documents this crate's reports serialise to.
pub const REPORT_VERSION: u32 = 1;

/// Refuses anything but a regular file before it is opened: a FIFO would
/// block the open, a device would never end.
fn regular(path: &Path) -> Result<(), LedgerError> {
    match gantry_fs::check_regular(path) {
        Err(e) if !e.is_not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

fn open_rw(path: &Path) -> Result<File, LedgerError> {
    regular(path)?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))
}

fn create_rw(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| LedgerError::io("create", path, e))
}

/// Most bytes read of a small ledger file (a key, the commit record, a
/// checkpoint): one more than any valid one holds, so a larger file is
/// rejected by its parser without being read whole.
const MAX_SMALL_FILE: u64 = crate::note::MAX_NOTE_BYTES as u64 + 1;

/// A small file's bytes (at most [`MAX_SMALL_FILE`]); `None` when it does
/// not exist. Anything but a regular file (a FIFO, a device) is an error,
/// never opened.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, LedgerError> {
    use std::io::Read as _;
    let file = match gantry_fs::open_regular(path) {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut bytes = Vec::new();
    file.take(MAX_SMALL_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| LedgerError::io("read", path, e))?;
    Ok(Some(bytes))
}

fn nonempty(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

fn open_ro(path: &Path) -> Result<File, LedgerError> {
    regular(path)?;
    File::open(path).map_err(|e| LedgerError::io("open", path, e))
}

fn len_of(file: &File, path: &Path) -> Result<u64, LedgerError> {
    Ok(file
        .metadata()
        .map_err(|e| LedgerError::io("inspect", path, e))?
        .len())
}

fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LedgerError::io("sync", dir, e))
}

/// Writes `bytes` to `path` atomically and durably: a temporary file,
/// fsync, rename, fsync of the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), LedgerError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| LedgerError::io("create", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| LedgerError::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| LedgerError::io("sync", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LedgerError::io("rename", &tmp, e))?;
    sync_dir(dir)
}

/// The three data files of a log, open.
struct Files {
    dir: PathBuf,
    entries: File,
    hashes: File,
    index: File,
}

impl Files {
    fn open(dir: &Path, write: bool) -> Result<Files, LedgerError> {
        let open = if write { open_rw } else { open_ro };
        Ok(Files {
            dir: dir.to_path_buf(),
            entries: open(&dir.join(ENTRIES))?,
            hashes: open(&dir.join(HASHES))?,
            index: open(&dir.join(INDEX))?,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read_at(
        &self,
        file: &File,
        name: &str,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<(), LedgerError> {
        file.read_exact_at(buf, offset)
            .map_err(|e| LedgerError::io("read", &self.path(name), e))
    }

    fn offset(&self, i: u64) -> Result<u64, LedgerError> {
        let mut b = [0u8; 8];
        self.read_at(&self.index, INDEX, &mut b, i * 8)?;
        Ok(u64::from_be_bytes(b))
    }

    /// Reads the frame at `offset`: the entry and its recorded leaf hash.
    /// `None` when it is cut short or its hash does not match.
    fn frame(&self, offset: u64, file_len: u64) -> Result<Option<(Vec<u8>, Hash)>, LedgerError> {
        if offset
            .checked_add(FRAME_OVERHEAD)
            .is_none_or(|end| end > file_len)
        {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        self.read_at(&self.entries, ENTRIES, &mut len, offset)?;
        let len = u64::from(u32::from_be_bytes(len));
        if len > MAX_ENTRY_BYTES as u64 || offset + FRAME_OVERHEAD + len > file_len {
            return Ok(None);
        }
        let mut buf = vec![0u8; usize::try_from(len + 32).unwrap_or(0)];
        self.read_at(&self.entries, ENTRIES, &mut buf, offset + 4)?;
        let recorded: Hash = buf[buf.len() - 32..].try_into().unwrap_or([0; 32]);
        buf.truncate(buf.len() - 32);
        if leaf_hash(&buf) != recorded {
            return Ok(None);
        }
        Ok(Some((buf, recorded)))
    }

    fn stored_hash(&self, i: u64) -> Result<Hash, LedgerError> {
        let mut h = [0u8; 32];
        self.read_at(&self.hashes, HASHES, &mut h, i * 32)?;
        Ok(h)
    }

    fn lens(&self) -> Result<(u64, u64, u64), LedgerError> {
        Ok((
            len_of(&self.entries, &self.path(ENTRIES))?,
            len_of(&self.index, &self.path(INDEX))?,
            len_of(&self.hashes, &self.path(HASHES))?,
        ))
    }

    /// Makes the three data files durable, syncing them at the same time:
    /// their order does not matter, only that all three are durable before
    /// the commit slot is written, and a journalling file system commits
    /// concurrent syncs together. Where no thread can be started they are
    /// synced one after another.
    fn sync_data(&self) -> Result<(), LedgerError> {
        let sync = |file: &File, name: &'static str| {
            file.sync_data()
                .map_err(|e| LedgerError::io("sync", &self.path(name), e))
        };
        std::thread::scope(|scope| {
            let others = [(&self.hashes, HASHES), (&self.index, INDEX)].map(|(file, name)| {
                let thread = std::thread::Builder::new()
                    .spawn_scoped(scope, move || sync(file, name))
                    .ok();
                (file, name, thread)
            });
            let mut result = sync(&self.entries, ENTRIES);
            for (file, name, thread) in others {
                let synced = match thread {
                    Some(t) => t.join().unwrap_or_else(|_| {
                        Err(LedgerError::io(
                            "sync",
                            &self.path(name),
                            std::io::Error::other("the syncing thread panicked"),
                        ))
                    }),
                    None => sync(file, name),
                };
                result = result.and(synced);
            }
            result
        })
    }

    fn truncate(&self, file: &File, name: &str, len: u64) -> Result<(), LedgerError> {
        file.set_len(len)
            .map_err(|e| LedgerError::io("truncate", &self.path(name), e))?;
        file.sync_all()
            .map_err(|e| LedgerError::io("sync", &self.path(name), e))
    }
}

/// Stored hashes on disk with not-yet-written ones after them.
struct Overlay<'a> {
    files: &'a Files,
    on_disk: u64,
    pending: Vec<Hash>,
}

impl NodeSource for Overlay<'_> {
    fn node(&self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        let i = stored_index(level, index);
        if i < self.on_disk {
            return self.files.stored_hash(i);
        }
        usize::try_from(i - self.on_disk)
            .ok()
            .and_then(|j| self.pending.get(j))
            .copied()
            .ok_or_else(|| LedgerError::Corrupt(format!("missing hash of node ({level}, {index})")))
    }
}

/// A consistent view of the first `size` entries.
pub struct Snapshot {
    files: Files,
    size: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl NodeSource for Snapshot {
    fn node(&self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        let i = stored_index(level, index);
        if i >= stored_count(self.size) {
            return Err(LedgerError::Corrupt(format!(
                "node ({level}, {index}) is beyond the log"
            )));
        }
        self.files.stored_hash(i)
    }
}

impl Snapshot {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Entry `index`'s bytes and leaf hash.
    pub fn entry(&self, index: u64) -> Result<(Vec<u8>, Hash), LedgerError> {
        if index >= self.size {
            return Err(LedgerError::NoSuchEntry {
                index,
                size: self.size,
            });
        }
        let len = len_of(&self.files.entries, &self.files.path(ENTRIES))?;
        let offset = self.files.offset(index)?;
        self.files.frame(offset, len)?.ok_or_else(|| {
            LedgerError::Corrupt(format!("entry {index} at byte {offset} is damaged"))
        })
    }

    /// Calls `f` with every entry's index and bytes, in log order, reading
    /// the entries file sequentially in large blocks (one read per block
    /// instead of three per entry). Each entry's bytes are checked against
    /// the leaf hash recorded with them, as [`Snapshot::entry`] checks them.
    pub fn for_each_entry<E: From<LedgerError>>(
        &self,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        const BLOCK: u64 = 1 << 20;
        if self.size == 0 {
            return Ok(());
        }
        let file_len = len_of(&self.files.entries, &self.files.path(ENTRIES))?;
        let mut buf: Vec<u8> = Vec::new();
        // `buf` holds the file's bytes from `start`.
        let mut start = 0u64;
        let mut pos = self.files.offset(0)?;
        let damaged = |index: u64, at: u64| {
            LedgerError::Corrupt(format!("entry {index} at byte {at} is damaged"))
        };
        for index in 0..self.size {
            let fill = |need_end: u64, buf: &mut Vec<u8>, start: &mut u64| {
                if need_end <= *start + buf.len() as u64 {
                    return Ok(());
                }
                if need_end > file_len {
                    return Err(damaged(index, pos));
                }
                let end = file_len.min(need_end.max(pos + BLOCK));
                let len = usize::try_from(end - pos).map_err(|_| damaged(index, pos))?;
                buf.resize(len, 0);
                self.files.read_at(&self.files.entries, ENTRIES, buf, pos)?;
                *start = pos;
                Ok::<(), LedgerError>(())
            };
            fill(pos + 4, &mut buf, &mut start)?;
            let at = usize::try_from(pos - start).map_err(|_| damaged(index, pos))?;
            let mut len = [0u8; 4];
            len.copy_from_slice(&buf[at..at + 4]);
            let len = u64::from(u32::from_be_bytes(len));
            if len > MAX_ENTRY_BYTES as u64 {
                return Err(damaged(index, pos).into());
            }
            let end = pos + FRAME_OVERHEAD + len;
            fill(end, &mut buf, &mut start)?;
            let at = usize::try_from(pos - start).map_err(|_| damaged(index, pos))?;
            let body = at + 4;
            let split = body + usize::try_from(len).map_err(|_| damaged(index, pos))?;
            let entry = &buf[body..split];
            if leaf_hash(entry)[..] != buf[split..split + 32] {
                return Err(damaged(index, pos).into());
            }
            f(index, entry)?;
            pos = end;
        }
        Ok(())
    }

    /// The root of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        tree::root(self, size)
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.size {
            return Err(LedgerError::SizeBeyondLog {
                size,
                current: self.size,
            });
        }
        Ok(())
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        if index >= size {
            return Err(LedgerError::NoSuchEntry { index, size });
        }
        tree::inclusion_proof(self, index, size)
    }

    /// The consistency proof from `old` to `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(new)?;
        tree::consistency_proof(self, old, new)
    }
}

/// What a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// Acknowledged evidence, its derived data, a key or a checkpoint
    /// differs from what it must be.
    Damage,
    /// Bytes past the acknowledged log, left by an append that never
    /// returned; `repair` removes them.
    UnacknowledgedTail,
}

/// One problem `verify` found, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file (`entries`, `index`, `hashes`, `checkpoints/12.note`, ...).
    pub file: String,
    /// Where in it: `entry 12 (bytes 4410..4982)`, `hash 31 (level 2, node 3: entries 12..16)`.
    pub location: String,
    /// The first acknowledged entry the problem concerns, when it is known.
    pub entry: Option<u64>,
    pub message: String,
}

/// What `verify` checked and found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub version: u32,
    /// Whether nothing was found.
    pub ok: bool,
    /// Acknowledged entries.
    pub entries: u64,
    /// The root recomputed over them, hex.
    #[serde(rename = "root_hash")]
    pub root: String,
    /// Sizes of the checkpoints that verified.
    pub checkpoints: Vec<u64>,
    pub problems: Vec<Problem>,
}

impl Default for VerifyReport {
    fn default() -> Self {
        VerifyReport {
            version: REPORT_VERSION,
            ok: true,
            entries: 0,
            root: String::new(),
            checkpoints: Vec::new(),
            problems: Vec::new(),
        }
    }
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether every problem is an unacknowledged tail (`repair` fixes it).
    pub fn only_unacknowledged_tail(&self) -> bool {
        !self.problems.is_empty()
            && self
                .problems
                .iter()
                .all(|p| p.kind == ProblemKind::UnacknowledgedTail)
    }

    fn push(
        &mut self,
        kind: ProblemKind,
        file: impl Into<String>,
        location: impl Into<String>,
        entry: Option<u64>,
        message: impl Into<String>,
    ) {
        self.ok = false;
        self.problems.push(Problem {
            kind,
            file: file.into(),
            location: location.into(),
            entry,
            message: message.into(),
        });
    }

    fn damage(
        &mut self,
        file: impl Into<String>,
        location: impl Into<String>,
        entry: Option<u64>,
        message: impl Into<String>,
    ) {
        self.push(ProblemKind::Damage, file, location, entry, message);
    }

    fn tail(&mut self, file: &str, from: u64, to: u64) {
        self.push(
            ProblemKind::UnacknowledgedTail,
            file,
            format!("bytes {from}..{to}"),
            None,
            "written by an append that never returned (not acknowledged); `gantry ledger repair` removes it",
        );
    }
}

/// A tail `repair` removed from one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedTail {
    pub file: String,
    /// The byte range removed.
    pub from: u64,
    pub to: u64,
}

/// What `repair` did.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    pub version: u32,
    /// Acknowledged entries, all kept.
    pub entries: u64,
    /// Whole frames that were in the removed tail of `entries`.
    pub unacknowledged_frames: u64,
    pub removed: Vec<RemovedTail>,
    /// Whether a missing commit record was written (a ledger from before
    /// it existed).
    pub wrote_commit_record: bool,
    /// Whether a commit slot torn by the interrupted append was rewritten
    /// with the acknowledged extent.
    pub rewrote_torn_slot: bool,
}

/// Most problems of one kind reported before the rest are summarised.
const MAX_REPORTED: usize = 20;

/// A key file's parsed value, or why it could not be used.
fn read_key<T>(
    dir: &Path,
    name: &str,
    parse: impl Fn(&str) -> Result<T, LedgerError>,
    text_of: impl Fn(&T) -> String,
) -> Result<T, LedgerError> {
    let path = dir.join(name);
    let Some(bytes) = read_optional(&path)? else {
        return Err(LedgerError::MissingKey { path });
    };
    let damaged = |reason: String| LedgerError::DamagedKey {
        path: path.clone(),
        reason,
    };
    let text = String::from_utf8(bytes).map_err(|_| damaged("not UTF-8".into()))?;
    let key = parse(&text).map_err(|e| damaged(e.to_string()))?;
    if format!("{}\n", text_of(&key)) != text {
        return Err(damaged(
            "not in its canonical form (one line ending in a newline)".into(),
        ));
    }
    Ok(key)
}

impl Ledger {
    /// Opens an existing ledger in `dir` to read it. Nothing is created,
    /// repaired or written.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        let path = dir.join(LOCK);
        regular(&path)?;
        let lock = File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LedgerError::NotALedger {
                    path: dir.to_path_buf(),
                }
            } else {
                LedgerError::io("open", &path, e)
            }
        })?;
        Ok(Ledger {
            dir: dir.to_path_buf(),
            lock,
        })
    }

    /// Opens the ledger in `dir` to append to it, creating it (and
    /// generating its signing key) when there is none. An existing ledger
    /// must have its commit record and an intact key pair: a missing or
    /// damaged key is an error, never replaced.
    pub fn create_or_open(dir: &Path) -> Result<Ledger, LedgerError> {
        if dir.join(COMMITTED).exists() {
            let ledger = Ledger::open(dir)?;
            ledger.keys()?;
            return Ok(ledger);
        }
        let has_data = [ENTRIES, INDEX, HASHES, LATEST]
            .iter()
            .any(|f| nonempty(&dir.join(f)))
            || std::fs::read_dir(dir.join(CHECKPOINTS)).is_ok_and(|mut d| d.next().is_some());
        if has_data {
            return Err(LedgerError::MissingCommitted {
                path: dir.join(COMMITTED),
            });
        }
        std::fs::create_dir_all(dir.join(CHECKPOINTS))
            .map_err(|e| LedgerError::io("create", dir, e))?;
        let ledger = Ledger {
            dir: dir.to_path_buf(),
            lock: create_rw(&dir.join(LOCK))?,
        };
        {
            let _guard = ledger.lock_exclusive()?;
            if dir.join(COMMITTED).exists() {
                // Another process created it meanwhile.
                ledger.keys()?;
            } else {
                ledger.create_files()?;
            }
        }
        Ok(ledger)
    }

    /// Writes a fresh ledger's keys (when there are none), data files and
    /// empty commit record; the exclusive lock is held.
    fn create_files(&self) -> Result<(), LedgerError> {
        let dir = &self.dir;
        {
            match (dir.join(LOG_KEY).exists(), dir.join(LOG_PUB).exists()) {
                (false, false) => {
                    let mut id = [0u8; 4];
                    getrandom::fill(&mut id).map_err(|e| LedgerError::Random(e.to_string()))?;
                    let name = format!("gantry.local/ledger/{}", to_hex(&id));
                    let signer = NoteSigner::generate(&name)?;
                    write_atomic(
                        &dir.join(LOG_PUB),
                        format!("{}\n", signer.verifier().to_text()).as_bytes(),
                        0o644,
                    )?;
                    write_atomic(
                        &dir.join(LOG_KEY),
                        format!("{}\n", signer.to_text()).as_bytes(),
                        0o600,
                    )?;
                }
                // A creation that stopped after writing the keys.
                _ => {
                    self.keys()?;
                }
            }
            for name in [ENTRIES, HASHES, INDEX] {
                create_rw(&dir.join(name))?
                    .sync_all()
                    .map_err(|e| LedgerError::io("sync", &dir.join(name), e))?;
            }
            sync_dir(dir)?;
            let empty = Committed {
                size: 0,
                entries_bytes: 0,
                root: empty_root(),
            };
            write_atomic(&dir.join(COMMITTED), &CommitFile::fresh(empty), 0o644)?;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock_exclusive(&self) -> Result<LockGuard<'_>, LedgerError> {
        self.lock
            .lock()
            .map_err(|e| LedgerError::io("lock", &self.dir.join(LOCK), e))?;
        Ok(LockGuard(&self.lock))
    }

    fn lock_shared(&self) -> Result<LockGuard<'_>, LedgerError> {
        self.lock
            .lock_shared()
            .map_err(|e| LedgerError::io("lock", &self.dir.join(LOCK), e))?;
        Ok(LockGuard(&self.lock))
    }

    /// The key pair, checked: both present, canonical, and one the public
    /// half of the other.
    fn keys(&self) -> Result<(NoteSigner, NoteVerifier), LedgerError> {
        let signer = read_key(
            &self.dir,
            LOG_KEY,
            NoteSigner::from_text,
            NoteSigner::to_text,
        )?;
        let verifier = read_key(
            &self.dir,
            LOG_PUB,
            NoteVerifier::from_text,
            NoteVerifier::to_text,
        )?;
        if signer.verifier().to_text() != verifier.to_text() {
            return Err(LedgerError::DamagedKey {
                path: self.dir.join(LOG_PUB),
                reason: format!("it is not the public half of {LOG_KEY}"),
            });
        }
        Ok((signer, verifier))
    }

    /// The commit record file, if there is one.
    fn read_commit_file(&self) -> Result<Option<CommitFile>, LedgerError> {
        let path = self.dir.join(COMMITTED);
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        CommitFile::from_bytes(&bytes)
            .map(Some)
            .map_err(|source| LedgerError::DamagedCommitted { path, source })
    }

    /// The commit record file; its absence is an error.
    fn commit_file(&self) -> Result<CommitFile, LedgerError> {
        self.read_commit_file()?
            .ok_or_else(|| LedgerError::MissingCommitted {
                path: self.dir.join(COMMITTED),
            })
    }

    fn damaged_committed(&self, source: CommittedError) -> LedgerError {
        LedgerError::DamagedCommitted {
            path: self.dir.join(COMMITTED),
            source,
        }
    }

    /// The acknowledged extent of the log.
    pub fn committed(&self) -> Result<Committed, LedgerError> {
        self.commit_file()?
            .newest()
            .map_err(|e| self.damaged_committed(e))
    }

    /// Writes the record after the newest over the older slot and syncs
    /// it. A v1 text record is first replaced atomically by a slot file.
    fn write_commit(&self, file: CommitFile, next: Committed) -> Result<(), LedgerError> {
        let path = self.dir.join(COMMITTED);
        let file = match file {
            CommitFile::Legacy(current) => {
                let bytes = CommitFile::fresh(current);
                write_atomic(&path, &bytes, 0o644)?;
                CommitFile::from_bytes(&bytes).map_err(|e| self.damaged_committed(e))?
            }
            slots => slots,
        };
        let (offset, bytes) = file
            .next(next)
            .ok_or_else(|| self.damaged_committed(CommittedError::SequenceExhausted))?;
        let f = open_rw(&path)?;
        f.write_all_at(&bytes, offset)
            .map_err(|e| LedgerError::io("write", &path, e))?;
        f.sync_data().map_err(|e| LedgerError::io("sync", &path, e))
    }

    /// Appends one entry; returns its index once it is acknowledged.
    pub fn append(&self, entry: &[u8]) -> Result<u64, LedgerError> {
        self.append_batch(&[entry])
    }

    /// Appends entries in one commit (one set of fsyncs); returns the index
    /// of the first. Refuses to write on top of an unacknowledged tail.
    pub fn append_batch(&self, entries: &[&[u8]]) -> Result<u64, LedgerError> {
        for e in entries {
            if e.len() > MAX_ENTRY_BYTES {
                return Err(LedgerError::EntryTooLarge {
                    len: e.len(),
                    max: MAX_ENTRY_BYTES,
                });
            }
        }
        let _guard = self.lock_exclusive()?;
        let file = self.commit_file()?;
        let committed = file.newest().map_err(|e| self.damaged_committed(e))?;
        let files = Files::open(&self.dir, true)?;
        let n = committed.size;
        let start = committed.entries_bytes;
        check_extent(&files, &committed, true)?;
        // Never write over a damaged older slot: that would hide it.
        file.check_older().map_err(|e| self.damaged_committed(e))?;
        if let Some((slot, older)) = file.older_slot() {
            let o = older.committed;
            let start = if o.size == n {
                committed.entries_bytes
            } else {
                files.offset(o.size)?
            };
            let stored = Overlay {
                files: &files,
                on_disk: stored_count(n),
                pending: Vec::new(),
            };
            if start != o.entries_bytes || tree::root(&stored, o.size)? != o.root {
                return Err(self.damaged_committed(CommittedError::OlderDisagrees { slot }));
            }
        }
        if entries.is_empty() {
            return Ok(n);
        }
        let mut pos = start;
        let mut buf = Vec::new();
        let mut leaves = Vec::with_capacity(entries.len());
        let mut offsets = Vec::with_capacity(entries.len() * 8);
        for e in entries {
            let leaf = leaf_hash(e);
            let len = u32::try_from(e.len()).map_err(|_| LedgerError::EntryTooLarge {
                len: e.len(),
                max: MAX_ENTRY_BYTES,
            })?;
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(e);
            buf.extend_from_slice(&leaf);
            leaves.push(leaf);
            offsets.extend_from_slice(&pos.to_be_bytes());
            pos += FRAME_OVERHEAD + e.len() as u64;
        }
        let mut overlay = Overlay {
            files: &files,
            on_disk: stored_count(n),
            pending: Vec::new(),
        };
        for (i, leaf) in leaves.iter().enumerate() {
            let new = hashes_for_append(&overlay, n + i as u64, *leaf)?;
            overlay.pending.extend(new);
        }
        let size = n + leaves.len() as u64;
        let root = tree::root(&overlay, size)?;
        let hashes = overlay.pending.concat();
        for (file, name, bytes, at) in [
            (&files.entries, ENTRIES, &buf, start),
            (&files.hashes, HASHES, &hashes, stored_count(n) * 32),
            (&files.index, INDEX, &offsets, n * 8),
        ] {
            file.write_all_at(bytes, at)
                .map_err(|e| LedgerError::io("write", &files.path(name), e))?;
        }
        files.sync_data()?;
        let next = Committed {
            size,
            entries_bytes: pos,
            root,
        };
        self.write_commit(file, next)?;
        Ok(n)
    }

    /// A view of the acknowledged entries.
    pub fn snapshot(&self) -> Result<Snapshot, LedgerError> {
        let _guard = self.lock_shared()?;
        let committed = self.committed()?;
        let files = Files::open(&self.dir, false)?;
        check_extent(&files, &committed, false)?;
        Ok(Snapshot {
            files,
            size: committed.size,
        })
    }

    /// The log's checkpoint signer (checked against `log.pub`).
    pub fn signer(&self) -> Result<NoteSigner, LedgerError> {
        Ok(self.keys()?.0)
    }

    /// The log's verifier key (checked against `log.key`).
    pub fn verifier(&self) -> Result<NoteVerifier, LedgerError> {
        Ok(self.keys()?.1)
    }

    /// Signs a checkpoint of the current tree, stores it under
    /// `checkpoints/<size>.note` and as the latest, and returns it.
    pub fn checkpoint(&self) -> Result<(Checkpoint, String), LedgerError> {
        let snapshot = self.snapshot()?;
        let signer = self.signer()?;
        let checkpoint = Checkpoint {
            origin: signer.name().to_string(),
            size: snapshot.size(),
            root: snapshot.root(snapshot.size())?,
            extensions: Vec::new(),
        };
        let note = checkpoint.sign(&signer)?;
        let path = self
            .dir
            .join(CHECKPOINTS)
            .join(format!("{}.note", checkpoint.size));
        write_atomic(&path, note.as_bytes(), 0o644)?;
        write_atomic(&self.dir.join(LATEST), note.as_bytes(), 0o644)?;
        Ok((checkpoint, note))
    }

    /// The latest signed checkpoint, if one was made.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, LedgerError> {
        let path = self.dir.join(LATEST);
        read_optional(&path)?
            .map(|b| {
                String::from_utf8(b)
                    .map_err(|_| LedgerError::Note(format!("{} is not UTF-8", path.display())))
            })
            .transpose()
    }

    /// Recomputes everything and reports what differs, never writing: every
    /// frame against its leaf hash, the index against the frames, every
    /// stored hash, the commit record, the key pair, every stored
    /// checkpoint's signature and root, consistency between checkpoints,
    /// and `extra` checkpoints (file name, note) given by the caller.
    pub fn verify(&self, extra: &[(String, String)]) -> Result<VerifyReport, LedgerError> {
        let _guard = self.lock_shared()?;
        self.verify_unlocked(extra)
    }

    /// Removes an unacknowledged tail: bytes of `entries`, `index` and
    /// `hashes` past what the commit record counts. Refuses, naming the
    /// entry, when anything acknowledged is missing or damaged, or when a
    /// checkpoint covers entries the commit record does not count.
    ///
    /// A ledger written before the commit record existed (entries, index
    /// and hashes that agree exactly, nothing past them) gets one that
    /// counts every indexed entry, as the index was its commit record.
    pub fn repair(&self) -> Result<RepairReport, LedgerError> {
        let _guard = self.lock_exclusive()?;
        if self.read_commit_file()?.is_none() {
            return self.adopt_index();
        }
        let committed = self.committed()?;
        let report = self.verify_unlocked(&[])?;
        let damage = |p: &&Problem| p.kind == ProblemKind::Damage;
        let first = report
            .problems
            .iter()
            .filter(damage)
            .find(|p| p.entry.is_some())
            .or_else(|| report.problems.iter().find(damage));
        if let Some(p) = first {
            let reason = if p.location.is_empty() {
                format!("{}: {}", p.file, p.message)
            } else {
                format!("{}: {}: {}", p.file, p.location, p.message)
            };
            return Err(match p.entry {
                Some(entry) => LedgerError::RepairRefused { entry, reason },
                None => LedgerError::RepairDamaged { reason },
            });
        }
        // A slot torn by the interrupted append is rewritten first, with the
        // acknowledged extent: stopped before the data is cut back, the
        // ledger is left with a plain torn tail, which a second repair
        // removes.
        let torn_slot = report
            .problems
            .iter()
            .any(|p| p.file == COMMITTED && p.kind == ProblemKind::UnacknowledgedTail);
        if torn_slot {
            self.write_commit(self.commit_file()?, committed)?;
        }
        let files = Files::open(&self.dir, true)?;
        let (entries_len, index_len, hashes_len) = files.lens()?;
        let mut frames = 0u64;
        let mut pos = committed.entries_bytes;
        while let Some((bytes, _)) = files.frame(pos, entries_len)? {
            frames += 1;
            pos += FRAME_OVERHEAD + bytes.len() as u64;
        }
        let mut removed = Vec::new();
        for (file, name, len, keep) in [
            (
                &files.entries,
                ENTRIES,
                entries_len,
                committed.entries_bytes,
            ),
            (&files.index, INDEX, index_len, committed.size * 8),
            (
                &files.hashes,
                HASHES,
                hashes_len,
                stored_count(committed.size) * 32,
            ),
        ] {
            if len > keep {
                files.truncate(file, name, keep)?;
                removed.push(RemovedTail {
                    file: name.to_string(),
                    from: keep,
                    to: len,
                });
            }
        }
        Ok(RepairReport {
            version: REPORT_VERSION,
            entries: committed.size,
            unacknowledged_frames: frames,
            removed,
            wrote_commit_record: false,
            rewrote_torn_slot: torn_slot,
        })
    }

    /// Writes the missing commit record of a ledger whose files agree
    /// exactly; the exclusive lock is held.
    fn adopt_index(&self) -> Result<RepairReport, LedgerError> {
        let path = self.dir.join(COMMITTED);
        let report = self.verify_unlocked(&[])?;
        let others: Vec<&Problem> = report
            .problems
            .iter()
            .filter(|p| p.file != COMMITTED)
            .collect();
        if let Some(p) = others.first() {
            return Err(LedgerError::RepairDamaged {
                reason: format!(
                    "the commit record is missing and {}: {}: {}; without it an acknowledged entry cannot be told from a torn tail",
                    p.file, p.location, p.message
                ),
            });
        }
        let files = Files::open(&self.dir, false)?;
        let (entries_len, index_len, _) = files.lens()?;
        let root = crate::hash::hash_from_hex(&report.root)
            .ok_or_else(|| LedgerError::Corrupt("the recomputed root is not a hash".to_string()))?;
        let committed = Committed {
            size: index_len / 8,
            entries_bytes: entries_len,
            root,
        };
        write_atomic(&path, &CommitFile::fresh(committed), 0o644)?;
        Ok(RepairReport {
            version: REPORT_VERSION,
            entries: committed.size,
            unacknowledged_frames: 0,
            removed: Vec::new(),
            wrote_commit_record: true,
            rewrote_torn_slot: false,
        })
    }

    fn verify_unlocked(&self, extra: &[(String, String)]) -> Result<VerifyReport, LedgerError> {
        let mut report = VerifyReport::default();
        let file = match self.read_commit_file() {
            Ok(Some(f)) => Some(f),
            Ok(None) => {
                report.damage(COMMITTED, "", None, "the commit record is missing");
                None
            }
            Err(LedgerError::DamagedCommitted { source, .. }) => {
                report.damage(COMMITTED, "", None, source.to_string());
                None
            }
            Err(e) => return Err(e),
        };
        let committed = match file.as_ref().map(CommitFile::newest) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                report.damage(COMMITTED, "", None, e.to_string());
                None
            }
            None => None,
        };
        let newest = file.as_ref().and_then(CommitFile::newest_slot);
        // The older slot's extent, to check it against the entries.
        let older_size = file
            .as_ref()
            .and_then(CommitFile::older_slot)
            .map(|(_, older)| older.committed.size);
        let mut older_start = None;
        let files = match Files::open(&self.dir, false) {
            Ok(f) => f,
            Err(LedgerError::Io { path, source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                report.damage(name, "", Some(0), "the file is missing");
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        let (entries_len, index_len, hashes_len) = files.lens()?;
        let records = index_len / 8;
        let n = committed.map_or(records, |c| c.size);
        report.entries = n;
        if records < n {
            report.damage(
                INDEX,
                format!("bytes {index_len}..{}", n * 8),
                Some(records),
                format!(
                    "the index holds {records} whole records but {n} entries were acknowledged"
                ),
            );
        }
        let mut memory = tree::MemoryTree::new();
        let mut chain = crate::chain::ChainLinks::default();
        let mut expected = 0u64;
        let mut damaged = 0usize;
        for i in 0..n {
            if older_size == Some(i) {
                older_start = Some(expected);
            }
            let off = if i < records {
                files.offset(i)?
            } else {
                expected
            };
            if off != expected && damaged < MAX_REPORTED {
                damaged += 1;
                report.damage(
                    INDEX,
                    format!("record {i} (bytes {}..{})", i * 8, i * 8 + 8),
                    Some(i),
                    format!("points at byte {off}, but entry {i} starts at byte {expected}"),
                );
            }
            // Read the frame where the previous one ended, so one damaged
            // record or length field is located without hiding the rest.
            let at = expected;
            let mut leaf = None;
            if at + FRAME_OVERHEAD <= entries_len {
                let mut len = [0u8; 4];
                files.read_at(&files.entries, ENTRIES, &mut len, at)?;
                let len = u64::from(u32::from_be_bytes(len));
                if len <= MAX_ENTRY_BYTES as u64 && at + FRAME_OVERHEAD + len <= entries_len {
                    let mut buf = vec![0u8; usize::try_from(len + 32).unwrap_or(0)];
                    files.read_at(&files.entries, ENTRIES, &mut buf, at + 4)?;
                    let split = buf.len() - 32;
                    let recorded: Hash = buf[split..].try_into().unwrap_or([0; 32]);
                    buf.truncate(split);
                    let computed = leaf_hash(&buf);
                    let location =
                        format!("entry {i} (bytes {}..{})", at, at + FRAME_OVERHEAD + len);
                    if computed != recorded && damaged < MAX_REPORTED {
                        damaged += 1;
                        report.damage(
                            ENTRIES,
                            location,
                            Some(i),
                            "its bytes do not match the leaf hash recorded with them: the entry or its hash was changed",
                        );
                    } else {
                        match crate::record::EvidenceRecord::from_canonical(&buf) {
                            Err(e) if damaged < MAX_REPORTED => {
                                damaged += 1;
                                report.damage(ENTRIES, location, Some(i), e.to_string());
                            }
                            Err(_) => {}
                            Ok(record) => {
                                if let Err(why) = chain.observe(&record, &buf)
                                    && damaged < MAX_REPORTED
                                {
                                    damaged += 1;
                                    report.damage(ENTRIES, location, Some(i), why);
                                }
                            }
                        }
                    }
                    leaf = Some(computed);
                    expected = at + FRAME_OVERHEAD + len;
                }
            }
            match leaf {
                Some(l) => memory.push(l),
                None => {
                    report.damage(
                        ENTRIES,
                        format!("entry {i} (byte {at})"),
                        Some(i),
                        "the frame is cut short or its length field is damaged",
                    );
                    return Ok(report);
                }
            }
        }
        report.root = to_hex(&memory.root());

        // The commit record against what it describes, and what lies past it.
        match committed {
            Some(c) => {
                if c.entries_bytes != expected {
                    report.damage(
                        COMMITTED,
                        "entries",
                        None,
                        format!(
                            "says the {n} acknowledged entries take {} bytes, they take {expected}",
                            c.entries_bytes
                        ),
                    );
                }
                if c.root != memory.root() {
                    report.damage(
                        COMMITTED,
                        "root",
                        None,
                        "differs from the root recomputed over the acknowledged entries",
                    );
                }
                if entries_len > c.entries_bytes.max(expected) {
                    report.tail(ENTRIES, c.entries_bytes.max(expected), entries_len);
                }
            }
            None if entries_len > expected => report.damage(
                ENTRIES,
                format!("bytes {expected}..{entries_len}"),
                None,
                "bytes after the last entry, and no commit record to tell whether they were acknowledged",
            ),
            None => {}
        }
        if older_size == Some(n) {
            older_start = Some(expected);
        }
        if let (Some(file), Some(newest)) = (&file, newest) {
            let lens = (entries_len, index_len, hashes_len);
            check_older_slot(
                &mut report,
                &files,
                &memory,
                file,
                newest,
                older_start,
                lens,
            )?;
        }
        if index_len > n * 8 {
            report.tail(INDEX, n * 8, index_len);
        }
        let want_hashes = stored_count(n) * 32;
        if hashes_len > want_hashes {
            report.tail(HASHES, want_hashes, hashes_len);
        }

        // Every stored hash against the recomputed tree.
        let on_disk = hashes_len / 32;
        let mut bad_hashes = 0usize;
        for (i, want) in memory.stored().iter().enumerate() {
            let i = i as u64;
            let (level, node) = locate_stored(i);
            let lo = node << level;
            if i >= on_disk {
                report.damage(
                    HASHES,
                    format!("bytes {}..{want_hashes}", on_disk * 32),
                    Some(lo),
                    format!(
                        "the file holds {on_disk} whole hashes, {} are needed for {n} entries",
                        stored_count(n)
                    ),
                );
                break;
            }
            let got = files.stored_hash(i)?;
            if got != *want {
                bad_hashes += 1;
                if bad_hashes <= MAX_REPORTED {
                    report.damage(
                        HASHES,
                        format!(
                            "hash {i} (bytes {}..{}; level {level}, node {node}: entries {lo}..{})",
                            i * 32,
                            i * 32 + 32,
                            lo + (1 << level)
                        ),
                        Some(lo),
                        "differs from the hash recomputed from the entries",
                    );
                }
            }
        }
        if bad_hashes > MAX_REPORTED {
            report.damage(
                HASHES,
                "",
                None,
                format!("{} more hashes differ", bad_hashes - MAX_REPORTED),
            );
        }

        let verifier = self.verify_keys(&mut report)?;
        self.verify_checkpoints(&mut report, &memory, verifier.as_ref(), extra)?;
        Ok(report)
    }

    /// Checks the key pair; returns the verifier to check checkpoints
    /// with, if one is usable.
    fn verify_keys(&self, report: &mut VerifyReport) -> Result<Option<NoteVerifier>, LedgerError> {
        let mut key_problem = |file: &str, e: LedgerError| -> Result<(), LedgerError> {
            match e {
                LedgerError::MissingKey { .. } => {
                    report.damage(file, "", None, "the file is missing");
                    Ok(())
                }
                LedgerError::DamagedKey { reason, .. } => {
                    report.damage(file, "", None, reason);
                    Ok(())
                }
                e => Err(e),
            }
        };
        let signer = match read_key(
            &self.dir,
            LOG_KEY,
            NoteSigner::from_text,
            NoteSigner::to_text,
        ) {
            Ok(s) => Some(s),
            Err(e) => {
                key_problem(LOG_KEY, e)?;
                None
            }
        };
        let public = match read_key(
            &self.dir,
            LOG_PUB,
            NoteVerifier::from_text,
            NoteVerifier::to_text,
        ) {
            Ok(v) => Some(v),
            Err(e) => {
                key_problem(LOG_PUB, e)?;
                None
            }
        };
        if let (Some(s), Some(v)) = (&signer, &public)
            && s.verifier().to_text() != v.to_text()
        {
            report.damage(
                LOG_PUB,
                "",
                None,
                format!("it is not the public half of {LOG_KEY}"),
            );
        }
        let verifier = public.or_else(|| signer.map(|s| s.verifier()));
        if verifier.is_none() {
            report.damage(
                CHECKPOINTS,
                "",
                None,
                "no usable log key: checkpoint signatures cannot be checked",
            );
        }
        Ok(verifier)
    }

    /// Checkpoints: signature, root at their size, and consistency
    /// between each and the next.
    fn verify_checkpoints(
        &self,
        report: &mut VerifyReport,
        memory: &tree::MemoryTree,
        verifier: Option<&NoteVerifier>,
        extra: &[(String, String)],
    ) -> Result<(), LedgerError> {
        let n = memory.size();
        // (file, expected size from the file name, bytes)
        let mut notes: Vec<(String, Option<u64>, Vec<u8>)> = Vec::new();
        let dir = self.dir.join(CHECKPOINTS);
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(d) => d
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.ends_with(".note"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.damage(CHECKPOINTS, "", None, "the folder is missing");
                Vec::new()
            }
            Err(e) => return Err(LedgerError::io("read", &dir, e)),
        };
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let Some(bytes) = read_optional(&path)? else {
                continue;
            };
            let size = name.strip_suffix(".note").and_then(|s| s.parse().ok());
            notes.push((format!("{CHECKPOINTS}/{name}"), size, bytes));
        }
        if let Some(latest) = read_optional(&self.dir.join(LATEST))? {
            notes.push((LATEST.to_string(), None, latest));
        }
        notes.extend(
            extra
                .iter()
                .map(|(f, t)| (f.clone(), None, t.clone().into_bytes())),
        );
        let Some(verifier) = verifier else {
            return Ok(());
        };
        let mut good: Vec<(u64, Hash)> = Vec::new();
        let mut bad_sizes: Vec<u64> = Vec::new();
        for (file, named_size, bytes) in &notes {
            let Ok(text) = std::str::from_utf8(bytes) else {
                report.damage(file.clone(), "", None, "the note is not UTF-8");
                continue;
            };
            let checkpoint = match Checkpoint::open(text, verifier) {
                Ok(c) => c,
                Err(e) => {
                    report.damage(file.clone(), "signature", None, e.to_string());
                    continue;
                }
            };
            if named_size.is_some_and(|s| s != checkpoint.size) {
                report.damage(
                    file.clone(),
                    "name",
                    None,
                    format!(
                        "the file name does not match the checkpoint's size {}",
                        checkpoint.size
                    ),
                );
            }
            if checkpoint.size > n {
                report.damage(
                    file.clone(),
                    format!("size {}", checkpoint.size),
                    Some(n),
                    format!(
                        "the checkpoint commits to {} entries but {n} are acknowledged: entries were removed",
                        checkpoint.size
                    ),
                );
                continue;
            }
            let root = tree::root(memory, checkpoint.size)?;
            if root != checkpoint.root {
                report.damage(
                    file.clone(),
                    format!("size {}", checkpoint.size),
                    None,
                    format!(
                        "the signed root differs from the root recomputed over entries 0..{}: an entry below {} was changed after it was signed",
                        checkpoint.size, checkpoint.size
                    ),
                );
                bad_sizes.push(checkpoint.size);
                continue;
            }
            good.push((checkpoint.size, checkpoint.root));
            report.checkpoints.push(checkpoint.size);
        }
        good.sort();
        good.dedup();
        for pair in good.windows(2) {
            let ((a, ra), (b, rb)) = (pair[0], pair[1]);
            if a == 0 {
                continue;
            }
            let proof: Vec<Vec<u8>> = tree::consistency_proof(memory, a, b)?
                .iter()
                .map(|h| h.to_vec())
                .collect();
            if let Err(e) = crate::verify::verify_consistency(a, b, &proof, &ra, &rb) {
                report.damage(
                    CHECKPOINTS,
                    format!("sizes {a}..{b}"),
                    Some(a),
                    format!("checkpoints are not consistent: {e}"),
                );
            }
        }
        // Locate a rewritten history between the last checkpoint that still
        // agrees and the first that does not.
        if let Some(&first_bad) = bad_sizes.iter().min() {
            let below = good
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| *s < first_bad)
                .max()
                .unwrap_or(0);
            let why = if below == 0 {
                format!(
                    "the change is among these entries: the checkpoint at size {first_bad} no longer matches and none before it does"
                )
            } else {
                format!(
                    "the change is among these entries: the checkpoint at size {below} still matches, the one at {first_bad} does not"
                )
            };
            report.damage(
                ENTRIES,
                format!("entries {below}..{first_bad}"),
                Some(below),
                why,
            );
        }
        Ok(())
    }
}

/// Checks the slot that is not the newest against the entries: a valid
/// older record must be the previous one and agree with the entries; an
/// unreadable one is a torn tail only when it is what an append that
/// crashed while writing it leaves (see [`torn_slot`]), else damage.
fn check_older_slot(
    report: &mut VerifyReport,
    files: &Files,
    memory: &tree::MemoryTree,
    file: &CommitFile,
    newest: Slot,
    older_start: Option<u64>,
    lens: (u64, u64, u64),
) -> Result<(), LedgerError> {
    let CommitFile::Slots { slots, bytes } = file else {
        return Ok(());
    };
    let slot = 1 - newest.index();
    let range = slot * SLOT_BYTES..(slot + 1) * SLOT_BYTES;
    let location = format!("slot {slot} (bytes {}..{})", range.start, range.end);
    match slots[slot] {
        SlotState::Valid(older) => {
            // When the newest record already disagrees with the entries,
            // the older one disagreeing too says nothing more.
            let newest_agrees =
                memory.size() == newest.committed.size && memory.root() == newest.committed.root;
            if let Err(e) = file.check_older() {
                report.damage(COMMITTED, location, None, e.to_string());
            } else if newest_agrees
                && (older_start != Some(older.committed.entries_bytes)
                    || tree::root(memory, older.committed.size)? != older.committed.root)
            {
                report.damage(
                    COMMITTED,
                    location,
                    Some(older.committed.size),
                    format!(
                        "the older record (sequence {}, {} entries) disagrees with the entries: its byte count or root differs",
                        older.seq, older.committed.size
                    ),
                );
            }
        }
        SlotState::Empty => {
            if let Err(e) = file.check_older() {
                report.damage(COMMITTED, location, None, e.to_string());
            }
        }
        SlotState::Invalid(fault) => {
            match torn_slot(files, memory, newest, lens, &bytes[range])? {
                Ok(()) => report.push(
                    ProblemKind::UnacknowledgedTail,
                    COMMITTED,
                    location,
                    None,
                    format!(
                        "{fault}: torn by an append that never returned (the other slot is valid, and what lies past it is that append's whole data); `gantry ledger repair` rewrites it"
                    ),
                ),
                Err(why) => report.damage(COMMITTED, location, None, format!("{fault}, and {why}")),
            }
        }
    }
    Ok(())
}

/// Whether an unreadable slot next to the valid `newest` is one torn by a
/// crash while an append wrote it. That append had made its data durable
/// first, so the data files must hold exactly its whole frames, index
/// records and hashes past `newest`, and the slot's bytes must each be
/// either the record it was writing or what the slot held before
/// ([`crate::committed::torn_write_of`]). The inner `Err` says why not.
fn torn_slot(
    files: &Files,
    memory: &tree::MemoryTree,
    newest: Slot,
    (entries_len, index_len, hashes_len): (u64, u64, u64),
    bytes: &[u8],
) -> Result<Result<(), String>, LedgerError> {
    let c = newest.committed;
    if memory.size() != c.size || memory.root() != c.root {
        return Ok(Err("the other slot disagrees with the entries".into()));
    }
    let mut pos = c.entries_bytes;
    if entries_len <= pos {
        return Ok(Err(
            "no append was in progress: nothing lies past the acknowledged entries".into(),
        ));
    }
    let mut grown = memory.clone();
    let mut offsets = Vec::new();
    while pos < entries_len {
        let Some((entry, leaf)) = files.frame(pos, entries_len)? else {
            return Ok(Err(format!(
                "no append reached its commit record: the bytes past the acknowledged entries are not whole frames (byte {pos})"
            )));
        };
        offsets.push(pos);
        grown.push(leaf);
        pos += FRAME_OVERHEAD + entry.len() as u64;
    }
    let size = grown.size();
    let not_whole = "no append reached its commit record: the index and hashes past the acknowledged entries are not exactly those of the frames after them";
    if index_len != size * 8 || hashes_len != stored_count(size) * 32 {
        return Ok(Err(not_whole.into()));
    }
    for (k, offset) in offsets.iter().enumerate() {
        if files.offset(c.size + k as u64)? != *offset {
            return Ok(Err(not_whole.into()));
        }
    }
    for i in stored_count(c.size)..stored_count(size) {
        let want = usize::try_from(i).ok().and_then(|i| grown.stored().get(i));
        if want != Some(&files.stored_hash(i)?) {
            return Ok(Err(not_whole.into()));
        }
    }
    let Some(seq) = newest.seq.checked_add(1) else {
        return Ok(Err(
            "the other slot's sequence number is at its largest".into()
        ));
    };
    let new = Slot {
        seq,
        committed: Committed {
            size,
            entries_bytes: entries_len,
            root: grown.root(),
        },
    };
    Ok(
        crate::committed::torn_write_of(bytes, &new, c.size).map_err(|at| {
            format!(
                "it is not what an append interrupted while writing it leaves: byte {at} is neither the record it wrote nor what the slot held before"
            )
        }),
    )
}

/// Checks that the data files hold at least what `committed` counts and,
/// when `exact`, nothing more.
fn check_extent(files: &Files, committed: &Committed, exact: bool) -> Result<(), LedgerError> {
    let (entries_len, index_len, hashes_len) = files.lens()?;
    let n = committed.size;
    let want = [
        (ENTRIES, entries_len, committed.entries_bytes),
        (INDEX, index_len, n * 8),
        (HASHES, hashes_len, stored_count(n) * 32),
    ];
    for (name, len, want) in want {
        if len < want {
            return Err(LedgerError::Truncated(format!(
                "{name} holds {len} bytes, the {n} acknowledged entries need {want}"
            )));
        }
    }
    if exact {
        let extra: u64 = want.iter().map(|(_, len, want)| len - want).sum();
        if extra > 0 {
            return Err(LedgerError::UnacknowledgedTail {
                size: n,
                bytes: extra,
            });
        }
    }
    Ok(())
}

/// The (level, node index) of post-order stored hash `i`.
fn locate_stored(i: u64) -> (u32, u64) {
    // The leaf whose append wrote hash i: the largest n with
    // stored_count(n) <= i.
    let (mut lo, mut hi) = (0u64, i + 2);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if stored_count(mid) <= i {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let level = u32::try_from(i - stored_count(lo)).unwrap_or(0);
    (level, lo >> level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_positions_invert() {
        for level in 0..5u32 {
            for node in 0..20u64 {
                assert_eq!(locate_stored(stored_index(level, node)), (level, node));
            }
        }
    }
}
