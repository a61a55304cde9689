//! The ledger on disk: an append-only log under one folder.
//!
//! ```text
//! entries      frames: u32 big-endian length, the entry bytes, their RFC 6962 leaf hash
//! hashes       every complete subtree hash, 32 bytes each, in post-order (tree.rs)
//! index        u64 big-endian offset of each frame: the commit record
//! lock         held exclusively by an appender, shared by readers
//! log.key      the log's Ed25519 signed-note key (mode 0600); log.pub its verifier key
//! checkpoints/ every signed checkpoint, <size>.note; checkpoint is the latest
//! ```
//!
//! An append writes the frames and syncs `entries`, then the hashes and
//! syncs `hashes`, then the offsets and syncs `index`, and only then
//! returns: an entry is committed when its offset is durable, and every
//! byte it depends on was made durable before. Opening the log under the
//! exclusive lock repairs a torn tail: index records that do not point at
//! a whole, matching frame are dropped, whole frames past the index are
//! re-indexed, partial frames and stray hashes are cut off. No committed
//! entry is ever touched.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::LedgerError;
use crate::checkpoint::Checkpoint;
use crate::hash::{Hash, leaf_hash};
use crate::note::{NoteSigner, NoteVerifier};
use crate::tree::{self, NodeSource, hashes_for_append, stored_count, stored_index};

/// Most bytes one entry may have.
pub const MAX_ENTRY_BYTES: usize = 64 << 20;
const FRAME_OVERHEAD: u64 = 4 + 32;

const ENTRIES: &str = "entries";
const HASHES: &str = "hashes";
const INDEX: &str = "index";
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

fn open_rw(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))
}

fn open_ro(path: &Path) -> Result<File, LedgerError> {
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

/// One problem `verify` found, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file (`entries`, `index`, `hashes`, `checkpoints/12.note`, ...).
    pub file: String,
    /// Where in it: `entry 12 (bytes 4410..4982)`, `hash 31 (level 2, node 3: entries 12..16)`.
    pub location: String,
    pub message: String,
}

/// What `verify` checked and found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub root: String,
    pub checkpoints: Vec<u64>,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(
        &mut self,
        file: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: file.into(),
            location: location.into(),
            message: message.into(),
        });
    }
}

/// Most problems of one kind reported before the rest are summarised.
const MAX_REPORTED: usize = 20;

