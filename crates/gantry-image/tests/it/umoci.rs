//! Images built with Debian's `umoci` (init, new, unpack, repack): a
//! rootfs the test writes, a second layer that deletes a package's
//! metadata (umoci writes the whiteout), then catalogued. Required under
//! `CI=true` (`.ci/run` installs umoci).

use std::path::Path;
use std::process::Command;

use gantry_image::Options;
use gantry_sbom::Ecosystem;

use crate::common::{build, tool};

fn umoci(args: &[&str]) {
    let out = Command::new("umoci").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "umoci {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn an_image_built_by_umoci_is_catalogued_layer_by_layer() {
    if !tool("umoci", "install it with `apt-get install umoci`") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let bundle = dir.path().join("bundle");
    let image = format!("{}:latest", layout.display());
    let bundle_s = bundle.to_str().unwrap();
    umoci(&["init", "--layout", layout.to_str().unwrap()]);
    umoci(&["new", "--image", &image]);
    umoci(&["unpack", "--rootless", "--image", &image, bundle_s]);
    let rootfs = bundle.join("rootfs");
    write(
        &rootfs,
        "etc/os-release",
        &build::os_release("debian", "12"),
    );
    let mut status = build::dpkg_entry(
        "libc6",
        "2.36-9+deb12u4",
        Some("glibc"),
        "install ok installed",
    );
    status.push_str(&build::dpkg_entry(
        "zlib1g",
        "1:1.2.13.dfsg-1",
        Some("zlib"),
        "install ok installed",
    ));
    write(&rootfs, "var/lib/dpkg/status", &status);
    write(
        &rootfs,
        "usr/lib/python3/dist-packages/idna-3.3.dist-info/METADATA",
        &build::python_metadata("idna", "3.3"),
    );
    write(
        &rootfs,
        "app/node_modules/express/package.json",
        &build::package_json("express", "4.17.1"),
    );
    umoci(&["repack", "--refresh-bundle", "--image", &image, bundle_s]);
    // Second layer: the Python package goes, a new npm package comes.
    std::fs::remove_dir_all(rootfs.join("usr/lib/python3/dist-packages/idna-3.3.dist-info"))
        .unwrap();
    write(
        &rootfs,
        "app/node_modules/qs/package.json",
        &build::package_json("qs", "6.5.2"),
    );
    umoci(&["repack", "--image", &image, bundle_s]);

    let inv = gantry_image::inventory(&layout, &Options::default()).unwrap();
    assert_eq!(inv.image.name, "latest");
    assert_eq!(inv.image.layers.len(), 2);
    let names = |e: Ecosystem| {
        let mut v: Vec<&str> = inv
            .inventory
            .components
            .iter()
            .filter(|c| c.ecosystem == e)
            .map(|c| c.name.as_str())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(names(Ecosystem::Deb), ["libc6", "zlib1g"]);
    assert_eq!(
        names(Ecosystem::PyPI),
        Vec::<&str>::new(),
        "umoci's whiteout removed idna"
    );
    assert_eq!(names(Ecosystem::Npm), ["express", "qs"]);
    let layer_of = |name: &str| {
        let c = inv
            .inventory
            .components
            .iter()
            .find(|c| c.name == name)
            .unwrap();
        c.properties
            .iter()
            .find(|(k, _)| k == "layer")
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(layer_of("express"), inv.image.layers[0].digest);
    assert_eq!(layer_of("qs"), inv.image.layers[1].digest);
    let zlib = inv
        .inventory
        .components
        .iter()
        .find(|c| c.name == "zlib1g")
        .unwrap();
    assert_eq!(
        zlib.purl,
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
    );
}
