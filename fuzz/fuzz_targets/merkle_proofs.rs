//! Merkle proof verification (RFC 9162 inclusion and consistency, subtree
//! proofs) on hostile numbers and hashes. The first byte picks the mode:
//!
//! - even: the input is raw sizes, indexes and proof hashes; every
//!   verifier must return an error or success, never panic;
//! - odd: a real tree of up to 64 leaves is built and its proofs are
//!   generated; they must verify, and any change the rest of the input
//!   makes to a proof or root must be rejected.

#![no_main]

use gantry_ledger::hash::{Hash, leaf_hash};
use gantry_ledger::tree::{self, MemoryTree};
use gantry_ledger::verify;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        raw(rest);
    } else {
        real(rest);
    }
});

fn u64_at(data: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, slot) in b.iter_mut().enumerate() {
        *slot = data.get(i * 8 + k).copied().unwrap_or(0);
    }
    // Mostly small numbers, which are where the interesting edges are.
    let v = u64::from_le_bytes(b);
    if v & 1 == 0 { v >> 56 } else { v >> 1 }
}

fn raw(data: &[u8]) {
    let (a, b, c) = (u64_at(data, 0), u64_at(data, 1), u64_at(data, 2));
    let rest = data.get(24..).unwrap_or_default();
    let mut chunks: Vec<Vec<u8>> = rest.chunks(32).map(<[u8]>::to_vec).collect();
    let root = chunks.pop().unwrap_or_default();
    let leaf = chunks.pop().unwrap_or_default();
    chunks.truncate(70);
    let _ = verify::root_from_inclusion(a, b, &leaf, &chunks);
    let _ = verify::verify_inclusion(a, b, &leaf, &chunks, &root);
    let _ = verify::verify_consistency(a, b, &chunks, &leaf, &root);
    let _ = verify::subtree_root_from_inclusion(a, b, c, &leaf, &chunks);
    let _ = verify::verify_subtree_inclusion(a, b, c, &leaf, &chunks, &root);
    let _ = verify::verify_subtree_consistency(a, b, c, &chunks, &leaf, &root);
    let _ = tree::is_valid_subtree(a, b);
}

fn real(data: &[u8]) {
    let byte = |i: usize| u64::from(data.get(i).copied().unwrap_or(0));
    let n = 1 + byte(0) % 64;
    let index = byte(1) % n;
    let old = 1 + byte(2) % n;
    let mut mutations = data.get(3..).unwrap_or_default().chunks_exact(2);
    let mut tree = MemoryTree::new();
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    for l in &leaves {
        tree.push(*l);
    }
    let root = tree.root();
    let old_root = tree::root(&tree, old).expect("root of a prefix");

    let inclusion: Vec<Vec<u8>> = tree::inclusion_proof(&tree, index, n)
        .expect("inclusion proof")
        .iter()
        .map(|h| h.to_vec())
        .collect();
    let leaf = leaves[index as usize];
    verify::verify_inclusion(index, n, &leaf, &inclusion, &root).expect("a real inclusion proof");
    let consistency: Vec<Vec<u8>> = tree::consistency_proof(&tree, old, n)
        .expect("consistency proof")
        .iter()
        .map(|h| h.to_vec())
        .collect();
    verify::verify_consistency(old, n, &consistency, &old_root, &root)
        .expect("a real consistency proof");

    // One change, chosen by the input, to the inclusion proof, the
    // consistency proof or a root: it must be rejected.
    let Some(m) = mutations.next() else {
        return;
    };
    let (at, xor) = (usize::from(m[0]), m[1] | 1);
    let mut inclusion = inclusion;
    let mut consistency = consistency;
    let mut root2 = root;
    let mut old_root2 = old_root;
    let targets: [&mut [u8]; 2] = [&mut root2, &mut old_root2];
    let mut flat: Vec<&mut u8> = inclusion
        .iter_mut()
        .chain(consistency.iter_mut())
        .flat_map(|h| h.iter_mut())
        .chain(targets.into_iter().flat_map(|t| t.iter_mut()))
        .collect();
    let slot = at * flat.len() / 256;
    *flat[slot] ^= xor;
    let inclusion_ok = verify::verify_inclusion(index, n, &leaf, &inclusion, &root2).is_ok();
    let consistency_ok =
        verify::verify_consistency(old, n, &consistency, &old_root2, &root2).is_ok();
    let changed_inclusion = root2 != root || inclusion_differs(&tree, index, n, &inclusion);
    let changed_consistency =
        root2 != root || old_root2 != old_root || consistency_differs(&tree, old, n, &consistency);
    // A consistency proof between equal sizes is empty and only compares
    // the roots; a change to the old root alone is then a different tree.
    assert!(
        !(changed_inclusion && inclusion_ok),
        "a changed inclusion proof verified: n={n} index={index} slot={slot}"
    );
    assert!(
        !(changed_consistency && consistency_ok),
        "a changed consistency proof verified: old={old} n={n} slot={slot}"
    );
}

fn inclusion_differs(tree: &MemoryTree, index: u64, n: u64, proof: &[Vec<u8>]) -> bool {
    let real = tree::inclusion_proof(tree, index, n).expect("inclusion proof");
    real.iter().map(|h| h.to_vec()).collect::<Vec<_>>() != proof
}

fn consistency_differs(tree: &MemoryTree, old: u64, n: u64, proof: &[Vec<u8>]) -> bool {
    let real = tree::consistency_proof(tree, old, n).expect("consistency proof");
    real.iter().map(|h| h.to_vec()).collect::<Vec<_>>() != proof
}
