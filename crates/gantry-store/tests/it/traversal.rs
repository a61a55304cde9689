//! Crafted archives that try to write outside the destination are refused,
//! and nothing lands outside it.

#![cfg(unix)]

use std::fs;
use std::path::Path;

use crate::common::{files_under, strings, write_tree};
use gantry_store::{Store, StoreError, unpack};
use tar::{EntryType, Header};

/// A tar stream built entry by entry, with names written raw (the `tar`
/// crate's own setters refuse `..` and absolute paths).
struct Crafted(Vec<u8>);

impl Crafted {
    fn new() -> Crafted {
        Crafted(Vec::new())
    }

    fn entry(mut self, name: &str, kind: EntryType, link: Option<&str>, data: &[u8]) -> Crafted {
        let mut h = Header::new_gnu();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                old.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Crafted {
        self.entry(name, EntryType::Regular, None, data)
    }

    fn dir(self, name: &str) -> Crafted {
        self.entry(name, EntryType::Directory, None, b"")
    }

    fn symlink(self, name: &str, target: &str) -> Crafted {
        self.entry(name, EntryType::Symlink, Some(target), b"")
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        self.0
    }
}

/// A sandbox: `dest/` to extract into, `outside/` that must stay empty.
struct Sandbox {
    _dir: tempfile::TempDir,
    dest: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("dest");
    let outside = dir.path().join("outside");
    fs::create_dir_all(&dest).unwrap();
    fs::create_dir_all(&outside).unwrap();
    Sandbox {
        dest,
        outside,
        _dir: dir,
    }
}

fn refused(archive: &[u8], dest: &Path) -> String {
    match unpack(archive, dest) {
        Err(e @ StoreError::UnsafeEntry { .. }) => e.to_string(),
        Err(other) => panic!("expected an unsafe-entry error, got {other}"),
        Ok(_) => panic!("the archive was extracted"),
    }
}

#[test]
fn parent_directory_components_are_refused() {
    let s = sandbox();
    let archive = Crafted::new()
        .file("ok.txt", b"fine")
        .file("../outside/evil.txt", b"pwned")
        .finish();
    let msg = refused(&archive, &s.dest);
    assert!(msg.contains("../outside/evil.txt"), "{msg}");
    assert!(msg.contains(".."), "{msg}");
    assert!(files_under(&s.outside).is_empty());
    let archive = Crafted::new().file("a/../../outside/x", b"pwned").finish();
    refused(&archive, &s.dest);
    assert!(files_under(&s.outside).is_empty());
}

#[test]
fn absolute_paths_are_refused() {
    let s = sandbox();
    let target = s.outside.join("abs.txt");
    let archive = Crafted::new()
        .file(target.to_str().unwrap(), b"pwned")
        .finish();
    let msg = refused(&archive, &s.dest);
    assert!(msg.contains("absolute"), "{msg}");
    assert!(!target.exists());
    assert!(files_under(&s.dest).is_empty());
}

#[test]
fn writing_through_a_link_from_the_archive_is_refused() {
    let s = sandbox();
    let archive = Crafted::new()
        .symlink("escape", s.outside.to_str().unwrap())
        .file("escape/evil.txt", b"pwned")
        .finish();
    let msg = refused(&archive, &s.dest);
    assert!(msg.contains("symbolic link"), "{msg}");
    assert!(files_under(&s.outside).is_empty());

    let s = sandbox();
    let archive = Crafted::new()
        .symlink("up", "..")
        .file("up/outside/evil.txt", b"pwned")
        .finish();
    refused(&archive, &s.dest);
    assert!(files_under(&s.outside).is_empty());
}

#[test]
fn a_link_replaced_after_it_was_checked_is_checked_again() {
    let s = sandbox();
    let archive = Crafted::new()
        .dir("real")
        .symlink("link", "real")
        .file("link/ok.txt", b"inside")
        .symlink("link", s.outside.to_str().unwrap())
        .file("link/evil.txt", b"pwned")
        .finish();
    refused(&archive, &s.dest);
    assert!(files_under(&s.outside).is_empty());
    assert_eq!(fs::read(s.dest.join("real/ok.txt")).unwrap(), b"inside");
}

#[test]
fn a_link_already_in_the_destination_is_not_followed_outside() {
    let s = sandbox();
    std::os::unix::fs::symlink(&s.outside, s.dest.join("pre")).unwrap();
    let archive = Crafted::new().file("pre/evil.txt", b"pwned").finish();
    refused(&archive, &s.dest);
    assert!(files_under(&s.outside).is_empty());
    // A link that stays inside is fine.
    fs::create_dir(s.dest.join("real")).unwrap();
    std::os::unix::fs::symlink("real", s.dest.join("inside")).unwrap();
    let archive = Crafted::new().file("inside/ok.txt", b"ok").finish();
    unpack(&archive[..], &s.dest).unwrap();
    assert_eq!(fs::read(s.dest.join("real/ok.txt")).unwrap(), b"ok");
}

#[test]
fn a_file_entry_replaces_a_link_instead_of_writing_through_it() {
    let s = sandbox();
    let victim = s.outside.join("victim.txt");
    fs::write(&victim, b"original").unwrap();
    let archive = Crafted::new()
        .symlink("f", victim.to_str().unwrap())
        .file("f", b"replaced")
        .finish();
    unpack(&archive[..], &s.dest).unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"original");
    assert_eq!(fs::read(s.dest.join("f")).unwrap(), b"replaced");
    assert!(
        !fs::symlink_metadata(s.dest.join("f"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn links_pointing_anywhere_are_kept_as_links() {
    // A Python virtualenv links to the system interpreter: the link itself
    // is harmless as long as nothing is written through it.
    let s = sandbox();
    let archive = Crafted::new()
        .symlink("venv/bin/python", "/usr/bin/python3")
        .finish();
    unpack(&archive[..], &s.dest).unwrap();
    assert_eq!(
        fs::read_link(s.dest.join("venv/bin/python")).unwrap(),
        Path::new("/usr/bin/python3")
    );
}

#[test]
fn hard_links_and_devices_are_refused() {
    let s = sandbox();
    let archive = Crafted::new()
        .entry("hl", EntryType::Link, Some("../outside/x"), b"")
        .finish();
    let msg = refused(&archive, &s.dest);
    assert!(msg.contains("hard links"), "{msg}");
    let archive = Crafted::new()
        .entry("dev", EntryType::Char, None, b"")
        .finish();
    refused(&archive, &s.dest);
    assert!(files_under(&s.dest).is_empty());
}

#[test]
fn a_malicious_blob_in_place_of_a_cache_is_refused_and_forgotten() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    write_tree(work.path(), &[("cache/a.txt", b"legit")]);
    let saved = store
        .save_cache("k", "v", work.path(), &strings(&["cache"]))
        .unwrap();
    let s = sandbox();
    let evil = Crafted::new()
        .file("../outside/evil.txt", b"pwned")
        .finish();
    let blob = store.blobs().path(&saved.digest.unwrap());
    fs::write(&blob, zstd::encode_all(&evil[..], 3).unwrap()).unwrap();
    let err = store
        .restore_cache(&strings(&["k"]), "v", &s.dest)
        .unwrap_err();
    assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
    assert!(files_under(&s.outside).is_empty());
    assert!(store.caches().unwrap().is_empty());
}
