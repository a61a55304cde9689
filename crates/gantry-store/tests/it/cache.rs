//! Caches: GitHub's key matching, immutability, eviction, damaged blobs.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::common::{TestClock, files_under, noise, open_with_clock, strings, write_tree};
use gantry_store::{PrunePolicy, Store, StoreError, StoreOptions};

const V: &str = "v1";

/// Saves a cache of one file `data.txt` holding `content`.
fn save(store: &Store, key: &str, content: &[u8]) -> gantry_store::SavedCache {
    let work = tempfile::tempdir().unwrap();
    write_tree(work.path(), &[("cache/data.txt", content)]);
    store
        .save_cache(key, V, work.path(), &strings(&["cache"]))
        .unwrap()
}

/// Restores `keys` into a new folder; the matched key and the content.
fn restore(store: &Store, keys: &[&str]) -> Option<(String, bool, Vec<u8>)> {
    let dest = tempfile::tempdir().unwrap();
    let hit = store
        .restore_cache(&strings(keys), V, dest.path())
        .unwrap()?;
    let content = fs::read(dest.path().join("cache/data.txt")).unwrap();
    Some((hit.matched_key, hit.exact, content))
}

#[test]
fn exact_key_then_newest_prefix_of_the_key_then_restore_keys_in_order() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    save(&store, "deps-linux-aaa", b"aaa");
    clock.advance(Duration::from_secs(10));
    save(&store, "deps-linux-bbb", b"bbb");
    clock.advance(Duration::from_secs(10));
    save(&store, "deps-mac-ccc", b"ccc");
    clock.advance(Duration::from_secs(10));

    // Exact match: a hit.
    assert_eq!(
        restore(&store, &["deps-linux-aaa", "deps-"]),
        Some(("deps-linux-aaa".into(), true, b"aaa".to_vec()))
    );
    // No exact match: the newest entry starting with a restore key.
    assert_eq!(
        restore(&store, &["deps-linux-zzz", "deps-linux-", "deps-"]),
        Some(("deps-linux-bbb".into(), false, b"bbb".to_vec()))
    );
    assert_eq!(
        restore(&store, &["deps-win-zzz", "deps-win-", "deps-"]),
        Some(("deps-mac-ccc".into(), false, b"ccc".to_vec()))
    );
    // The primary key is itself tried as a prefix before the restore keys.
    assert_eq!(
        restore(&store, &["deps-linux", "deps-mac"]),
        Some(("deps-linux-bbb".into(), false, b"bbb".to_vec()))
    );
    // Newest by creation, not by last use.
    clock.advance(Duration::from_secs(10));
    restore(&store, &["deps-linux-aaa"]).unwrap();
    assert_eq!(
        restore(&store, &["x", "deps-linux-"]).unwrap().0,
        "deps-linux-bbb"
    );
    // Misses: no match, or another version.
    assert_eq!(restore(&store, &["npm-", "yarn-"]), None);
    let dest = tempfile::tempdir().unwrap();
    assert!(
        store
            .restore_cache(&strings(&["deps-linux-aaa"]), "v2", dest.path())
            .unwrap()
            .is_none()
    );
    // Prefixes are taken literally, not as LIKE patterns.
    assert_eq!(restore(&store, &["deps_linux%"]), None);
}

#[test]
fn caches_are_immutable() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let first = save(&store, "k", b"first");
    assert!(first.saved);
    let second = save(&store, "k", b"second");
    assert!(!second.saved);
    assert_eq!(restore(&store, &["k"]).unwrap().2, b"first");
    assert_eq!(store.caches().unwrap().len(), 1);
}

#[test]
fn identical_content_is_stored_once() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    write_tree(work.path(), &[("t/a", b"same"), ("t/b/c", b"also same")]);
    let a = store
        .save_cache("a", V, work.path(), &strings(&["t"]))
        .unwrap();
    let b = store
        .save_cache("b", V, work.path(), &strings(&["t"]))
        .unwrap();
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.files, 2);
    let blob_files = files_under(&home.path().join("blobs/blake3"));
    assert_eq!(blob_files.len(), 1, "{blob_files:?}");
}

