//! transparency-dev/merkle's proof vectors (`../shared/testdata/merkle/`):
//! every vector is accepted when `wantErr` is false and rejected when it is
//! true, and the eight known roots match.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gantry_ledger::hash::{leaf_hash, to_hex};
use gantry_ledger::tree::MemoryTree;
use gantry_ledger::verify::{
    verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use serde_json::Value;

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/merkle");
    if dir.is_dir() {
        return Some(dir);
    }
    let reason = format!("{} is missing", dir.display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason}");
    }
    eprintln!("skipping: {reason}");
    None
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn bytes(v: &Value, key: &str) -> Vec<u8> {
    STANDARD.decode(v[key].as_str().unwrap_or("")).unwrap()
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v["proof"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| STANDARD.decode(h.as_str().unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a u64"))
}

/// Runs every vector of one folder; returns how many ran.
fn run(folder: &str, check: impl Fn(&Value) -> Result<(), String>) -> usize {
    let Some(dir) = data_dir() else { return 0 };
    let mut all = Vec::new();
    files(&dir.join(folder), &mut all);
    assert!(!all.is_empty(), "no vectors in {folder}");
    let mut wrong = Vec::new();
    for path in &all {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let got = check(&v);
        if got.is_err() != want_err {
            wrong.push(format!(
                "{}: wantErr {want_err}, got {got:?}",
                path.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} vectors wrong:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
    all.len()
}

#[test]
fn inclusion_vectors() {
    let n = run("inclusion", |v| {
        verify_inclusion(
            num(v, "leafIdx"),
            num(v, "treeSize"),
            &bytes(v, "leafHash"),
            &proof(v),
            &bytes(v, "root"),
        )
        .map_err(|e| e.to_string())
    });
    eprintln!("{n} inclusion vectors");
}

#[test]
fn consistency_vectors() {
    let n = run("consistency", |v| {
        verify_consistency(
            num(v, "size1"),
            num(v, "size2"),
            &proof(v),
            &bytes(v, "root1"),
            &bytes(v, "root2"),
        )
        .map_err(|e| e.to_string())
    });
    eprintln!("{n} consistency vectors");
}

#[test]
fn subtree_inclusion_vectors() {
    let n = run("subtreeinclusion", |v| {
        verify_subtree_inclusion(
            num(v, "leafIdx"),
            num(v, "start"),
            num(v, "end"),
            &bytes(v, "leafHash"),
            &proof(v),
            &bytes(v, "root"),
        )
        .map_err(|e| e.to_string())
    });
    eprintln!("{n} subtree inclusion vectors");
}

#[test]
fn subtree_consistency_vectors() {
    let n = run("subtreeconsistency", |v| {
        verify_subtree_consistency(
            num(v, "start"),
            num(v, "end"),
            num(v, "size"),
            &proof(v),
            &bytes(v, "root1"),
            &bytes(v, "root2"),
        )
        .map_err(|e| e.to_string())
    });
    eprintln!("{n} subtree consistency vectors");
}

/// SOURCE.md: the roots of the trees of the first 1..8 of these leaves.
#[test]
fn known_roots() {
    let leaves = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let mut tree = MemoryTree::new();
    for (leaf, root) in leaves.iter().zip(roots) {
        let data: Vec<u8> = (0..leaf.len() / 2)
            .map(|i| u8::from_str_radix(&leaf[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        tree.push(leaf_hash(&data));
        assert_eq!(to_hex(&tree.root()), root, "size {}", tree.size());
    }
}
