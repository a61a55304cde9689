//! Hostile and careless input: includes and neighbours that point out of
//! the scanned folder, devices, FIFOs and `/proc` files behind lockfile
//! names, and lockfile versions gantry does not know. Each is a warning
//! (or an error for the path given), never a read outside the root, a
//! hang or silence.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use gantry_sbom::{DiscoverOptions, Error, Inventory, inventory};

/// The inventory of `path`, run on a thread so that a regression that
/// blocks on a FIFO fails the test instead of hanging the suite (a guard,
/// not a timing: the limit is generous).
fn inventory_guarded(path: &Path) -> Result<Inventory, Error> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(inventory(&path, &DiscoverOptions::default()));
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the inventory blocked (a FIFO was opened?)")
}

fn warnings(inv: &Inventory) -> String {
    inv.warnings
        .iter()
        .map(|w| format!("{w}\n"))
        .collect::<String>()
}

fn names(inv: &Inventory) -> Vec<&str> {
    inv.components.iter().map(|c| c.name.as_str()).collect()
}

/// A scratch folder with `root/` to scan and an `outside.txt` beside it
/// that pins a package the scan must never see.
fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(dir.path().join("outside.txt"), "leaked-secret==1.0\n").unwrap();
    (dir, root)
}

#[test]
fn requirement_includes_never_leave_the_scanned_folder() {
    let (_dir, root) = scratch();
    std::fs::write(
        root.join("requirements.txt"),
        "-r ../outside.txt\n-c ../outside.txt\n-r ../../etc/passwd\n-r /etc/passwd\n-r sub/../../outside.txt\nflask==3.0.0\n",
    )
    .unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert_eq!(names(&inv), ["flask"], "{}", warnings(&inv));
    let w = warnings(&inv);
    for target in [
        "../outside.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "sub/../../outside.txt",
    ] {
        assert!(
            w.contains(&format!("include `{target}` not read")) && w.contains("outside"),
            "{target}: {w}"
        );
    }
}

#[test]
fn includes_inside_the_folder_are_still_read() {
    let (_dir, root) = scratch();
    std::fs::write(root.join("sub/base.txt"), "requests==2.31.0\n").unwrap();
    std::fs::write(root.join("requirements.txt"), "-r sub/base.txt\n").unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert_eq!(names(&inv), ["requests"], "{}", warnings(&inv));
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_folder_is_not_followed() {
    let (dir, root) = scratch();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("inc.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("sub/go.sum")).unwrap();
    std::fs::write(root.join("requirements.txt"), "-r inc.txt\nflask==3.0.0\n").unwrap();
    std::fs::write(
        root.join("sub/go.mod"),
        "module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n",
    )
    .unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert!(!names(&inv).contains(&"leaked-secret"), "{:?}", names(&inv));
    let w = warnings(&inv);
    assert!(w.contains("include `inc.txt` not read"), "{w}");
    assert!(w.contains("neighbour `go.sum` not read"), "{w}");
}

#[cfg(unix)]
#[test]
fn dev_zero_behind_a_lockfile_name_is_refused_not_read() {
    let (_dir, root) = scratch();
    // Linked from inside the folder, as an include and as a neighbour.
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.txt")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("sub/go.sum")).unwrap();
    std::fs::write(root.join("requirements.txt"), "-r zero.txt\n").unwrap();
    std::fs::write(root.join("sub/go.mod"), "module example.com/app\n").unwrap();
    let inv = inventory_guarded(&root).unwrap();
    let w = warnings(&inv);
    assert!(w.contains("include `zero.txt` not read"), "{w}");
    assert!(w.contains("neighbour `go.sum` not read"), "{w}");
    // Given directly.
    let lock = root.join("Cargo.lock");
    std::os::unix::fs::symlink("/dev/zero", &lock).unwrap();
    let e = inventory_guarded(&lock).unwrap_err();
    assert!(matches!(e, Error::NotRegular { .. }), "{e}");
}

#[cfg(target_os = "linux")]
#[test]
fn proc_files_are_never_read() {
    let (_dir, root) = scratch();
    std::os::unix::fs::symlink("/proc/self/environ", root.join("env.txt")).unwrap();
    std::fs::write(
        root.join("requirements.txt"),
        "-r env.txt\n-r /proc/self/environ\n",
    )
    .unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert!(inv.components.is_empty(), "{:?}", names(&inv));
    let w = warnings(&inv);
    assert!(w.contains("include `env.txt` not read"), "{w}");
    assert!(w.contains("include `/proc/self/environ` not read"), "{w}");
}

#[cfg(unix)]
#[test]
fn a_fifo_never_blocks_the_scan() {
    let (_dir, root) = scratch();
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
    nix::unistd::mkfifo(&root.join("fifo.txt"), mode).unwrap();
    nix::unistd::mkfifo(&root.join("sub/go.sum"), mode).unwrap();
    nix::unistd::mkfifo(&root.join("Cargo.lock"), mode).unwrap();
    std::fs::write(root.join("requirements.txt"), "-r fifo.txt\nflask==3.0.0\n").unwrap();
    std::fs::write(root.join("sub/go.mod"), "module example.com/app\n").unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert_eq!(names(&inv), ["flask"]);
    let w = warnings(&inv);
    assert!(
        w.contains("include `fifo.txt` not read") && w.contains("FIFO"),
        "{w}"
    );
    assert!(w.contains("neighbour `go.sum` not read"), "{w}");
    // Given directly: an error, not a hang.
    let e = inventory_guarded(&root.join("Cargo.lock")).unwrap_err();
    assert!(matches!(e, Error::NotRegular { .. }), "{e}");
}

#[test]
fn go_sum_without_go_mod_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("svc")).unwrap();
    std::fs::write(
        dir.path().join("svc/go.sum"),
        "golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\n",
    )
    .unwrap();
    let inv = inventory_guarded(dir.path()).unwrap();
    assert!(inv.components.is_empty());
    let w = warnings(&inv);
    assert!(w.contains("svc/go.sum: go.sum without a go.mod"), "{w}");
    // With go.mod beside it: no warning.
    std::fs::write(dir.path().join("svc/go.mod"), "module example.com/svc\n").unwrap();
    let inv = inventory_guarded(dir.path()).unwrap();
    assert!(
        !warnings(&inv).contains("without a go.mod"),
        "{}",
        warnings(&inv)
    );
}

