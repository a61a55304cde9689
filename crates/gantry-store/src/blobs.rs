//! Content-addressed blob files: zstd-compressed, named by the BLAKE3 hash
//! of their uncompressed bytes, written once (temporary file, fsync,
//! rename) and never changed afterwards.
//!
//! Layout under `$GANTRY_HOME/blobs/`: `blake3/ab/abcdef….zst` for a blob
//! and `tmp/` for blobs being written. Reading verifies the digest: a
//! [`BlobReader`] fails at the end of the stream if the bytes do not hash
//! to the name.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::StoreError;

/// The zstd level of stored blobs (the command-line tool's default).
pub const COMPRESSION_LEVEL: i32 = 3;

/// The BLAKE3 hash of a blob's uncompressed bytes. BLAKE3 rather than
/// SHA-256 because hashing is on the critical path of every cache save and
/// restore: it runs at several GB/s on any x86-64 or ARM core, where
/// SHA-256 needs the SHA extensions to reach 1.5 GB/s and manages about
/// 0.4 GB/s without them. Blob digests are internal addresses; digests
/// that leave gantry (provenance subjects, SBOMs) are SHA-256 of the files
/// themselves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(blake3::hash(bytes).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hex digits.
    pub fn hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    /// Parses 64 hex digits, with or without a `blake3:` prefix.
    pub fn from_hex(text: &str) -> Option<Digest> {
        let text = text.strip_prefix("blake3:").unwrap_or(text);
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0])?;
            let lo = hex_value(pair[1])?;
            out[i] = hi << 4 | lo;
        }
        Some(Digest(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `blake3:<hex>`, the algorithm named as OCI and in-toto name theirs.
impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blake3:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Text that is not a BLAKE3 digest (64 hex digits, optionally after
/// `blake3:`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a BLAKE3 digest")]
pub struct ParseDigestError(pub String);

impl FromStr for Digest {
    type Err = ParseDigestError;
    fn from_str(s: &str) -> Result<Digest, ParseDigestError> {
        Digest::from_hex(s).ok_or_else(|| ParseDigestError(s.to_string()))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The blob folder.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

/// A blob as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: Digest,
    /// Uncompressed bytes.
    pub size: u64,
    /// Bytes on disk.
    pub stored_size: u64,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Blobs {
    pub(crate) fn new(root: PathBuf) -> Blobs {
        Blobs { root }
    }

    /// `$GANTRY_HOME/blobs`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest is (or would be) stored.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root
            .join("blake3")
            .join(&hex[..2])
            .join(format!("{hex}.zst"))
    }

    /// Whether the blob's file exists.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub(crate) fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Starts writing a new blob into a temporary file.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        let dir = self.temp_dir();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create", &dir, e))?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = crate::time::Timestamp::now().millis();
        let path = dir.join(format!("{}-{nanos}-{n}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io("create", &path, e))?;
        let mut encoder = zstd::stream::write::Encoder::new(
            BufWriter::with_capacity(1 << 20, SyncingFile::new(file)),
            COMPRESSION_LEVEL,
        )
        .map_err(|e| StoreError::io("start compressing", &path, e))?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        if workers > 1 {
            // Like `zstd -T0`: one worker per core. Without the zstdmt
            // build this fails, and compression stays on this thread.
            let _ = encoder.multithread(u32::try_from(workers).unwrap_or(1));
        }
        Ok(BlobWriter {
            encoder,
            hasher: blake3::Hasher::new(),
            size: 0,
            temp: TempFile(Some(path)),
            blobs: self.clone(),
        })
    }

    /// Stores everything `reader` yields as one blob; returns its digest.
    pub fn put(&self, reader: &mut dyn Read) -> Result<BlobInfo, StoreError> {
        let mut writer = self.writer()?;
        let temp = writer.temp.path().to_path_buf();
        io::copy(reader, &mut writer).map_err(|e| StoreError::io("write", &temp, e))?;
        let pending = writer.finish()?;
        let info = pending.info();
        pending.commit()?;
        Ok(info)
    }

    /// Opens a blob for reading; the reader verifies the digest at the end.
    pub fn open(&self, digest: &Digest) -> Result<BlobReader, StoreError> {
        let path = self.path(digest);
        // The store writes blobs as regular files and never links them: a
        // link, device or FIFO in a blob's place is not opened (it could
        // lead out of the home, or never end).
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(StoreError::CorruptBlob {
                    digest: *digest,
                    path,
                    reason: "it is not a regular file (a link, device or FIFO)".into(),
                });
            }
            _ => {}
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::MissingBlob {
                    digest: *digest,
                    path,
                });
            }
            Err(e) => return Err(StoreError::io("open", &path, e)),
        };
        let decoder = zstd::stream::read::Decoder::new(file)
            .map_err(|e| StoreError::io("start decompressing", &path, e))?;
        Ok(BlobReader {
            decoder,
            hasher: blake3::Hasher::new(),
            expected: *digest,
            size: 0,
            path,
            failure: None,
            done: false,
        })
    }

    /// Reads a whole blob into memory, verified.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut reader = self.open(digest)?;
        let mut out = Vec::new();
        match reader.read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(e) => Err(reader.error(e)),
        }
    }

    /// Reads a blob to its end and checks its digest; returns its size.
    pub fn verify(&self, digest: &Digest) -> Result<u64, StoreError> {
        let mut reader = self.open(digest)?;
        match io::copy(&mut reader, &mut io::sink()) {
            Ok(n) => Ok(n),
            Err(e) => Err(reader.error(e)),
        }
    }

    /// Deletes a blob's file (used by pruning, under the database's write
    /// lock). A missing file is not an error.
    pub(crate) fn remove(&self, digest: &Digest) -> Result<(), StoreError> {
        let path = self.path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("remove", &path, e)),
        }
    }
}

