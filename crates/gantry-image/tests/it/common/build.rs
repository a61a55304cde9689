//! Writes test images: layer tarballs, OCI layouts, `oci-archive` and
//! `docker save` tarballs, and the files inside them (dpkg status, apk
//! database, rpm database, Python and npm metadata, ELF executables with
//! Go build info and `cargo auditable` sections). Shared by the tests
//! and the benchmark.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::io::Write;
use std::path::Path;

use serde_json::json;
use sha2::Digest as _;

/// One entry of a layer.
pub enum Entry {
    File(String, Vec<u8>, u32),
    Dir(String),
    Symlink(String, String),
    Hardlink(String, String),
}

/// A layer being written.
#[derive(Default)]
pub struct LayerBuilder {
    entries: Vec<Entry>,
}

impl LayerBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn file(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.entries
            .push(Entry::File(path.into(), bytes.as_ref().to_vec(), 0o644));
        self
    }
    pub fn exec(mut self, path: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.entries
            .push(Entry::File(path.into(), bytes.as_ref().to_vec(), 0o755));
        self
    }
    pub fn dir(mut self, path: &str) -> Self {
        self.entries.push(Entry::Dir(path.into()));
        self
    }
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.entries
            .push(Entry::Symlink(path.into(), target.into()));
        self
    }
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.entries
            .push(Entry::Hardlink(path.into(), target.into()));
        self
    }
    /// `.wh.NAME` beside `path`.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }
    /// `.wh..wh..opq` in `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// The layer as an uncompressed tar.
    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in &self.entries {
            let mut h = tar::Header::new_gnu();
            h.set_mtime(0);
            h.set_uid(0);
            h.set_gid(0);
            match e {
                Entry::File(p, bytes, mode) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(*mode);
                    h.set_size(bytes.len() as u64);
                    raw_append(&mut b, &mut h, p, &bytes[..]);
                }
                Entry::Dir(p) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    raw_append(&mut b, &mut h, p, &[][..]);
                }
                Entry::Symlink(p, t) | Entry::Hardlink(p, t) => {
                    h.set_entry_type(if matches!(e, Entry::Symlink(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    h.set_mode(0o777);
                    h.set_size(0);
                    b.append_link(&mut h, p, t).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }
}

/// Appends an entry whose name is written as given (even `../x`), so
/// hostile layers can be built.
fn raw_append(b: &mut tar::Builder<Vec<u8>>, h: &mut tar::Header, path: &str, data: &[u8]) {
    if path.len() < 100 {
        let name = &mut h.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(h, data).unwrap();
    } else {
        b.append_data(h, path, data).unwrap();
    }
}

/// How a layer blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn put_blob(dir: &Path, bytes: &[u8]) -> String {
    let hex = sha256(bytes);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(&hex), bytes).unwrap();
    format!("sha256:{hex}")
}

fn config(layers: &[Vec<u8>], arch: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256(l)))
        .collect();
    serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [],
    }))
    .unwrap()
}

/// Writes an OCI image layout of the layers (uncompressed tars) at
/// `dir`; returns the manifest digest.
pub fn oci_layout(dir: &Path, layers: &[Vec<u8>], compression: Compression, name: &str) -> String {
    let (digest, bytes) = oci_manifest(dir, layers, compression, "amd64");
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": bytes,
            "annotations": {"org.opencontainers.image.ref.name": name},
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    digest
}

/// Writes a manifest (and its config and layers) into `dir`'s blobs;
/// returns its digest and size.
pub fn oci_manifest(
    dir: &Path,
    layers: &[Vec<u8>],
    compression: Compression,
    arch: &str,
) -> (String, usize) {
    let cfg = config(layers, arch);
    let cfg_digest = put_blob(dir, &cfg);
    let mut descriptors = Vec::new();
    for l in layers {
        let (blob, media) = match compression {
            Compression::None => (l.clone(), "application/vnd.oci.image.layer.v1.tar"),
            Compression::Gzip => (gzip(l), "application/vnd.oci.image.layer.v1.tar+gzip"),
            Compression::Zstd => (
                zstd::encode_all(&l[..], 3).unwrap(),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        };
        let d = put_blob(dir, &blob);
        descriptors.push(json!({"mediaType": media, "digest": d, "size": blob.len()}));
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg.len()},
        "layers": descriptors,
    }))
    .unwrap();
    (put_blob(dir, &manifest), manifest.len())
}

