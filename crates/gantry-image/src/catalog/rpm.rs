//! rpm: the SQLite database of rpm 4.16 and later (`rpmdb.sqlite`), its
//! `Packages` table's header blobs parsed for name, epoch, version,
//! release, architecture and source rpm. The database is opened from
//! memory (never written to disk). BerkeleyDB (`Packages`) and ndb
//! (`Packages.db`) databases are reported as not supported.

use gantry_sbom::{Component, Ecosystem};

use super::{RPM_SQLITE, RPM_UNSUPPORTED, Sink, at, kept_files};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18NSTRING: u32 = 9;

/// Most index entries and data bytes a header may declare.
const MAX_INDEX: usize = 1 << 16;
const MAX_DATA: usize = 64 << 20;

/// The fields gantry reads from one header.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) epoch: Option<u32>,
    pub(crate) arch: Option<String>,
    pub(crate) source_rpm: Option<String>,
    pub(crate) license: Option<String>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a header blob as the database stores it (index count, data
/// length, index entries, data store; no lead or magic).
pub(crate) fn parse_header(blob: &[u8]) -> Result<Header, String> {
    let il = be32(blob, 0).ok_or("header shorter than 8 bytes")? as usize;
    let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")? as usize;
    if il > MAX_INDEX || dl > MAX_DATA {
        return Err(format!(
            "header declares {il} entries and {dl} data bytes: too many"
        ));
    }
    let data_start = 8 + il * 16;
    let data = blob.get(data_start..data_start + dl).ok_or_else(|| {
        format!(
            "header is cut short: {} bytes of {}",
            blob.len(),
            data_start + dl
        )
    })?;
    let string = |offset: usize| -> Option<String> {
        let rest = data.get(offset..)?;
        let end = memchr::memchr(0, rest)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let mut h = Header::default();
    for i in 0..il {
        let e = 8 + i * 16;
        let (Some(tag), Some(ty), Some(offset)) =
            (be32(blob, e), be32(blob, e + 4), be32(blob, e + 8))
        else {
            return Err("header index cut short".into());
        };
        let offset = offset as usize;
        let text = || match ty {
            TYPE_STRING | TYPE_I18NSTRING => string(offset),
            _ => None,
        };
        match tag {
            TAG_NAME => h.name = text(),
            TAG_VERSION => h.version = text(),
            TAG_RELEASE => h.release = text(),
            TAG_ARCH => h.arch = text(),
            TAG_SOURCERPM => h.source_rpm = text(),
            TAG_LICENSE => h.license = text(),
            TAG_EPOCH if ty == TYPE_INT32 => h.epoch = be32(data, offset),
            _ => {}
        }
    }
    Ok(h)
}

/// The source package's name from `name-version-release.src.rpm`.
fn source_name(srpm: &str) -> Option<String> {
    let base = srpm.strip_suffix(".rpm")?;
    let base = base.rsplit_once('.').map_or(base, |(b, _)| b);
    let (rest, _release) = base.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    Some(name.to_string())
}

fn blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut conn = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
    let mut copy = bytes.to_vec();
    // A database in WAL mode cannot be deserialised: mark it as using a
    // rollback journal (read only, nothing is written back).
    if copy.len() >= 20 && copy.starts_with(b"SQLite format 3\0") {
        copy[18] = 1;
        copy[19] = 1;
    } else {
        return Err("not an SQLite database".into());
    }
    let len = copy.len();
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &copy[..], len, true)
        .map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .map_err(|e| e.to_string())?;
    rows.map(|r| r.map_err(|e| e.to_string())).collect()
}

