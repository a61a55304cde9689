//! Hostile and broken images: errors that say what and where, never a
//! panic, a hang, a read outside the image or unbounded memory.

use gantry_image::{Error, Limits, Options};

use crate::common::build::{self, Compression, LayerBuilder};

fn layout(layers: &[Vec<u8>], compression: Compression) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build::oci_layout(dir.path(), layers, compression, "hostile");
    dir
}

#[test]
fn entries_climbing_out_are_refused_and_links_stay_inside() {
    let layer = LayerBuilder::new()
        .file("../../etc/evil", "x")
        .symlink("etc/os-release", "/../../../etc/os-release")
        .hardlink("etc/shadow-copy", "../../etc/shadow")
        .file(
            "lib/apk/db/installed",
            build::apk_entry("musl", "1.2.4-r0", "musl"),
        )
        .tar();
    let dir = layout(&[layer], Compression::Gzip);
    let image = gantry_image::open(dir.path(), &Options::default()).unwrap();
    assert!(image.files.iter().all(|(p, _)| !p.contains("evil")));
    assert!(image.files.get("etc/shadow-copy").is_none());
    let text: Vec<String> = image.warnings.iter().map(|w| w.message.clone()).collect();
    assert!(
        text.iter()
            .any(|m| m.contains("`../../etc/evil` climbs out")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|m| m.contains("hard link `etc/shadow-copy` points out")),
        "{text:?}"
    );
    // The os-release link loops inside the image: no distribution, and
    // the host's /etc/os-release is never read.
    let inv = gantry_image::catalogue(&image);
    assert!(inv.os.is_none());
    assert_eq!(inv.inventory.components.len(), 1);
}

#[test]
fn a_decompression_bomb_stops_at_the_layer_limit() {
    let layer = LayerBuilder::new().file("zeros", vec![0u8; 4 << 20]).tar();
    let dir = layout(&[layer], Compression::Gzip);
    let options = Options {
        limits: Limits {
            max_layer_bytes: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = gantry_image::open(dir.path(), &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("decompresses to more than the 1048576-byte limit"),
        "{err}"
    );
}

#[test]
fn too_many_entries_and_oversized_kept_files_are_bounded() {
    let mut b = LayerBuilder::new();
    for i in 0..50 {
        b = b.file(&format!("f{i}"), "x");
    }
    let big = LayerBuilder::new()
        .file("var/lib/dpkg/status", vec![b'a'; 10_000])
        .tar();
    let dir = layout(&[b.tar(), big], Compression::None);
    let few = Options {
        limits: Limits {
            max_entries: 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = gantry_image::open(dir.path(), &few)
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than 10 entries"), "{err}");
    let small = Options {
        limits: Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let image = gantry_image::open(dir.path(), &small).unwrap();
    assert!(
        image.warnings.iter().any(|w| w
            .message
            .contains("var/lib/dpkg/status is larger than the 1000-byte limit")),
        "{:?}",
        image.warnings
    );
}

#[test]
fn a_changed_blob_fails_its_digest() {
    let dir = layout(&build::alpine_layers(), Compression::None);
    let blobs = dir.path().join("blobs/sha256");
    // The tar blob is the layer; change a byte of its first file.
    let layer = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&layer).unwrap();
    bytes[520] ^= 1;
    std::fs::write(&layer, bytes).unwrap();
    let err = gantry_image::open(dir.path(), &Options::default()).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    // identify() reads no layers, so it does not notice; open() does.
    assert!(gantry_image::identify(dir.path(), &Options::default()).is_ok());
}

#[test]
fn bad_digests_and_truncated_layers_are_errors() {
    let dir = layout(&build::alpine_layers(), Compression::None);
    std::fs::write(
        dir.path().join("index.json"),
        r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../etc/passwd","size":1}]}"#,
    )
    .unwrap();
    let err = gantry_image::open(dir.path(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a sha256 digest"), "{err}");

    // A layer cut in half: its blob no longer matches, and reading it
    // is an error, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let layers = build::debian_layers();
    build::oci_layout(dir.path(), &layers, Compression::Gzip, "cut");
    for entry in std::fs::read_dir(dir.path().join("blobs/sha256")).unwrap() {
        let p = entry.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        }
    }
    assert!(gantry_image::open(dir.path(), &Options::default()).is_err());
}

#[test]
fn compressed_tarballs_and_other_files_are_not_images() {
    let dir = tempfile::tempdir().unwrap();
    let layout_dir = dir.path().join("layout");
    std::fs::create_dir(&layout_dir).unwrap();
    build::oci_layout(&layout_dir, &build::alpine_layers(), Compression::None, "x");
    let tarball = dir.path().join("image.tar");
    build::tar_dir(&layout_dir, &tarball);
    let gz = dir.path().join("image.tar.gz");
    std::fs::write(&gz, build::gzip(&std::fs::read(&tarball).unwrap())).unwrap();
    let err = gantry_image::open(&gz, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gzip-compressed; decompress it first"),
        "{err}"
    );
    let plain = dir.path().join("notes.txt");
    std::fs::write(&plain, "hello").unwrap();
    assert!(gantry_image::detect(&plain).is_none());
    assert!(gantry_image::open(&plain, &Options::default()).is_err());
    // A plain tarball without an index is no image either.
    let other = dir.path().join("other.tar");
    std::fs::write(&other, LayerBuilder::new().file("a", "b").tar()).unwrap();
    assert!(gantry_image::detect(&other).is_none());
    let err = gantry_image::open(&other, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no index.json or manifest.json"), "{err}");
    // A FIFO is refused, not waited on.
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(gantry_image::detect(&fifo).is_none());
        assert!(gantry_image::open(&fifo, &Options::default()).is_err());
    }
}