/// Tars a folder (an OCI layout into an `oci-archive`).
pub fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    b.append_dir_all(".", dir).unwrap();
    b.finish().unwrap();
}

/// Writes a `docker save` tarball (the format without an OCI index):
/// `manifest.json`, the config, `<id>/layer.tar` per layer. Returns the
/// config digest.
pub fn docker_save(out: &Path, layers: &[Vec<u8>], tag: &str) -> String {
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    let cfg = config(layers, "amd64");
    let cfg_hex = sha256(&cfg);
    let mut paths = Vec::new();
    for l in layers {
        let id = sha256(l);
        let path = format!("{id}/layer.tar");
        append(&mut b, &path, l);
        paths.push(path);
    }
    append(&mut b, &format!("{cfg_hex}.json"), &cfg);
    let manifest =
        json!([{"Config": format!("{cfg_hex}.json"), "RepoTags": [tag], "Layers": paths}]);
    append(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    b.finish().unwrap();
    format!("sha256:{cfg_hex}")
}

fn append(b: &mut tar::Builder<std::fs::File>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_mtime(0);
    h.set_cksum();
    b.append_data(&mut h, path, data).unwrap();
}

pub fn os_release(id: &str, version: &str) -> String {
    format!("PRETTY_NAME=\"{id} {version}\"\nID={id}\nVERSION_ID=\"{version}\"\n")
}

/// A dpkg status paragraph.
pub fn dpkg_entry(name: &str, version: &str, source: Option<&str>, status: &str) -> String {
    let mut s =
        format!("Package: {name}\nStatus: {status}\nPriority: optional\nArchitecture: amd64\n");
    if let Some(src) = source {
        s.push_str(&format!("Source: {src}\n"));
    }
    s.push_str(&format!(
        "Version: {version}\nDescription: test package {name}\n a longer description\n\n"
    ));
    s
}

/// An apk `installed` block.
pub fn apk_entry(name: &str, version: &str, origin: &str) -> String {
    format!(
        "C:Q1abc=\nP:{name}\nV:{version}\nA:x86_64\nS:100\nI:200\nT:test\nL:MIT\no:{origin}\nm:Test <t@example.org>\n\n"
    )
}

pub fn python_metadata(name: &str, version: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n\nLong description.\n"
    )
}

pub fn package_json(name: &str, version: &str) -> String {
    serde_json::to_string(&json!({"name": name, "version": version, "license": "MIT"})).unwrap()
}

fn elf_with_section(name: &[u8], data: &[u8]) -> Vec<u8> {
    use object::write::Object;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let id = obj.add_section(Vec::new(), name.to_vec(), SectionKind::ReadOnlyData);
    obj.append_section_data(id, data, 16);
    obj.write().unwrap()
}

fn uvarint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// An ELF file with a Go 1.18+ `.go.buildinfo` section.
pub fn go_binary(go_version: &str, main: &str, deps: &[(&str, &str)]) -> Vec<u8> {
    let mut modinfo = vec![
        0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18,
        0xe6,
    ];
    let mut text = format!("path\t{main}/cmd/app\nmod\t{main}\t(devel)\t\n");
    for (p, v) in deps {
        text.push_str(&format!("dep\t{p}\t{v}\th1:AAAA=\n"));
    }
    text.push_str("build\t-compiler=gc\n");
    modinfo.extend_from_slice(text.as_bytes());
    modinfo.extend_from_slice(&[
        0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x16, 0xd8, 0xf2,
        0x00,
    ]);
    let mut data = b"\xff Go buildinf:".to_vec();
    data.push(8);
    data.push(2);
    data.resize(32, 0);
    uvarint(go_version.len(), &mut data);
    data.extend_from_slice(go_version.as_bytes());
    uvarint(modinfo.len(), &mut data);
    data.extend_from_slice(&modinfo);
    elf_with_section(b".go.buildinfo", &data)
}