#[test]
fn a_restore_recreates_the_tree() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    write_tree(
        work.path(),
        &[
            ("node_modules/a/index.js", b"module.exports = 1"),
            ("node_modules/a/package.json", b"{}"),
            ("node_modules/.cache/x", b"cache"),
            ("target/debug/app", b"\x7fELF"),
            ("target/debug/app.d", b"deps"),
            ("src/main.rs", b"fn main() {}"),
        ],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("a/index.js", work.path().join("node_modules/link")).unwrap();
    let saved = store
        .save_cache(
            "k",
            V,
            work.path(),
            &strings(&["node_modules\n!node_modules/.cache", "target/**/app"]),
        )
        .unwrap();
    let dest = tempfile::tempdir().unwrap();
    let hit = store
        .restore_cache(&strings(&["k"]), V, dest.path())
        .unwrap()
        .unwrap();
    assert_eq!(hit.files, saved.files);
    let mut expected = vec![
        "node_modules/a/index.js",
        "node_modules/a/package.json",
        "target/debug/app",
    ];
    #[cfg(unix)]
    {
        expected.push("node_modules/link");
        assert_eq!(
            fs::read_link(dest.path().join("node_modules/link")).unwrap(),
            Path::new("a/index.js")
        );
    }
    expected.sort();
    assert_eq!(files_under(dest.path()), expected);
    assert_eq!(
        fs::read(dest.path().join("node_modules/a/index.js")).unwrap(),
        b"module.exports = 1"
    );
}

#[test]
fn nothing_matched_and_bad_keys_are_errors() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let err = store
        .save_cache("k", V, work.path(), &strings(&["missing/**"]))
        .unwrap_err();
    assert!(matches!(err, StoreError::NoFilesMatched { .. }), "{err}");
    let err = store
        .save_cache("a,b", V, work.path(), &strings(&["x"]))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err}");
    let keys: Vec<String> = (0..11).map(|i| format!("k{i}")).collect();
    let err = store.restore_cache(&keys, V, work.path()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err}");
    let err = store.restore_cache(&[], V, work.path()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err}");
}

fn store_with_limit(home: &Path, limit: u64) -> (Store, TestClock) {
    let clock = TestClock::new();
    let store = Store::open_with(
        home,
        StoreOptions {
            cache_limit_bytes: limit,
            ..clock.options()
        },
    )
    .unwrap();
    (store, clock)
}

fn keys(store: &Store) -> Vec<String> {
    let mut k: Vec<String> = store.caches().unwrap().into_iter().map(|c| c.key).collect();
    k.sort();
    k
}

#[test]
fn saving_over_the_limit_evicts_the_least_recently_used() {
    let home = tempfile::tempdir().unwrap();
    // Incompressible 100 KB each: three do not fit in 250 KB.
    let (store, clock) = store_with_limit(home.path(), 250_000);
    save(&store, "a", &noise(100_000, 1));
    clock.advance(Duration::from_secs(1));
    let b = save(&store, "b", &noise(100_000, 2));
    clock.advance(Duration::from_secs(1));
    // Using `a` makes `b` the least recently used.
    restore(&store, &["a"]).unwrap();
    clock.advance(Duration::from_secs(1));
    let c = save(&store, "c", &noise(100_000, 3));
    assert!(c.saved);
    assert_eq!(c.evicted, ["b"]);
    assert_eq!(keys(&store), ["a", "c"]);
    // Its blob is gone from disk too.
    assert!(!store.blobs().contains(&b.digest.unwrap()));
    let total: u64 = store.caches().unwrap().iter().map(|c| c.stored_size).sum();
    assert!(total <= 250_000, "{total}");
}

#[test]
fn a_cache_larger_than_the_limit_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let (store, _) = store_with_limit(home.path(), 10_000);
    let work = tempfile::tempdir().unwrap();
    write_tree(work.path(), &[("big", &noise(50_000, 9))]);
    let err = store
        .save_cache("big", V, work.path(), &strings(&["big"]))
        .unwrap_err();
    assert!(matches!(err, StoreError::CacheTooLarge { .. }), "{err}");
    assert!(store.caches().unwrap().is_empty());
    // The temporary blob was cleaned up.
    assert!(files_under(&home.path().join("blobs")).is_empty());
}