impl Ledger {
    /// Opens (creating when missing) the ledger in `dir`, repairing a torn
    /// tail. The first open generates the log's signing key.
    pub fn open(dir: &Path) -> Result<Ledger, LedgerError> {
        std::fs::create_dir_all(dir.join(CHECKPOINTS))
            .map_err(|e| LedgerError::io("create", dir, e))?;
        let lock = open_rw(&dir.join(LOCK))?;
        let ledger = Ledger {
            dir: dir.to_path_buf(),
            lock,
        };
        {
            let _guard = ledger.lock_exclusive()?;
            let created = !dir.join(INDEX).exists();
            let files = Files::open(dir, true)?;
            if created {
                sync_dir(dir)?;
            }
            ledger.recover(&files)?;
            if !dir.join(LOG_KEY).exists() {
                let mut id = [0u8; 4];
                getrandom::fill(&mut id).map_err(|e| LedgerError::Random(e.to_string()))?;
                let name = format!("gantry.local/ledger/{}", crate::hash::to_hex(&id));
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
        }
        Ok(ledger)
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

    /// Brings the files back to a committed state (the exclusive lock is
    /// held). Returns the number of committed entries.
    fn recover(&self, files: &Files) -> Result<u64, LedgerError> {
        let entries_len = len_of(&files.entries, &files.path(ENTRIES))?;
        let index_len = len_of(&files.index, &files.path(INDEX))?;
        let hashes_len = len_of(&files.hashes, &files.path(HASHES))?;
        let mut n = index_len / 8;

        // Fast path: everything lines up with the last committed frame.
        if index_len % 8 == 0 && hashes_len == stored_count(n) * 32 {
            let end = if n == 0 {
                0
            } else {
                let off = files.offset(n - 1)?;
                let mut len = [0u8; 4];
                if off + 4 <= entries_len {
                    files.read_at(&files.entries, ENTRIES, &mut len, off)?;
                }
                off + FRAME_OVERHEAD + u64::from(u32::from_be_bytes(len))
            };
            if end == entries_len {
                return Ok(n);
            }
        }

        // Drop index records that do not point at a whole, matching frame:
        // they belong to an append that never returned.
        let mut end = 0;
        while n > 0 {
            let off = files.offset(n - 1)?;
            if let Some((bytes, _)) = files.frame(off, entries_len)? {
                end = off + FRAME_OVERHEAD + bytes.len() as u64;
                break;
            }
            n -= 1;
        }
        if index_len != n * 8 {
            files.truncate(&files.index, INDEX, n * 8)?;
        }
        // Hashes past the committed entries are stray; missing ones are
        // recomputed below.
        let mut hashes_on_disk = (hashes_len / 32).min(stored_count(n));
        if hashes_on_disk < stored_count(n) {
            // Rebuild from the last entry whose hashes are all there.
            let mut k = n;
            while stored_count(k) > hashes_on_disk {
                k -= 1;
            }
            hashes_on_disk = stored_count(k);
            files.truncate(&files.hashes, HASHES, hashes_on_disk * 32)?;
            for i in k..n {
                let (_, leaf) = Snapshot {
                    files: Files::open(&self.dir, false)?,
                    size: n,
                }
                .entry(i)?;
                let overlay = Overlay {
                    files,
                    on_disk: stored_count(i),
                    pending: Vec::new(),
                };
                let new = hashes_for_append(&overlay, i, leaf)?;
                let bytes: Vec<u8> = new.concat();
                files
                    .hashes
                    .write_all_at(&bytes, stored_count(i) * 32)
                    .map_err(|e| LedgerError::io("write", &files.path(HASHES), e))?;
            }
            files
                .hashes
                .sync_data()
                .map_err(|e| LedgerError::io("sync", &files.path(HASHES), e))?;
        } else if hashes_len != stored_count(n) * 32 {
            files.truncate(&files.hashes, HASHES, stored_count(n) * 32)?;
        }

        // Whole frames after the last indexed one were written and synced by
        // an append that stopped before its commit: index them. A partial
        // frame is cut off.
        let mut recovered = Vec::new();
        let mut pos = end;
        while let Some((bytes, leaf)) = files.frame(pos, entries_len)? {
            recovered.push((pos, leaf));
            pos += FRAME_OVERHEAD + bytes.len() as u64;
        }
        if pos != entries_len {
            files.truncate(&files.entries, ENTRIES, pos)?;
        }
        if !recovered.is_empty() {
            self.commit(files, n, &recovered)?;
            n += recovered.len() as u64;
        }
        Ok(n)
    }

    /// Writes the hashes and index records of frames already durable in
    /// `entries`, in that order, each synced.
    fn commit(&self, files: &Files, n: u64, frames: &[(u64, Hash)]) -> Result<(), LedgerError> {
        let mut overlay = Overlay {
            files,
            on_disk: stored_count(n),
            pending: Vec::new(),
        };
        for (i, (_, leaf)) in frames.iter().enumerate() {
            let new = hashes_for_append(&overlay, n + i as u64, *leaf)?;
            overlay.pending.extend(new);
        }
        let bytes: Vec<u8> = overlay.pending.concat();
        files
            .hashes
            .write_all_at(&bytes, stored_count(n) * 32)
            .map_err(|e| LedgerError::io("write", &files.path(HASHES), e))?;
        files
            .hashes
            .sync_data()
            .map_err(|e| LedgerError::io("sync", &files.path(HASHES), e))?;
        let offsets: Vec<u8> = frames
            .iter()
            .flat_map(|(off, _)| off.to_be_bytes())
            .collect();
        files
            .index
            .write_all_at(&offsets, n * 8)
            .map_err(|e| LedgerError::io("write", &files.path(INDEX), e))?;
        files
            .index
            .sync_data()
            .map_err(|e| LedgerError::io("sync", &files.path(INDEX), e))?;
        Ok(())
    }

    /// Appends one entry; returns its index once it is durable.
    pub fn append(&self, entry: &[u8]) -> Result<u64, LedgerError> {
        let first = self.append_batch(&[entry])?;
        Ok(first)
    }

    /// Appends entries in one commit (one set of fsyncs); returns the index
    /// of the first.
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
        let files = Files::open(&self.dir, true)?;
        let n = self.recover(&files)?;
        let mut pos = len_of(&files.entries, &files.path(ENTRIES))?;
        let start = pos;
        let mut buf = Vec::new();
        let mut frames = Vec::with_capacity(entries.len());
        for e in entries {
            let leaf = leaf_hash(e);
            let len = u32::try_from(e.len()).map_err(|_| LedgerError::EntryTooLarge {
                len: e.len(),
                max: MAX_ENTRY_BYTES,
            })?;
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(e);
            buf.extend_from_slice(&leaf);
            frames.push((pos, leaf));
            pos += FRAME_OVERHEAD + e.len() as u64;
        }
        files
            .entries
            .write_all_at(&buf, start)
            .map_err(|e| LedgerError::io("write", &files.path(ENTRIES), e))?;
        files
            .entries
            .sync_data()
            .map_err(|e| LedgerError::io("sync", &files.path(ENTRIES), e))?;
        self.commit(&files, n, &frames)?;
        Ok(n)
    }

    /// A view of the committed entries.
    pub fn snapshot(&self) -> Result<Snapshot, LedgerError> {
        let _guard = self.lock_shared()?;
        let files = Files::open(&self.dir, false)?;
        let size = len_of(&files.index, &files.path(INDEX))? / 8;
        let hashes = len_of(&files.hashes, &files.path(HASHES))? / 32;
        if hashes < stored_count(size) {
            return Err(LedgerError::Corrupt(format!(
                "hashes holds {hashes} hashes, {} needed for {size} entries",
                stored_count(size)
            )));
        }
        Ok(Snapshot { files, size })
    }

    /// The log's checkpoint signer.
    pub fn signer(&self) -> Result<NoteSigner, LedgerError> {
        let path = self.dir.join(LOG_KEY);
        let text = std::fs::read_to_string(&path).map_err(|e| LedgerError::io("read", &path, e))?;
        NoteSigner::from_text(&text)
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> Result<NoteVerifier, LedgerError> {
        let path = self.dir.join(LOG_PUB);
        let text = std::fs::read_to_string(&path).map_err(|e| LedgerError::io("read", &path, e))?;
        NoteVerifier::from_text(&text)
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
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LedgerError::io("read", &path, e)),
        }
    }

