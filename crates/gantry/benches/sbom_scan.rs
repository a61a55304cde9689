//! `gantry sbom` against cdxgen and `gantry scan` against cargo-audit, on
//! the same inputs in the same run, as processes (cold start each time),
//! reported as time ratios with the agreement of what they found.
//!
//! Peers: `npm install -g @cyclonedx/cdxgen` and
//! `cargo install cargo-audit --locked`. A missing peer is skipped with a
//! message. Inputs: the lockfile tree built from gantry-sbom's fixtures
//! and this workspace's Cargo.lock (SBOM), and real Cargo.lock files — this
//! workspace's, the monorepo fixture's and those published inside crates
//! in `$CARGO_HOME/registry/src` (scan), or `GANTRY_BENCH_LOCKFILES`
//! (colon-separated paths).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gantry() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gantry"));
    c.env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Median wall time of `runs` runs of a command built by `make`.
fn time(runs: usize, mut make: impl FnMut() -> Command) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let mut cmd = make();
            let start = Instant::now();
            let out = cmd.output().unwrap();
            let t = start.elapsed();
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{:?} failed: {}",
                cmd,
                String::from_utf8_lossy(&out.stderr)
            );
            t
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "node_modules" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// purls without qualifiers or subpath, decoded and lower-cased, so that
/// spelling differences (`%40` vs `@`, case) do not count as disagreement.
fn purl_set(doc: &serde_json::Value) -> BTreeSet<String> {
    fn walk(list: &serde_json::Value, out: &mut BTreeSet<String>) {
        for c in list.as_array().into_iter().flatten() {
            if let Some(p) = c["purl"].as_str() {
                let p = p.split(['?', '#']).next().unwrap_or(p);
                out.insert(p.replace("%40", "@").replace("%2B", "+").to_lowercase());
            }
            walk(&c["components"], out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&doc["components"], &mut out);
    out
}

fn sbom_vs_cdxgen() {
    println!("== gantry sbom vs cdxgen");
    let tree = tempfile::tempdir().unwrap();
    let fixtures = manifest().join("../gantry-sbom/tests/fixtures");
    copy_dir(&fixtures.join("monorepo"), &tree.path().join("monorepo"));
    // Formats cdxgen reads without a build tool (no mvn, gradle here).
    for f in [
        "npm-v1",
        "npm-v2",
        "yarn-v1",
        "yarn-berry",
        "pnpm-v6",
        "pnpm-v9",
        "pipfile",
        "uv",
        "gem",
        "composer",
        "nuget",
        "cargo-v1",
    ] {
        copy_dir(&fixtures.join("formats").join(f), &tree.path().join(f));
    }
    std::fs::create_dir_all(tree.path().join("workspace")).unwrap();
    std::fs::copy(
        manifest().join("../../Cargo.lock"),
        tree.path().join("workspace/Cargo.lock"),
    )
    .unwrap();
    let ours = tree.path().join("gantry.cdx.json");
    let t_gantry = time(5, || {
        let mut c = gantry();
        c.arg("sbom").arg(tree.path()).arg("-o").arg(&ours);
        c
    });
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ours).unwrap()).unwrap();
    let mine = purl_set(&doc);
    println!(
        "gantry sbom: {} components, median {:.1} ms",
        mine.len(),
        t_gantry.as_secs_f64() * 1e3
    );
    if !available("cdxgen", "--version") {
        println!("skipped cdxgen: not installed (npm install -g @cyclonedx/cdxgen)");
        return;
    }
    let theirs_path = tree.path().join("cdxgen.json");
    let t_cdxgen = time(3, || {
        let mut c = Command::new("cdxgen");
        c.args(["-r", "--no-install-deps", "--spec-version", "1.6", "-o"])
            .arg(&theirs_path)
            .arg(tree.path())
            .env("CDXGEN_DEBUG_MODE", "")
            .env("FETCH_LICENSE", "false");
        c
    });
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&theirs_path).unwrap()).unwrap();
    let theirs = purl_set(&doc);
    let both = mine.intersection(&theirs).count();
    println!(
        "cdxgen:      {} components, median {:.1} ms",
        theirs.len(),
        t_cdxgen.as_secs_f64() * 1e3
    );
    println!(
        "ratio: gantry is {:.1}x faster; {both} purls in both, {} only in gantry, {} only in cdxgen",
        t_cdxgen.as_secs_f64() / t_gantry.as_secs_f64(),
        mine.difference(&theirs).count(),
        theirs.difference(&mine).count()
    );
    for p in mine.difference(&theirs) {
        println!("  only gantry: {p}");
    }
    for p in theirs.difference(&mine) {
        println!("  only cdxgen: {p}");
    }
}

