//! Opening images of each kind and cataloguing what their layers leave.

use gantry_image::{Kind, Options};
use gantry_sbom::{Component, Ecosystem};

use crate::common::build::{self, Compression};

fn find<'a>(components: &'a [Component], name: &str) -> Option<&'a Component> {
    components.iter().find(|c| c.name == name)
}

fn prop<'a>(c: &'a Component, key: &str) -> Option<&'a str> {
    c.properties
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn names(inv: &gantry_image::ImageInventory, e: Ecosystem) -> Vec<String> {
    let mut v: Vec<String> = inv
        .inventory
        .components
        .iter()
        .filter(|c| c.ecosystem == e)
        .map(|c| c.name.clone())
        .collect();
    v.sort();
    v
}

fn check_debian(inv: &gantry_image::ImageInventory, layers: &[String]) {
    let cs = &inv.inventory.components;
    assert_eq!(inv.os.as_ref().unwrap().id, "debian");
    assert_eq!(names(inv, Ecosystem::Deb), ["curl", "libc6", "libssl3"]);
    let ssl = find(cs, "libssl3").unwrap();
    assert_eq!(
        ssl.purl,
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
    );
    assert_eq!(ssl.os.as_ref().unwrap().source.as_deref(), Some("openssl"));
    assert_eq!(ssl.osv_ecosystem().as_deref(), Some("Debian:12"));
    assert_eq!(ssl.advisory_name(), "openssl");
    assert_eq!(prop(ssl, "layer"), Some(layers[0].as_str()));
    assert_eq!(prop(ssl, "path"), Some("var/lib/dpkg/status"));
    assert_eq!(ssl.location.line, 10, "the paragraph's first line");
    // The whiteout removed six; the opaque folder removed left-pad.
    assert_eq!(names(inv, Ecosystem::PyPI), ["requests"]);
    assert_eq!(names(inv, Ecosystem::Npm), ["@types/node", "lodash"]);
    let lodash = find(cs, "lodash").unwrap();
    assert_eq!(prop(lodash, "layer"), Some(layers[1].as_str()));
    assert_eq!(
        prop(lodash, "path"),
        Some("srv/app/node_modules/lodash/package.json")
    );
    assert_eq!(
        find(cs, "@types/node").unwrap().purl,
        "pkg:npm/%40types/node@20.1.0"
    );
    // Go build info: the standard library and the dependency, not the
    // (devel) main module.
    assert_eq!(names(inv, Ecosystem::Go), ["golang.org/x/text", "stdlib"]);
    assert_eq!(
        find(cs, "stdlib").unwrap().version.as_deref(),
        Some("1.21.5")
    );
    assert_eq!(
        prop(find(cs, "golang.org/x/text").unwrap(), "path"),
        Some("usr/local/bin/goapp")
    );
    // cargo auditable: the dependency, not the root crate.
    assert_eq!(names(inv, Ecosystem::Cargo), ["smallvec"]);
    assert!(find(cs, "smallvec").unwrap().direct);
}

#[test]
fn an_oci_layout_with_gzip_layers_gives_os_and_language_packages_layer_by_layer() {
    let dir = tempfile::tempdir().unwrap();
    let layers = build::debian_layers();
    let digest = build::oci_layout(dir.path(), &layers, Compression::Gzip, "example/app:1.0");
    let image = gantry_image::open(dir.path(), &Options::default()).unwrap();
    assert_eq!(image.kind, Kind::OciLayout);
    assert_eq!(image.digest.to_string(), digest);
    assert_eq!(image.name, "example/app:1.0");
    assert_eq!(image.platform.as_deref(), Some("linux/amd64"));
    let layer_digests: Vec<String> = image.layers.iter().map(|l| l.digest.clone()).collect();
    assert_eq!(layer_digests.len(), 2);
    // The whiteout files themselves are not files of the image.
    assert!(image.files.iter().all(|(p, _)| !p.contains(".wh.")));
    assert!(
        image
            .files
            .get("srv/app/node_modules/left-pad/package.json")
            .is_none()
    );
    let inv = gantry_image::catalogue(&image);
    check_debian(&inv, &layer_digests);
    assert!(
        inv.inventory.warnings.is_empty(),
        "{:?}",
        inv.inventory.warnings
    );
}

#[test]
fn oci_archive_zstd_and_plain_layers_read_the_same() {
    let layers = build::debian_layers();
    for compression in [Compression::None, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        std::fs::create_dir(&layout).unwrap();
        let digest = build::oci_layout(&layout, &layers, compression, "latest");
        let tarball = dir.path().join("image.tar");
        build::tar_dir(&layout, &tarball);
        assert_eq!(gantry_image::detect(&tarball), Some(Kind::OciArchive));
        let inv = gantry_image::inventory(&tarball, &Options::default()).unwrap();
        assert_eq!(inv.image.digest, digest);
        let layer_digests: Vec<String> =
            inv.image.layers.iter().map(|l| l.digest.clone()).collect();
        check_debian(&inv, &layer_digests);
        let id = gantry_image::identify(&tarball, &Options::default()).unwrap();
        assert_eq!(id.digest.to_string(), digest);
    }
}