pub(crate) fn catalogue(sink: &mut Sink<'_>) {
    let view = sink.view;
    let dbs: Vec<_> = kept_files(view, |p| RPM_SQLITE.contains(&p)).collect();
    if dbs.is_empty() {
        for (path, kind) in RPM_UNSUPPORTED {
            if view.get(path).is_some() {
                sink.warn(
                    path,
                    None,
                    format!(
                        "rpm database in {kind} format is not supported (gantry reads rpmdb.sqlite, \
                         rpm 4.16 and later); its packages are not listed"
                    ),
                );
            }
        }
    }
    for (path, node, bytes) in dbs {
        let rows = match blobs(bytes) {
            Ok(rows) => rows,
            Err(e) => {
                sink.warn(path, None, format!("not read: {e}"));
                continue;
            }
        };
        let mut n = 0;
        for (i, blob) in rows.iter().enumerate() {
            let h = match parse_header(blob) {
                Ok(h) => h,
                Err(e) => {
                    sink.warn(path, Some(i + 1), format!("package header {}: {e}", i + 1));
                    continue;
                }
            };
            let (Some(name), Some(version)) = (&h.name, &h.version) else {
                sink.warn(
                    path,
                    Some(i + 1),
                    format!("package header {} has no name or version", i + 1),
                );
                continue;
            };
            if name == "gpg-pubkey" {
                continue;
            }
            let vr = match &h.release {
                Some(r) => format!("{version}-{r}"),
                None => version.clone(),
            };
            let full = match h.epoch {
                Some(e) if e > 0 => format!("{e}:{vr}"),
                _ => vr.clone(),
            };
            let extra: Vec<(&str, String)> = h
                .epoch
                .filter(|e| *e > 0)
                .map(|e| ("epoch", e.to_string()))
                .into_iter()
                .collect();
            let mut c = Component::new(Ecosystem::Rpm, name, Some(&full), at(path, i + 1));
            c.purl = sink.os_purl(Ecosystem::Rpm, name, &vr, h.arch.as_deref(), &extra, "rpm");
            let source = h.source_rpm.as_deref().and_then(source_name);
            c.os = sink.os_package(h.arch.as_deref(), source.clone(), None);
            if let Some(l) = &h.license {
                c.properties.push(("license".into(), l.clone()));
            }
            if let Some(s) = &h.source_rpm {
                c.properties.push(("source-rpm".into(), s.clone()));
            }
            sink.push(c, path, node);
            n += 1;
        }
        sink.file(path, "rpmdb.sqlite", Ecosystem::Rpm, n);
    }
}

/// A header blob of one package, as rpm stores it: what tests and the
/// benchmark write rpm databases with.
#[doc(hidden)]
pub fn header_blob(
    name: &str,
    epoch: Option<u32>,
    version: &str,
    release: &str,
    arch: &str,
    source_rpm: &str,
) -> Vec<u8> {
    build_header(&[
        (TAG_NAME, Some(name), None),
        (TAG_EPOCH, None, epoch),
        (TAG_VERSION, Some(version), None),
        (TAG_RELEASE, Some(release), None),
        (TAG_ARCH, Some(arch), None),
        (TAG_SOURCERPM, Some(source_rpm), None),
    ])
}

fn build_header(fields: &[(u32, Option<&str>, Option<u32>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (tag, text, int) in fields {
        if let Some(t) = text {
            index.push((*tag, TYPE_STRING, data.len() as u32));
            data.extend_from_slice(t.as_bytes());
            data.push(0);
        } else if let Some(v) = int {
            while !data.len().is_multiple_of(4) {
                data.push(0);
            }
            index.push((*tag, TYPE_INT32, data.len() as u32));
            data.extend_from_slice(&v.to_be_bytes());
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for (tag, ty, off) in index {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&off.to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
    }
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_built_headers_and_refuses_cut_ones() {
        let blob = build_header(&[
            (TAG_NAME, Some("openssl-libs"), None),
            (TAG_EPOCH, None, Some(1)),
            (TAG_VERSION, Some("3.0.7"), None),
            (TAG_RELEASE, Some("25.el9_3"), None),
            (TAG_ARCH, Some("x86_64"), None),
            (TAG_SOURCERPM, Some("openssl-3.0.7-25.el9_3.src.rpm"), None),
        ]);
        let h = parse_header(&blob).unwrap();
        assert_eq!(h.name.as_deref(), Some("openssl-libs"));
        assert_eq!(h.epoch, Some(1));
        assert_eq!(h.release.as_deref(), Some("25.el9_3"));
        assert_eq!(
            source_name(h.source_rpm.as_deref().unwrap()).as_deref(),
            Some("openssl")
        );
        assert!(parse_header(&blob[..blob.len() - 3]).is_err());
        assert!(parse_header(&[0xff; 8]).is_err());
        assert!(parse_header(&[]).is_err());
    }
}
