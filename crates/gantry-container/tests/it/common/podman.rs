//! A real podman for tests, with its own storage, configuration and a
//! busybox image built here (never pulled): a rootfs of Debian's
//! `busybox-static` with every applet linked, imported with `podman
//! import`. Shared by gantry-container's and gantry-engine's tests.
//!
//! The configuration is what this sandbox needs (found by trying): `runc`,
//! because crun refuses cgroups in hybrid mode; open-file and process
//! limits below the hard limits, because the default 1048576 open files
//! cannot be set without `CAP_SYS_RESOURCE`; netavark, whose aardvark DNS
//! resolves service names on a job's network; the file events logger, as
//! there is no systemd. A wrapper script named `podman` points podman at
//! it, so the code under test runs the client exactly as it would run the
//! system's.
//!
//! Without podman (or busybox) the tests skip with a printed reason, and
//! fail under `CI=true`; when podman is there but cannot run a container
//! here, they skip with podman's own error, whatever `CI` says, since CI
//! runs in the same sandbox.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The image the tests run: busybox, `PATH=/bin`, and `httpd -f -p 8080
/// -h /` as its command (a service that serves its own filesystem).
pub const IMAGE: &str = "localhost/gantry-test-busybox:1";

pub struct Podman {
    /// The wrapper script, named `podman`.
    pub wrapper: PathBuf,
    /// Its folder, to put first on a `PATH`.
    pub bin_dir: PathBuf,
}

impl Podman {
    /// Runs the wrapper; its stdout, trimmed, when it exits 0.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.wrapper)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run podman: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// The names of every container that exists, running or not.
    pub fn containers(&self) -> Vec<String> {
        self.run(&["ps", "-a", "--format", "{{.Names}}"])
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The names of every network.
    pub fn networks(&self) -> Vec<String> {
        self.run(&["network", "ls", "--format", "{{.Name}}"])
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Asserts that nothing named `prefix...` is left.
    pub fn assert_gone(&self, prefix: &str) {
        let left: Vec<String> = self
            .containers()
            .into_iter()
            .chain(self.networks())
            .filter(|n| n.starts_with(prefix))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The test podman, or `None` (the reason printed) when the tests cannot
/// run containers here.
pub fn podman() -> Option<&'static Podman> {
    static PODMAN: OnceLock<Result<Podman, String>> = OnceLock::new();
    match PODMAN.get_or_init(setup) {
        Ok(p) => Some(p),
        Err(reason) => {
            eprintln!("skipping: {reason}");
            None
        }
    }
}

fn setup() -> Result<Podman, String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let missing = |what: &str| {
        let text = format!(
            "{what} is not installed (Debian packages podman, runc, netavark, aardvark-dns, busybox-static)"
        );
        assert!(!ci, "CI=true: {text}");
        text
    };
    let real = on_path("podman").ok_or_else(|| missing("podman"))?;
    // What the configuration below names.
    on_path("runc")
        .or_else(|| Some(PathBuf::from("/usr/sbin/runc")).filter(|p| p.is_file()))
        .ok_or_else(|| missing("runc"))?;
    for helper in ["netavark", "aardvark-dns"] {
        Some(Path::new("/usr/lib/podman").join(helper))
            .filter(|p| p.is_file())
            .ok_or_else(|| missing(helper))?;
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| missing("busybox"))?;
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("podman");
    let bin_dir = root.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let conf = root.join("containers.conf");
    std::fs::write(
        &conf,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n\
             [network]\nnetwork_backend = \"netavark\"\nnetwork_config_dir = \"{net}\"\n\
             [engine]\nruntime = \"runc\"\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\n",
            net = root.join("networks").display()
        ),
    )
    .unwrap();
    let storage = root.join("storage.conf");
    std::fs::write(
        &storage,
        format!(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            root.join("storage").display(),
            root.join("run").display()
        ),
    )
    .unwrap();
    let wrapper = bin_dir.join("podman");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexport CONTAINERS_CONF='{}' CONTAINERS_STORAGE_CONF='{}'\nexec '{}' \"$@\"\n",
            conf.display(),
            storage.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let podman = Podman { wrapper, bin_dir };
    if podman.run(&["image", "exists", IMAGE]).is_err() {
        build_image(&podman, &busybox, &root)?;
    }
    // The probe: can this machine run a container at all?
    podman
        .run(&["run", "--rm", IMAGE, "true"])
        .map_err(|e| format!("podman cannot run a container here: {e}"))?;
    Ok(podman)
}

fn build_image(podman: &Podman, busybox: &Path, root: &Path) -> Result<(), String> {
    let rootfs = tempfile::tempdir_in(root).unwrap();
    let bin = rootfs.path().join("bin");
    for dir in ["bin", "tmp", "etc"] {
        std::fs::create_dir_all(rootfs.path().join(dir)).unwrap();
    }
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    let list = Command::new(busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    let tarball = root.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(rootfs.path())
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");
    let tarball = tarball.display().to_string();
    podman
        .run(&[
            "import",
            "-q",
            "-c",
            "ENV PATH=/bin",
            "-c",
            r#"CMD ["httpd", "-f", "-p", "8080", "-h", "/"]"#,
            &tarball,
            IMAGE,
        ])
        .map_err(|e| format!("podman import failed: {e}"))?;
    Ok(())
}