#[test]
fn a_docker_save_tarball_is_identified_by_its_config_and_layers_by_diff_id() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("alpine.tar");
    let layers = build::alpine_layers();
    let config = build::docker_save(&tarball, &layers, "alpine:3.19");
    assert_eq!(gantry_image::detect(&tarball), Some(Kind::DockerArchive));
    let inv = gantry_image::inventory(&tarball, &Options::default()).unwrap();
    assert_eq!(inv.image.digest, config);
    assert_eq!(inv.image.name, "alpine:3.19");
    assert_eq!(
        inv.image.layers[0].digest,
        format!("sha256:{}", build::sha256(&layers[0]))
    );
    assert_eq!(
        names(&inv, Ecosystem::Apk),
        ["busybox", "musl", "ssl_client"]
    );
    let ssl = find(&inv.inventory.components, "ssl_client").unwrap();
    assert_eq!(
        ssl.purl,
        "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1"
    );
    assert_eq!(ssl.advisory_name(), "busybox");
    assert_eq!(ssl.osv_ecosystem().as_deref(), Some("Alpine:v3.19"));
}

#[test]
fn rpm_sqlite_databases_are_read_from_memory() {
    let db = build::rpm_db(&[
        ("openssl-libs", Some(1), "3.0.7", "25.el9_3"),
        ("bash", None, "5.1.8", "6.el9_1"),
        ("gpg-pubkey", None, "8483c65d", "5ccc5b19"),
    ]);
    let layer = build::LayerBuilder::new()
        .file("etc/os-release", build::os_release("rocky", "9.3"))
        .file("var/lib/rpm/rpmdb.sqlite", db)
        .tar();
    let dir = tempfile::tempdir().unwrap();
    build::oci_layout(dir.path(), &[layer], Compression::Gzip, "rocky:9");
    let inv = gantry_image::inventory(dir.path(), &Options::default()).unwrap();
    assert_eq!(names(&inv, Ecosystem::Rpm), ["bash", "openssl-libs"]);
    let ssl = find(&inv.inventory.components, "openssl-libs").unwrap();
    assert_eq!(ssl.version.as_deref(), Some("1:3.0.7-25.el9_3"));
    assert_eq!(
        ssl.purl,
        "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rocky-9.3&epoch=1"
    );
    assert_eq!(ssl.os.as_ref().unwrap().source.as_deref(), Some("openssl"));
    assert_eq!(ssl.osv_ecosystem().as_deref(), Some("Rocky Linux:9"));
}

#[test]
fn berkeleydb_rpm_databases_are_reported_as_unsupported() {
    let layer = build::LayerBuilder::new()
        .file("etc/os-release", build::os_release("centos", "7"))
        .file("var/lib/rpm/Packages", vec![0u8; 4096])
        .tar();
    let dir = tempfile::tempdir().unwrap();
    build::oci_layout(dir.path(), &[layer], Compression::None, "centos:7");
    let inv = gantry_image::inventory(dir.path(), &Options::default()).unwrap();
    assert!(inv.inventory.components.is_empty());
    assert!(
        inv.inventory
            .warnings
            .iter()
            .any(|w| w.message.contains("BerkeleyDB format is not supported")),
        "{:?}",
        inv.inventory.warnings
    );
}

#[test]
fn a_multi_platform_index_picks_linux_amd64_or_the_platform_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let amd = build::alpine_layers();
    let arm = vec![
        build::LayerBuilder::new()
            .file("etc/os-release", build::os_release("alpine", "3.19.1"))
            .file(
                "lib/apk/db/installed",
                build::apk_entry("musl", "1.2.4-r0", "musl"),
            )
            .tar(),
    ];
    let (amd_digest, amd_size) = build::oci_manifest(dir.path(), &amd, Compression::Gzip, "amd64");
    let (arm_digest, arm_size) = build::oci_manifest(dir.path(), &arm, Compression::Gzip, "arm64");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm_digest, "size": arm_size,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd_digest, "size": amd_size,
             "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    });
    std::fs::write(dir.path().join("index.json"), index.to_string()).unwrap();
    let id = gantry_image::identify(dir.path(), &Options::default()).unwrap();
    assert_eq!(id.digest.to_string(), amd_digest);
    let arm_options = Options {
        platform: gantry_image::Platform::parse("linux/arm64"),
        ..Options::default()
    };
    let inv = gantry_image::inventory(dir.path(), &arm_options).unwrap();
    assert_eq!(inv.image.digest, arm_digest);
    assert_eq!(names(&inv, Ecosystem::Apk), ["musl"]);
    let err = gantry_image::identify(
        dir.path(),
        &Options {
            platform: gantry_image::Platform::parse("linux/s390x"),
            ..Options::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no manifest for platform linux/s390x"),
        "{err}"
    );
    assert!(err.contains("linux/arm64/v8"), "{err}");
}