/// A temporary file that is deleted unless it was renamed into place.
#[derive(Debug)]
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A blob being written: compresses and hashes what it is given.
pub struct BlobWriter {
    encoder: zstd::stream::write::Encoder<'static, BufWriter<SyncingFile>>,
    hasher: blake3::Hasher,
    size: u64,
    temp: TempFile,
    blobs: Blobs,
}

impl fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriter")
            .field("temp", &self.temp)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.encoder.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder.flush()
    }
}

impl BlobWriter {
    /// Ends the compressed stream and syncs the temporary file to disk.
    pub fn finish(self) -> Result<PendingBlob, StoreError> {
        let BlobWriter {
            encoder,
            hasher,
            size,
            temp,
            blobs,
        } = self;
        let path = temp.path().to_path_buf();
        let file = encoder
            .finish()
            .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
            .map_err(|e| StoreError::io("write", &path, e))?
            .finish()
            .map_err(|e| StoreError::io("sync", &path, e))?;
        let stored_size = file
            .metadata()
            .map_err(|e| StoreError::io("read metadata of", &path, e))?
            .len();
        Ok(PendingBlob {
            info: BlobInfo {
                digest: Digest(hasher.finalize().into()),
                size,
                stored_size,
            },
            temp,
            blobs,
        })
    }
}

/// The temporary file of a blob being written. Every [`SYNC_EVERY`] bytes
/// it starts flushing what was written to disk on a helper thread, so that
/// the final `fsync` (before the rename) has little left to wait for.
struct SyncingFile {
    file: File,
    unsynced: u64,
    syncing: Option<std::thread::JoinHandle<io::Result<()>>>,
}

/// How much is written between background syncs.
const SYNC_EVERY: u64 = 16 << 20;

impl SyncingFile {
    fn new(file: File) -> SyncingFile {
        SyncingFile {
            file,
            unsynced: 0,
            syncing: None,
        }
    }

    fn wait(&mut self) -> io::Result<()> {
        match self.syncing.take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the sync thread panicked"))),
            None => Ok(()),
        }
    }

    /// Waits for the background sync, then syncs the rest (with the size:
    /// `fdatasync` includes the metadata needed to read the data back).
    fn finish(mut self) -> io::Result<File> {
        self.wait()?;
        self.file.sync_data()?;
        Ok(self.file)
    }
}

impl Write for SyncingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY && self.syncing.as_ref().is_none_or(|h| h.is_finished()) {
            self.wait()?;
            let clone = self.file.try_clone()?;
            self.syncing = Some(std::thread::spawn(move || clone.sync_data()));
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A fully written blob in its temporary file, not yet in place. Dropping
/// it deletes the temporary file.
#[derive(Debug)]
pub struct PendingBlob {
    info: BlobInfo,
    temp: TempFile,
    blobs: Blobs,
}

impl PendingBlob {
    pub fn info(&self) -> BlobInfo {
        self.info
    }