#[test]
fn unknown_lockfile_versions_are_warnings() {
    let cases = [
        (
            "package-lock.json",
            "{\n  \"name\": \"app\",\n  \"lockfileVersion\": 9,\n  \"packages\": {\n    \"node_modules/left-pad\": {\"version\": \"1.3.0\"}\n  }\n}\n",
            "package-lock.json:3: unknown lockfileVersion 9",
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '99.0'\n\npackages:\n\n  left-pad@1.3.0:\n    resolution: {integrity: sha512-x}\n",
            "pnpm-lock.yaml:1: unknown lockfileVersion 99",
        ),
        (
            "Cargo.lock",
            "version = 7\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.13.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
            "Cargo.lock:1: unknown Cargo.lock version 7",
        ),
        (
            "uv.lock",
            "version = 9\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
            "uv.lock:1: unknown uv.lock version 9",
        ),
    ];
    for (name, text, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let inv = inventory_guarded(dir.path()).unwrap();
        let w = warnings(&inv);
        assert!(w.contains(want), "{name}: {w}");
        // What can be read still is.
        assert_eq!(inv.components.len(), 1, "{name}: {w}");
    }
}

#[test]
fn known_lockfile_versions_give_no_version_warning() {
    let fixtures = crate::common::fixtures().join("monorepo");
    let inv = inventory_guarded(&fixtures).unwrap();
    let w = warnings(&inv);
    assert!(!w.contains("unknown"), "{w}");
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_an_ignore_file_skips_the_folder_with_a_warning() {
    let (_dir, root) = scratch();
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
    nix::unistd::mkfifo(&root.join("sub/.gitignore"), mode).unwrap();
    std::fs::write(root.join("sub/requirements.txt"), "leaked-secret==1.0\n").unwrap();
    std::fs::create_dir(root.join("dev")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("dev/.ignore")).unwrap();
    std::fs::write(root.join("requirements.txt"), "flask==3.0.0\n").unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert_eq!(names(&inv), ["flask"]);
    let w = warnings(&inv);
    assert!(
        w.contains("sub: folder not searched") && w.contains("FIFO"),
        "{w}"
    );
    assert!(
        w.contains("dev: folder not searched") && w.contains("character device"),
        "{w}"
    );
    // A `.git` file (a worktree's pointer) that is a FIFO.
    std::fs::create_dir(root.join("wt")).unwrap();
    nix::unistd::mkfifo(&root.join("wt/.git"), mode).unwrap();
    std::fs::write(root.join("wt/requirements.txt"), "leaked-secret==1.0\n").unwrap();
    let inv = inventory_guarded(&root).unwrap();
    assert_eq!(names(&inv), ["flask"]);
    assert!(
        warnings(&inv).contains("wt: folder not searched"),
        "{}",
        warnings(&inv)
    );
    // At the root: an error, not a hang.
    nix::unistd::mkfifo(&root.join(".gitignore"), mode).unwrap();
    let e = inventory_guarded(&root).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
}
