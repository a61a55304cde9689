//! `cargo bench -p gantry-posture [-- CHECKOUT...]`: the time `assess`
//! takes on checkouts of real repositories (nothing is downloaded; with
//! no argument, this repository), against the 1 s target. Each checkout
//! is assessed once to warm the page cache, then the median of five runs
//! is printed with its ratio to the target, the file count and the score.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

const TARGET: Duration = Duration::from_secs(1);
const RUNS: usize = 5;

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if paths.is_empty() {
        paths.push(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    }
    println!(
        "{:<40} {:>7} {:>10} {:>8} {:>6}",
        "checkout", "files", "median", "/target", "score"
    );
    let mut worst: f64 = 0.0;
    for path in &paths {
        let options = gantry_posture::Options::new(path);
        let files = match gantry_posture::Checkout::open(&options) {
            Ok(c) => c.files.len(),
            Err(e) => {
                println!("{}: {e}", path.display());
                continue;
            }
        };
        let first = gantry_posture::assess(&options).expect("assess");
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let _ = std::hint::black_box(gantry_posture::assess(&options));
                start.elapsed()
            })
            .collect();
        times.sort();
        let median = times[RUNS / 2];
        let ratio = median.as_secs_f64() / TARGET.as_secs_f64();
        worst = worst.max(ratio);
        let name = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        println!(
            "{:<40} {:>7} {:>8.1}ms {:>8.3} {:>6}",
            name.display(),
            files,
            median.as_secs_f64() * 1000.0,
            ratio,
            first.score.map_or("?".to_string(), |s| format!("{s:.1}"))
        );
    }
    println!(
        "worst: {worst:.3} of the 1 s target ({})",
        if worst <= 1.0 { "met" } else { "MISSED" }
    );
}