    /// Moves the blob into place. If a blob with the same digest is already
    /// there, it is kept (same content) and the new copy discarded.
    /// Returns whether the file was new.
    pub fn commit(mut self) -> Result<bool, StoreError> {
        let dest = self.blobs.path(&self.info.digest);
        if dest.is_file() {
            return Ok(false);
        }
        let dir = dest.parent().unwrap_or(self.blobs.root());
        fs::create_dir_all(dir).map_err(|e| StoreError::io("create", dir, e))?;
        let Some(temp) = self.temp.0.take() else {
            return Ok(false);
        };
        if let Err(e) = fs::rename(&temp, &dest) {
            self.temp.0 = Some(temp);
            return Err(StoreError::io("move a blob into", &dest, e));
        }
        // Make the rename durable; a failure here only weakens durability.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(true)
    }
}

/// Reads a blob's uncompressed bytes and checks their digest at the end.
pub struct BlobReader {
    decoder: zstd::stream::read::Decoder<'static, io::BufReader<File>>,
    hasher: blake3::Hasher,
    expected: Digest,
    size: u64,
    path: PathBuf,
    failure: Option<String>,
    done: bool,
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("path", &self.path)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl BlobReader {
    pub fn digest(&self) -> Digest {
        self.expected
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Why the blob is corrupt, if reading found it so.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Reads what is left, so that the digest gets checked.
    pub fn finish(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    /// The store error for an I/O error of this reader: corruption when
    /// the blob's content was at fault.
    pub fn error(&self, e: io::Error) -> StoreError {
        match &self.failure {
            Some(reason) => StoreError::CorruptBlob {
                digest: self.expected,
                path: self.path.clone(),
                reason: reason.clone(),
            },
            None => StoreError::io("read", &self.path, e),
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(reason) = &self.failure {
            return Err(io::Error::new(io::ErrorKind::InvalidData, reason.clone()));
        }
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(e) => {
                let reason = format!("failed to decompress: {e}");
                self.failure = Some(reason.clone());
                return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
            }
        };
        if n == 0 {
            self.done = true;
            let actual = Digest(self.hasher.finalize().into());
            if actual != self.expected {
                let reason = format!("its content hashes to {actual}");
                self.failure = Some(reason.clone());
                return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
            }
            return Ok(0);
        }
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn digest_round_trips_through_hex() {
        let d = Digest::of(b"hello");
        assert_eq!(
            d.hex(),
            "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"
        );
        assert_eq!(Digest::from_hex(&d.to_string()), Some(d));
        assert_eq!(Digest::from_hex("abc"), None);
        assert_eq!(Digest::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn put_then_read_verifies_and_deduplicates() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let a = blobs.put(&mut &b"same bytes"[..]).unwrap();
        let b = blobs.put(&mut &b"same bytes"[..]).unwrap();
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.digest, Digest::of(b"same bytes"));
        assert_eq!(blobs.read(&a.digest).unwrap(), b"same bytes");
        // Only the blob remains: no temporary files left behind.
        assert_eq!(fs::read_dir(blobs.temp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_blob_with_other_content_is_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let a = blobs.put(&mut &b"original"[..]).unwrap();
        let other = zstd::encode_all(&b"tampered"[..], 3).unwrap();
        fs::write(blobs.path(&a.digest), other).unwrap();
        let err = blobs.read(&a.digest).unwrap_err();
        assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
        fs::write(blobs.path(&a.digest), b"not zstd at all").unwrap();
        let err = blobs.verify(&a.digest).unwrap_err();
        assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
    }

    #[test]
    fn a_truncated_blob_is_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let a = blobs.put(&mut &data[..]).unwrap();
        let path = blobs.path(&a.digest);
        let stored = fs::read(&path).unwrap();
        fs::write(&path, &stored[..stored.len() / 2]).unwrap();
        let err = blobs.read(&a.digest).unwrap_err();
        assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
    }

    #[test]
    fn a_missing_blob_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let err = blobs.open(&Digest::of(b"x")).unwrap_err();
        assert!(matches!(err, StoreError::MissingBlob { .. }));
    }
}
