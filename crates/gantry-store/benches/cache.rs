//! Cache save and restore of a generated directory against the `tar | zstd`
//! pipeline, on the same machine in the same run. Target: within 1.5 times
//! the pipeline's time.
//!
//! Run with `cargo bench -p gantry-store --bench cache`. The tree is 200 MB
//! by default; `GANTRY_BENCH_CACHE_MB=50` makes a smaller one for a quick
//! look, `GANTRY_BENCH_ROUNDS` sets the rounds (default 3, the median is
//! reported). The peer needs `tar` and `zstd` on `PATH`; without them only
//! gantry's times are printed, with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use gantry_store::{Store, StoreOptions};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

const WORDS: &[&str] = &[
    "fn", "let", "mut", "impl", "struct", "pub", "return", "self", "match", "Some", "None",
    "Result", "Ok", "Err", "async", "await", "const", "import", "from", "def", "class", "if",
    "else", "for", "while", "in", "value", "config", "request", "response", "handler", "error",
    "string", "number", "index", "buffer", "length", "token", "cache", "build", "test",
];

/// Source-like text: compresses well.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let indent = rng.below(4) as usize * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        for _ in 0..(3 + rng.below(8)) {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(if rng.below(6) == 0 { b'(' } else { b' ' });
        }
        out.extend_from_slice(b";\n");
    }
    out.truncate(len);
    out
}

/// Object-file-like bytes: runs of noise and repeated structure.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut i = 0;
    while i < len {
        let run = (64 + rng.below(960) as usize).min(len - i);
        match rng.below(3) {
            0 => rng.fill(&mut out[i..i + run]),
            1 => {
                let b = rng.below(256) as u8;
                out[i..i + run].fill(b);
            }
            _ => {
                for (k, byte) in out[i..i + run].iter_mut().enumerate() {
                    *byte = (k % 7) as u8 * 13;
                }
            }
        }
        i += run;
    }
    out
}

/// Already compressed data (archives, images): does not compress.
fn noise(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill(&mut out);
    out
}

/// Writes a tree of about `total` bytes: many small source files, medium
/// object files, some compressed blobs and a few large files.
fn generate(root: &Path, total: u64) -> (u64, u64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 0u64;
    let mut files = 0u64;
    let mut n = 0u64;
    while written < total {
        let dir = root.join(format!("pkg{:03}/src/mod{:02}", n / 400, (n / 20) % 20));
        fs::create_dir_all(&dir).unwrap();
        let kind = rng.below(100);
        let (name, data) = if kind < 55 {
            let len = 500 + rng.below(20_000) as usize;
            (format!("file{n}.rs"), text(&mut rng, len))
        } else if kind < 85 {
            let len = 20_000 + rng.below(300_000) as usize;
            (format!("file{n}.o"), binary(&mut rng, len))
        } else if kind < 99 {
            let len = 10_000 + rng.below(500_000) as usize;
            (format!("file{n}.gz"), noise(&mut rng, len))
        } else {
            let len = 4_000_000 + rng.below(8_000_000) as usize;
            (format!("file{n}.rlib"), binary(&mut rng, len))
        };
        written += data.len() as u64;
        fs::write(dir.join(name), data).unwrap();
        files += 1;
        n += 1;
    }
    (written, files)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn tool_missing(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
}

fn sh(script: &str) -> f64 {
    let start = Instant::now();
    let status = Command::new("bash")
        .args(["-c", &format!("set -euo pipefail; {script}")])
        .status()
        .unwrap();
    let t = start.elapsed().as_secs_f64();
    assert!(status.success(), "`{script}` failed");
    t
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

fn main() {
    let mb: u64 = std::env::var("GANTRY_BENCH_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rounds: usize = std::env::var("GANTRY_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    let data = work.join("data");
    fs::create_dir_all(&data).unwrap();
    let start = Instant::now();
    let (bytes, files) = generate(&data, mb * 1_000_000);
    println!(
        "tree: {files} files, {:.1} MB (generated in {:.1} s)",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );

    let peer = if tool_missing("tar") {
        Err("tar is not installed")
    } else if tool_missing("zstd") {
        Err("zstd is not installed (apt-get install zstd)")
    } else {
        Ok(())
    };
    if let Err(reason) = peer {
        println!("skipping the tar | zstd baseline: {reason}");
    }

    let home = scratch.path().join("home");
    let store = Store::open_with(
        &home,
        StoreOptions {
            cache_limit_bytes: u64::MAX,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let archive = scratch.path().join("baseline.tar.zst");
    let mut ours_save = Vec::new();
    let mut ours_restore = Vec::new();
    let mut base_save = Vec::new();
    let mut base_restore = Vec::new();
    let mut stored = 0;
    for round in 0..rounds {
        if peer.is_ok() {
            base_save.push(sh(&format!(
                "tar -cf - -C '{}' data | zstd -3 -T0 -q > '{}'",
                work.display(),
                archive.display()
            )));
        }
        let t = Instant::now();
        let saved = store
            .save_cache(
                &format!("bench-{round}"),
                "v1",
                &work,
                &["data".to_string()],
            )
            .unwrap();
        ours_save.push(t.elapsed().as_secs_f64());
        stored = saved.stored_size;

        let dest: PathBuf = scratch.path().join(format!("restore-base-{round}"));
        if peer.is_ok() {
            fs::create_dir_all(&dest).unwrap();
            base_restore.push(sh(&format!(
                "zstd -d -c -q '{}' | tar -xf - -C '{}'",
                archive.display(),
                dest.display()
            )));
            fs::remove_dir_all(&dest).unwrap();
        }
        let dest = scratch.path().join(format!("restore-ours-{round}"));
        let t = Instant::now();
        let hit = store
            .restore_cache(&[format!("bench-{round}")], "v1", &dest)
            .unwrap()
            .unwrap();
        ours_restore.push(t.elapsed().as_secs_f64());
        assert!(hit.exact);
        if round == 0 {
            assert_eq!(dir_size(&dest.join("data")), bytes, "restored tree differs");
        }
        fs::remove_dir_all(&dest).unwrap();
    }

    let (s, r) = (median(ours_save), median(ours_restore));
    println!(
        "gantry:    save {s:.3} s ({:.0} MB/s), restore {r:.3} s ({:.0} MB/s), stored {:.1} MB",
        bytes as f64 / 1e6 / s,
        bytes as f64 / 1e6 / r,
        stored as f64 / 1e6
    );
    if peer.is_ok() {
        let (bs, br) = (median(base_save), median(base_restore));
        let archive_size = fs::metadata(&archive).map(|m| m.len()).unwrap_or(0);
        println!(
            "tar|zstd:  save {bs:.3} s ({:.0} MB/s), restore {br:.3} s ({:.0} MB/s), stored {:.1} MB",
            bytes as f64 / 1e6 / bs,
            bytes as f64 / 1e6 / br,
            archive_size as f64 / 1e6
        );
        println!(
            "ratio (gantry / tar|zstd, median of {rounds}): save {:.2}x, restore {:.2}x (target: at most 1.50x)",
            s / bs,
            r / br
        );
    }
}
