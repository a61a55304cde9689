//! Applying layers in order: each layer's tar stream is read once
//! (decompressed on the fly, gzip or zstd by their magic bytes), its
//! whiteouts (`.wh.NAME`, opaque `.wh..wh..opq`) remove what lower layers
//! left, and its entries are then added. Every blob is hashed as it is
//! read and checked against the digest that names it.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use sha2::Digest as _;

use crate::catalog::{self, Want};
use crate::digest::Digest;
use crate::manifest::{Check, LayerRef, Resolved};
use crate::source::Container;
use crate::view::{Content, FileView, Node, NodeKind};
use crate::{Error, Layer, Limits, Warning};

/// Hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Counts decompressed bytes, failing past the limit; hashes them when a
/// `diff_id` is to be checked.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    hasher: Option<sha2::Sha256>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(format!(
                "the layer decompresses to more than the {}-byte limit",
                self.limit
            )));
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

enum Decoded<R: BufRead> {
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, R>>),
    Plain(R),
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Decoded::Gzip(d) => d.read(buf),
            Decoded::Zstd(d) => d.read(buf),
            Decoded::Plain(r) => r.read(buf),
        }
    }
}

impl<R: BufRead> Decoded<R> {
    fn into_inner(self) -> R {
        match self {
            Decoded::Gzip(d) => d.into_inner(),
            Decoded::Zstd(d) => d.finish(),
            Decoded::Plain(r) => r,
        }
    }
}

enum Pending {
    Whiteout(String),
    Opaque(String),
    Entry(String, Node),
    Hardlink(String, String, u32),
}

/// Splits `dir/.wh.name` into a whiteout.
fn whiteout(path: &str) -> Option<Pending> {
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (d, b),
        None => ("", path),
    };
    let name = base.strip_prefix(".wh.")?;
    if name == ".wh..opq" {
        return Some(Pending::Opaque(dir.to_string()));
    }
    let joined = if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    };
    Some(Pending::Whiteout(joined))
}