/// An ELF file with a `cargo auditable` `.dep-v0` section.
pub fn rust_binary(root: &str, deps: &[(&str, &str)]) -> Vec<u8> {
    let mut packages = vec![
        json!({"name": root, "version": "0.1.0", "source": "local", "root": true,
        "dependencies": (1..=deps.len()).collect::<Vec<_>>()}),
    ];
    for (n, v) in deps {
        packages.push(json!({"name": n, "version": v, "source": "crates.io"}));
    }
    let text = serde_json::to_vec(&json!({"packages": packages})).unwrap();
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&text).unwrap();
    elf_with_section(b".dep-v0", &e.finish().unwrap())
}

/// An rpm SQLite database with the given packages (name, epoch,
/// version, release).
pub fn rpm_db(packages: &[(&str, Option<u32>, &str, &str)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
    )
    .unwrap();
    for (name, epoch, version, release) in packages {
        let source = name.split('-').next().unwrap();
        let srpm = format!("{source}-{version}-{release}.src.rpm");
        let blob = gantry_image::rpm_header_blob(name, *epoch, version, release, "x86_64", &srpm);
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
            .unwrap();
    }
    drop(conn);
    std::fs::read(&path).unwrap()
}

/// A Debian 12 image in two layers. The base has a dpkg status (libc6,
/// libssl3 built from openssl, curl, and a removed package), Python
/// `six` and npm `left-pad`; the second layer whites out `six`, makes
/// `node_modules` opaque and adds `lodash` and `@types/node`, a
/// `requirements.txt`, a Go and a Rust executable.
pub fn debian_layers() -> Vec<Vec<u8>> {
    let mut status = String::new();
    status.push_str(&dpkg_entry(
        "libc6",
        "2.36-9+deb12u4",
        Some("glibc"),
        "install ok installed",
    ));
    status.push_str(&dpkg_entry(
        "libssl3",
        "3.0.11-1~deb12u2",
        Some("openssl"),
        "install ok installed",
    ));
    status.push_str(&dpkg_entry(
        "curl",
        "7.88.1-10+deb12u5",
        None,
        "install ok installed",
    ));
    status.push_str(&dpkg_entry(
        "oldpkg",
        "1.0-1",
        None,
        "deinstall ok config-files",
    ));
    let base = LayerBuilder::new()
        .dir("etc")
        .file("usr/lib/os-release", os_release("debian", "12"))
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("var/lib/dpkg/status", status)
        .file(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            python_metadata("six", "1.16.0"),
        )
        .file(
            "srv/app/node_modules/left-pad/package.json",
            package_json("left-pad", "1.3.0"),
        )
        .file("usr/bin/true", vec![0u8; 128])
        .tar();
    let top = LayerBuilder::new()
        .whiteout("usr/lib/python3/dist-packages/six-1.16.0.dist-info")
        .opaque("srv/app/node_modules")
        .file(
            "srv/app/node_modules/lodash/package.json",
            package_json("lodash", "4.17.20"),
        )
        .file(
            "srv/app/node_modules/@types/node/package.json",
            package_json("@types/node", "20.1.0"),
        )
        .file("srv/app/requirements.txt", "requests==2.31.0\n")
        .exec(
            "usr/local/bin/goapp",
            go_binary(
                "go1.21.5",
                "example.com/app",
                &[("golang.org/x/text", "v0.3.7")],
            ),
        )
        .exec(
            "usr/local/bin/rustapp",
            rust_binary("rustapp", &[("smallvec", "1.13.2")]),
        )
        .tar();
    vec![base, top]
}

/// An Alpine 3.19 image: busybox, ssl_client (from busybox), musl.
pub fn alpine_layers() -> Vec<Vec<u8>> {
    let mut db = String::new();
    db.push_str(&apk_entry("musl", "1.2.4_git20230717-r4", "musl"));
    db.push_str(&apk_entry("busybox", "1.36.1-r15", "busybox"));
    db.push_str(&apk_entry("ssl_client", "1.36.1-r15", "busybox"));
    vec![
        LayerBuilder::new()
            .file("etc/os-release", os_release("alpine", "3.19.1"))
            .file("lib/apk/db/installed", db)
            .tar(),
    ]
}