    /// Recomputes everything: every frame against its leaf hash, the
    /// index against the frames, every stored hash, every stored
    /// checkpoint's signature and root, consistency between checkpoints,
    /// and `extra` checkpoints (notes) given by the caller.
    pub fn verify(&self, extra: &[(String, String)]) -> Result<VerifyReport, LedgerError> {
        let snapshot = self.snapshot()?;
        let files = &snapshot.files;
        let n = snapshot.size;
        let entries_len = len_of(&files.entries, &files.path(ENTRIES))?;
        let mut report = VerifyReport {
            entries: n,
            ..Default::default()
        };
        let mut memory = tree::MemoryTree::new();
        let mut expected = 0u64;
        let mut damaged = 0usize;
        for i in 0..n {
            let off = files.offset(i)?;
            if off != expected && damaged < MAX_REPORTED {
                damaged += 1;
                report.problem(
                    INDEX,
                    format!("record {i} (bytes {}..{})", i * 8, i * 8 + 8),
                    format!("points at byte {off}, but entry {i} starts at byte {expected}"),
                );
            }
            // Read the frame where the previous one ended, so one damaged
            // record or length field is located without hiding the rest.
            let at = if off == expected { off } else { expected };
            let mut len = [0u8; 4];
            let mut leaf = None;
            if at + FRAME_OVERHEAD <= entries_len {
                files.read_at(&files.entries, ENTRIES, &mut len, at)?;
                let len = u64::from(u32::from_be_bytes(len));
                if len <= MAX_ENTRY_BYTES as u64 && at + FRAME_OVERHEAD + len <= entries_len {
                    let mut buf = vec![0u8; usize::try_from(len + 32).unwrap_or(0)];
                    files.read_at(&files.entries, ENTRIES, &mut buf, at + 4)?;
                    let recorded: Hash = buf[buf.len() - 32..].try_into().unwrap_or([0; 32]);
                    buf.truncate(buf.len() - 32);
                    let computed = leaf_hash(&buf);
                    if computed != recorded && damaged < MAX_REPORTED {
                        damaged += 1;
                        report.problem(
                            ENTRIES,
                            format!("entry {i} (bytes {}..{})", at, at + FRAME_OVERHEAD + len),
                            "its bytes do not match the leaf hash recorded with them: the entry or its hash was changed",
                        );
                    } else if let Err(e) = crate::record::EvidenceRecord::from_canonical(&buf)
                        && damaged < MAX_REPORTED
                    {
                        damaged += 1;
                        report.problem(
                            ENTRIES,
                            format!("entry {i} (bytes {}..{})", at, at + FRAME_OVERHEAD + len),
                            e.to_string(),
                        );
                    }
                    leaf = Some(computed);
                    expected = at + FRAME_OVERHEAD + len;
                }
            }
            match leaf {
                Some(l) => memory.push(l),
                None => {
                    report.problem(
                        ENTRIES,
                        format!("entry {i} (byte {at})"),
                        "the frame is cut short or its length field is damaged",
                    );
                    return Ok(report);
                }
            }
        }
        if expected != entries_len {
            report.problem(
                ENTRIES,
                format!("bytes {expected}..{entries_len}"),
                "bytes after the last committed entry",
            );
        }

        // Every stored hash against the recomputed tree.
        let mut bad_hashes = 0usize;
        for (i, want) in memory.stored().iter().enumerate() {
            let got = files.stored_hash(i as u64)?;
            if got != *want {
                bad_hashes += 1;
                if bad_hashes <= MAX_REPORTED {
                    let (level, node) = locate_stored(i as u64);
                    let lo = node << level;
                    report.problem(
                        HASHES,
                        format!(
                            "hash {i} (bytes {}..{}; level {level}, node {node}: entries {lo}..{})",
                            i * 32,
                            i * 32 + 32,
                            lo + (1 << level)
                        ),
                        "differs from the hash recomputed from the entries",
                    );
                }
            }
        }
        if bad_hashes > MAX_REPORTED {
            report.problem(
                HASHES,
                "",
                format!("{} more hashes differ", bad_hashes - MAX_REPORTED),
            );
        }
        report.root = crate::hash::to_hex(&memory.root());

        // Checkpoints: signature, root at their size, and consistency
        // between each and the next.
        let verifier = self.verifier()?;
        let mut notes: Vec<(String, String)> = Vec::new();
        let dir = self.dir.join(CHECKPOINTS);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| LedgerError::io("read", &dir, e))?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".note"))
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let text =
                std::fs::read_to_string(&path).map_err(|e| LedgerError::io("read", &path, e))?;
            notes.push((format!("{CHECKPOINTS}/{name}"), text));
        }
        if let Some(latest) = self.latest_checkpoint()? {
            notes.push((LATEST.to_string(), latest));
        }
        notes.extend(extra.iter().cloned());
        let mut good: Vec<(u64, Hash)> = Vec::new();
        let mut bad_sizes: Vec<u64> = Vec::new();
        for (file, text) in &notes {
            let checkpoint = match Checkpoint::open(text, &verifier) {
                Ok(c) => c,
                Err(e) => {
                    report.problem(file.clone(), "signature", e.to_string());
                    continue;
                }
            };
            if checkpoint.size > n {
                report.problem(file.clone(), format!("size {}", checkpoint.size), format!(
                    "the checkpoint commits to {} entries but the log has {n}: entries were removed",
                    checkpoint.size
                ));
                continue;
            }
            let root = tree::root(&memory, checkpoint.size)?;
            if root != checkpoint.root {
                report.problem(file.clone(), format!("size {}", checkpoint.size), format!(
                    "the signed root differs from the root recomputed over entries 0..{}: an entry below {} was changed after it was signed",
                    checkpoint.size, checkpoint.size
                ));
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
            let proof: Vec<Vec<u8>> = tree::consistency_proof(&memory, a, b)?
                .iter()
                .map(|h| h.to_vec())
                .collect();
            if let Err(e) = crate::verify::verify_consistency(a, b, &proof, &ra, &rb) {
                report.problem(
                    CHECKPOINTS,
                    format!("sizes {a}..{b}"),
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
            report.problem(ENTRIES, format!("entries {below}..{first_bad}"), why);
        }
        Ok(report)
    }
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