/// A layer entry's name inside the image: leading `/` and `./` dropped;
/// `None` when a `..` part would climb.
fn entry_name(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for p in raw.split('/') {
        match p {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Applies every layer; returns the view and the layers as read.
pub(crate) fn apply(
    c: &mut Container,
    resolved: &Resolved,
    limits: &Limits,
    warnings: &mut Vec<Warning>,
) -> Result<(FileView, Vec<Layer>), Error> {
    let mut view = FileView::default();
    let mut layers = Vec::new();
    let mut kept = 0u64;
    for (index, layer) in resolved.layers.iter().enumerate() {
        view.layer_digests.push(layer.digest.to_string());
        let entries = apply_one(c, layer, index, limits, &mut view, &mut kept, warnings)?;
        layers.push(entries);
    }
    Ok((view, layers))
}

#[allow(clippy::too_many_arguments)]
fn apply_one(
    c: &Container,
    layer: &LayerRef,
    index: usize,
    limits: &Limits,
    view: &mut FileView,
    kept: &mut u64,
    warnings: &mut Vec<Warning>,
) -> Result<Layer, Error> {
    let place = layer.digest.to_string();
    let invalid = |reason: String| Error::Invalid {
        path: c.shown(),
        what: format!("layer {place}"),
        reason,
    };
    let (raw, size) = c.open_entry(&layer.entry)?;
    let hashing = Hashing {
        inner: raw,
        hasher: sha2::Sha256::new(),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, hashing);
    let head = buffered
        .fill_buf()
        .map_err(|e| invalid(e.to_string()))?
        .get(..4)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let decoded = if head.starts_with(&[0x1f, 0x8b]) {
        Decoded::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else if head == [0x28, 0xb5, 0x2f, 0xfd] {
        Decoded::Zstd(Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| invalid(e.to_string()))?,
        ))
    } else {
        Decoded::Plain(buffered)
    };
    let plain = matches!(decoded, Decoded::Plain(_));
    let capped = Capped {
        inner: decoded,
        read: 0,
        limit: limits.max_layer_bytes,
        hasher: matches!(layer.check, Check::DiffId(_)).then(sha2::Sha256::new),
    };
    let mut archive = tar::Archive::new(capped);
    let mut pending = Vec::new();
    let mut count = 0u64;
    let mut warn = |message: String| {
        warnings.push(Warning {
            place: place.clone(),
            message,
        })
    };
    for entry in archive.entries().map_err(|e| invalid(e.to_string()))? {
        let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
        count += 1;
        if count > limits.max_entries {
            return Err(invalid(format!("more than {} entries", limits.max_entries)));
        }
        let raw = entry.path().map_err(|e| invalid(e.to_string()))?;
        let raw = raw.to_string_lossy().into_owned();
        let Some(path) = entry_name(&raw) else {
            warn(format!(
                "entry `{raw}` climbs out of the image with `..`; ignored"
            ));
            continue;
        };
        if path.is_empty() {
            continue;
        }
        if let Some(w) = whiteout(&path) {
            pending.push(w);
            continue;
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0);
        let size = entry.size();
        let kind = header.entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let content = read_content(&mut entry, &path, mode, size, limits, kept, &mut warn)
                    .map_err(|e| invalid(format!("{path}: {e}")))?;
                pending.push(Pending::Entry(
                    path,
                    Node {
                        layer: index,
                        kind: NodeKind::File,
                        size,
                        mode,
                        content,
                    },
                ));
            }
            tar::EntryType::Directory => pending.push(Pending::Entry(
                path,
                Node {
                    layer: index,
                    kind: NodeKind::Dir,
                    size: 0,
                    mode,
                    content: Content::None,
                },
            )),
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                pending.push(Pending::Entry(
                    path,
                    Node {
                        layer: index,
                        kind: NodeKind::Symlink(target),
                        size: 0,
                        mode,
                        content: Content::None,
                    },
                ));
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match entry_name(&target) {
                    Some(t) if !t.is_empty() => pending.push(Pending::Hardlink(path, t, mode)),
                    _ => warn(format!(
                        "hard link `{path}` points out of the image (`{target}`); ignored"
                    )),
                }
            }
            tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => {}
            _ => pending.push(Pending::Entry(
                path,
                Node {
                    layer: index,
                    kind: NodeKind::Other,
                    size: 0,
                    mode,
                    content: Content::None,
                },
            )),
        }
    }
    // Finish both streams so the digests cover every byte.
    let mut capped = archive.into_inner();
    std::io::copy(&mut capped, &mut std::io::sink()).map_err(|e| invalid(e.to_string()))?;
    let decoded_digest = capped.hasher.take().map(Digest::from_hasher);
    let mut buffered = capped.inner.into_inner();
    std::io::copy(&mut buffered, &mut std::io::sink()).map_err(|e| invalid(e.to_string()))?;
    let raw_digest = Digest::from_hasher(buffered.into_inner().hasher);
    match &layer.check {
        Check::Blob(expected) if *expected != raw_digest => {
            return Err(Error::DigestMismatch {
                path: c.shown(),
                what: format!("layer {}", layer.entry),
                expected: expected.to_string(),
                actual: raw_digest.to_string(),
            });
        }
        Check::DiffId(expected) => {
            let actual = decoded_digest.unwrap_or(raw_digest);
            if *expected != actual {
                return Err(Error::DigestMismatch {
                    path: c.shown(),
                    what: format!("layer {} (uncompressed)", layer.entry),
                    expected: expected.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        Check::Blob(_) => {}
    }
    let _ = plain;

    // Whiteouts hide lower layers' files only, wherever they sit in the
    // layer's stream; then the layer's own entries go in, in order.
    for p in &pending {
        match p {
            Pending::Whiteout(path) => view.remove_tree(path),
            Pending::Opaque(dir) => view.remove_children(dir),
            _ => {}
        }
    }
    for p in pending {
        match p {
            Pending::Entry(path, node) => view.insert(path, node),
            Pending::Hardlink(path, target, mode) => match view.get(&target).cloned() {
                Some(mut node) if node.kind == NodeKind::File => {
                    node.layer = index;
                    node.mode = mode;
                    view.insert(path, node);
                }
                _ => {
                    warnings.push(Warning {
                        place: place.clone(),
                        message: format!(
                            "hard link `{path}` names `{target}`, which is not a file of the image; ignored"
                        ),
                    });
                }
            },
            Pending::Whiteout(_) | Pending::Opaque(_) => {}
        }
    }
    Ok(Layer {
        digest: layer.digest.to_string(),
        media_type: layer.media_type.clone(),
        size,
        entries: count,
    })
}

fn read_content(
    entry: &mut impl Read,
    path: &str,
    mode: u32,
    size: u64,
    limits: &Limits,
    kept: &mut u64,
    warn: &mut impl FnMut(String),
) -> std::io::Result<Content> {
    match catalog::wants(path, mode, size) {
        Want::Nothing => Ok(Content::None),
        Want::Bytes => {
            if size > limits.max_file_bytes {
                warn(format!(
                    "{path} is larger than the {}-byte limit; not read",
                    limits.max_file_bytes
                ));
                return Ok(Content::None);
            }
            *kept += size;
            if *kept > limits.max_kept_bytes {
                return Err(std::io::Error::other(format!(
                    "the files to catalogue exceed the {}-byte limit together",
                    limits.max_kept_bytes
                )));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry.take(size).read_to_end(&mut bytes)?;
            Ok(Content::Bytes(Arc::from(bytes)))
        }
        Want::Executable => {
            if size > limits.max_binary_bytes {
                return Ok(Content::None);
            }
            let mut magic = [0u8; 4];
            let mut got = 0;
            while got < 4 {
                match entry.read(&mut magic[got..])? {
                    0 => break,
                    n => got += n,
                }
            }
            if got < 4 || magic != *b"\x7fELF" {
                return Ok(Content::None);
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            bytes.extend_from_slice(&magic);
            entry.take(size.saturating_sub(4)).read_to_end(&mut bytes)?;
            match catalog::binary::inspect(&bytes) {
                Some(info) => Ok(Content::Binary(Arc::new(info))),
                None => Ok(Content::None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_names() {
        assert!(
            matches!(whiteout("etc/.wh.passwd"), Some(Pending::Whiteout(p)) if p == "etc/passwd")
        );
        assert!(
            matches!(whiteout("var/lib/.wh..wh..opq"), Some(Pending::Opaque(p)) if p == "var/lib")
        );
        assert!(matches!(whiteout(".wh.top"), Some(Pending::Whiteout(p)) if p == "top"));
        assert!(whiteout("etc/passwd").is_none());
        assert_eq!(entry_name("./usr/../../etc"), None);
        assert_eq!(entry_name("/usr/bin/x").as_deref(), Some("usr/bin/x"));
    }
}