#[test]
fn prune_by_age_prefix_and_size_with_dry_run() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    save(&store, "old-1", &noise(10_000, 1));
    save(&store, "old-2", &noise(10_000, 2));
    clock.advance(Duration::from_secs(8 * 86_400));
    save(&store, "new-1", &noise(10_000, 3));
    clock.advance(Duration::from_secs(1));
    save(&store, "new-2", &noise(10_000, 4));

    let week = Some(Duration::from_secs(7 * 86_400));
    let dry = store
        .prune_caches(&PrunePolicy {
            older_than: week,
            dry_run: true,
            ..PrunePolicy::default()
        })
        .unwrap();
    assert_eq!(dry.removed.len(), 2);
    assert_eq!(dry.blobs_deleted, 2);
    assert_eq!(
        store.caches().unwrap().len(),
        4,
        "a dry run changes nothing"
    );

    let report = store
        .prune_caches(&PrunePolicy {
            older_than: week,
            ..PrunePolicy::default()
        })
        .unwrap();
    assert_eq!(report.blobs_deleted, 2);
    assert!(report.bytes_freed > 0);
    assert_eq!(keys(&store), ["new-1", "new-2"]);

    let report = store
        .prune_caches(&PrunePolicy {
            max_total_bytes: Some(15_000),
            ..PrunePolicy::default()
        })
        .unwrap();
    assert_eq!(report.removed.len(), 1);
    assert_eq!(report.removed[0].key, "new-1");
    assert_eq!(keys(&store), ["new-2"]);

    let report = store
        .prune_caches(&PrunePolicy {
            key_prefix: Some("other-".into()),
            ..PrunePolicy::default()
        })
        .unwrap();
    assert!(report.removed.is_empty());
    store
        .prune_caches(&PrunePolicy {
            key_prefix: Some("new-".into()),
            ..PrunePolicy::default()
        })
        .unwrap();
    assert!(store.caches().unwrap().is_empty());
    assert!(files_under(&home.path().join("blobs/blake3")).is_empty());
    // With no policy, no cache goes.
    save(&store, "keep", b"keep");
    let report = store.prune_caches(&PrunePolicy::default()).unwrap();
    assert!(report.removed.is_empty());
    assert_eq!(keys(&store), ["keep"]);
}

#[test]
fn a_corrupt_blob_is_detected_reported_and_forgotten() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let saved = save(&store, "k", &noise(50_000, 5));
    let digest = saved.digest.unwrap();
    let path = store.blobs().path(&digest);
    // Same format, other content: only the digest can tell.
    let work = tempfile::tempdir().unwrap();
    write_tree(work.path(), &[("cache/data.txt", b"not what was saved")]);
    let other = store
        .save_cache("other", V, work.path(), &strings(&["cache"]))
        .unwrap();
    fs::copy(store.blobs().path(&other.digest.unwrap()), &path).unwrap();

    let dest = tempfile::tempdir().unwrap();
    let err = store
        .restore_cache(&strings(&["k"]), V, dest.path())
        .unwrap_err();
    match &err {
        StoreError::CorruptBlob { digest: d, .. } => assert_eq!(*d, digest),
        other => panic!("expected a corrupt blob, got {other}"),
    }
    assert!(err.to_string().contains(&digest.hex()), "{err}");
    // The entry is gone, so the key can be saved again.
    assert_eq!(keys(&store), ["other"]);
    assert!(save(&store, "k", b"fresh").saved);
    assert_eq!(restore(&store, &["k"]).unwrap().2, b"fresh");
}

#[test]
fn a_missing_blob_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let saved = save(&store, "k", b"x");
    fs::remove_file(store.blobs().path(&saved.digest.unwrap())).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let err = store
        .restore_cache(&strings(&["k"]), V, dest.path())
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingBlob { .. }), "{err}");
    assert!(store.caches().unwrap().is_empty());
}
