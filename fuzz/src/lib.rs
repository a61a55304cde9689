//! Helpers shared by the fuzz targets.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Parses `data` as the lockfile called `name` (in a folder that does not
/// exist, so neighbours such as `go.sum` or `-r` includes are absent) and
/// checks what every parser promises: no panic, and every location and
/// warning line inside the file.
pub fn lockfile(name: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/gantry-fuzz").join(name);
    let Some(parsed) = gantry_sbom::parse_text(&path, name, text) else {
        panic!("no lockfile format reads {name}");
    };
    check_lines(text, &parsed);
}

/// Every component location and warning line of `parsed` is a line of
/// `text` (1-based), or the line just past its end where a parser reports
/// an unexpected end of input. YAML and TOML parsers also break lines at a
/// lone `\r`, so those count too.
pub fn check_lines(text: &str, parsed: &gantry_sbom::formats::Parsed) {
    let lines = text.split(['\n', '\r']).count() + 1;
    for c in &parsed.components {
        assert!(
            c.location.line <= lines,
            "{:?} is past the file's {lines} lines",
            c.location
        );
    }
    for w in &parsed.warnings {
        if let Some(line) = w.line {
            assert!(line <= lines, "{w:?} is past the file's {lines} lines");
        }
    }
}

/// A fresh, empty scratch folder for one input, under a process-wide
/// temporary root (in memory where `/dev/shm` exists), removed on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let root = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let path = root.join(format!(
            "gantry-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("scratch folder");
        Scratch { path }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