fn lockfiles() -> Vec<PathBuf> {
    if let Ok(list) = std::env::var("GANTRY_BENCH_LOCKFILES") {
        return std::env::split_paths(&list).collect();
    }
    let mut out = vec![
        manifest().join("../../Cargo.lock"),
        manifest().join("../gantry-sbom/tests/fixtures/monorepo/Cargo.lock"),
    ];
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(src) = cargo_home.map(|h| h.join("registry/src")) {
        let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(&src)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|index| {
                std::fs::read_dir(index.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .map(|krate| krate.path().join("Cargo.lock"))
            .filter(|p| p.is_file())
            .map(|p| {
                (
                    std::fs::read_to_string(&p).map_or(0, |t| t.matches("[[package]]").count()),
                    p,
                )
            })
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        out.extend(found.into_iter().take(20).map(|(_, p)| p));
    }
    out
}

fn gantry_ids(lock: &Path, home: &Path) -> (BTreeSet<String>, BTreeSet<String>, usize) {
    let out = gantry()
        .env("GANTRY_HOME", home)
        .args(["scan", "--format", "json", "--fail-on", "none"])
        .arg(lock)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |key: &str| -> BTreeSet<String> {
        doc[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["ids"][0].as_str().unwrap_or("").to_string())
            .collect()
    };
    (
        ids("findings"),
        ids("informational"),
        doc["summary"]["components"].as_u64().unwrap_or(0) as usize,
    )
}

fn audit_ids(lock: &Path, db: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = Command::new("cargo")
        .args(["audit", "--no-fetch", "--stale", "--json", "--db"])
        .arg(db)
        .arg("--file")
        .arg(lock)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let vulns = doc["vulnerabilities"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v["advisory"]["id"].as_str().unwrap_or("").to_string())
        .collect();
    let mut warnings = BTreeSet::new();
    if let Some(kinds) = doc["warnings"].as_object() {
        for (kind, list) in kinds {
            if kind == "yanked" {
                continue;
            }
            for w in list.as_array().into_iter().flatten() {
                if let Some(id) = w["advisory"]["id"].as_str() {
                    warnings.insert(id.to_string());
                }
            }
        }
    }
    (vulns, warnings)
}

fn scan_vs_cargo_audit() {
    println!("\n== gantry scan vs cargo-audit");
    let osv = manifest().join("../../../shared/testdata/osv/crates");
    let rustsec = manifest().join("../../../shared/testdata/rustsec-advisory-db");
    if !osv.is_dir() || !rustsec.is_dir() {
        println!("skipped: ../shared/testdata/osv/crates or rustsec-advisory-db is missing");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = gantry()
        .env("GANTRY_HOME", home.path())
        .args(["db", "import"])
        .arg(&osv)
        .output()
        .unwrap();
    assert!(out.status.success());
    println!(
        "import of the RustSec OSV records: {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let locks = lockfiles();
    let have_audit = available("cargo", "audit")
        || Command::new("cargo")
            .args(["audit", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
    let db_copy = tempfile::tempdir().unwrap();
    if have_audit {
        copy_dir(&rustsec, db_copy.path());
    } else {
        println!("skipped cargo-audit: not installed (cargo install cargo-audit --locked)");
    }
    let (mut t_g, mut t_a) = (Duration::ZERO, Duration::ZERO);
    let mut components = 0;
    let mut disagreements = 0;
    for lock in &locks {
        let tg = time(3, || {
            let mut c = gantry();
            c.env("GANTRY_HOME", home.path())
                .args(["scan", "--format", "json", "--fail-on", "none"])
                .arg(lock);
            c
        });
        t_g += tg;
        let (vulns, info, n) = gantry_ids(lock, home.path());
        components += n;
        let name = lock.display().to_string();
        if !have_audit {
            println!(
                "{name}: {n} packages, gantry {:.1} ms, {} vulnerabilities",
                tg.as_secs_f64() * 1e3,
                vulns.len()
            );
            continue;
        }
        let ta = time(3, || {
            let mut c = Command::new("cargo");
            c.args(["audit", "--no-fetch", "--stale", "--json", "--db"])
                .arg(db_copy.path())
                .arg("--file")
                .arg(lock);
            c
        });
        t_a += ta;
        let (a_vulns, a_info) = audit_ids(lock, db_copy.path());
        let same = vulns == a_vulns && info == a_info;
        if !same {
            disagreements += 1;
        }
        println!(
            "{name}: {n} packages; gantry {:.1} ms, cargo-audit {:.1} ms ({:.1}x); vulnerabilities {} / {}, informational {} / {}{}",
            tg.as_secs_f64() * 1e3,
            ta.as_secs_f64() * 1e3,
            ta.as_secs_f64() / tg.as_secs_f64(),
            vulns.len(),
            a_vulns.len(),
            info.len(),
            a_info.len(),
            if same { ", identical ids" } else { "" }
        );
        if !same {
            for id in vulns.symmetric_difference(&a_vulns) {
                println!(
                    "  vulnerability differs: {id} ({})",
                    if vulns.contains(id) {
                        "only gantry"
                    } else {
                        "only cargo-audit"
                    }
                );
            }
            for id in info.symmetric_difference(&a_info) {
                println!(
                    "  informational differs: {id} ({})",
                    if info.contains(id) {
                        "only gantry"
                    } else {
                        "only cargo-audit"
                    }
                );
            }
        }
    }
    println!(
        "gantry: {} lockfiles, {components} packages in {:.0} ms ({:.0} packages/s including process start)",
        locks.len(),
        t_g.as_secs_f64() * 1e3,
        components as f64 / t_g.as_secs_f64()
    );
    if have_audit {
        println!(
            "ratio: gantry scan is {:.1}x faster than cargo-audit; {} of {} lockfiles with differing ids",
            t_a.as_secs_f64() / t_g.as_secs_f64(),
            disagreements,
            locks.len()
        );
    }
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less args; measure
    // only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    sbom_vs_cdxgen();
    scan_vs_cargo_audit();
}
