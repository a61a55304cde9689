//! Random trees: every proof the tree makes verifies against a naive
//! RFC 9162 reference, and every single-bit change of an entry, a proof
//! hash or a root makes verification fail.

use gantry_ledger::hash::{Hash, leaf_hash, node_hash};
use gantry_ledger::tree::{self, MemoryTree};
use gantry_ledger::verify::{
    verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use proptest::prelude::*;

/// MTH straight from RFC 9162 2.1.1, over the entries.
fn reference_root(entries: &[Vec<u8>]) -> Hash {
    match entries.len() {
        0 => gantry_ledger::hash::empty_root(),
        1 => leaf_hash(&entries[0]),
        n => {
            let k = 1 << (63 - (n as u64 - 1).leading_zeros());
            node_hash(
                &reference_root(&entries[..k]),
                &reference_root(&entries[k..]),
            )
        }
    }
}

fn tree_of(entries: &[Vec<u8>]) -> MemoryTree {
    let mut t = MemoryTree::new();
    for e in entries {
        t.push(leaf_hash(e));
    }
    t
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let i = bit / 8 % b.len().max(1);
    if !b.is_empty() {
        b[i] ^= 1 << (bit % 8);
    }
    b
}

fn vecs(p: &[Hash]) -> Vec<Vec<u8>> {
    p.iter().map(|h| h.to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_verify_and_mutations_fail(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 1..70),
        pick in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        // Distinct entries, so that no other index can hold the same leaf.
        let entries: Vec<Vec<u8>> = entries
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                e.extend_from_slice(&(i as u32).to_be_bytes());
                e
            })
            .collect();
        let t = tree_of(&entries);
        let n = entries.len() as u64;
        prop_assert_eq!(t.root(), reference_root(&entries));
        let m = pick.index(entries.len()) as u64;
        let proof = tree::inclusion_proof(&t, m, n).unwrap();
        let leaf = leaf_hash(&entries[m as usize]);
        let root = t.root();
        prop_assert!(verify_inclusion(m, n, &leaf, &vecs(&proof), &root).is_ok());
        // A changed entry.
        let changed = flip(&entries[m as usize], bit);
        if changed != entries[m as usize] {
            prop_assert!(verify_inclusion(m, n, &leaf_hash(&changed), &vecs(&proof), &root).is_err());
        }
        // A changed proof hash, root or leaf hash.
        for (i, _) in proof.iter().enumerate() {
            let mut p = vecs(&proof);
            p[i] = flip(&p[i], bit);
            prop_assert!(verify_inclusion(m, n, &leaf, &p, &root).is_err());
        }
        prop_assert!(verify_inclusion(m, n, &leaf, &vecs(&proof), &flip(&root, bit)).is_err());
        prop_assert!(verify_inclusion(m, n, &flip(&leaf, bit), &vecs(&proof), &root).is_err());
        // Another index or size.
        if n > 1 {
            prop_assert!(verify_inclusion((m + 1) % n, n, &leaf, &vecs(&proof), &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_mutations_fail(
        n in 1u64..90,
        old_pick in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let entries: Vec<Vec<u8>> = (0..n).map(|i| i.to_be_bytes().to_vec()).collect();
        let t = tree_of(&entries);
        let old = old_pick.index(n as usize) as u64 + 1;
        let old_root = reference_root(&entries[..old as usize]);
        let proof = tree::consistency_proof(&t, old, n).unwrap();
        prop_assert!(verify_consistency(old, n, &vecs(&proof), &old_root, &t.root()).is_ok());
        for (i, _) in proof.iter().enumerate() {
            let mut p = vecs(&proof);
            p[i] = flip(&p[i], bit);
            prop_assert!(verify_consistency(old, n, &p, &old_root, &t.root()).is_err());
        }
        if old < n {
            prop_assert!(verify_consistency(old, n, &vecs(&proof), &flip(&old_root, bit), &t.root()).is_err());
            prop_assert!(verify_consistency(old, n, &vecs(&proof), &old_root, &flip(&t.root(), bit)).is_err());
        }
    }

    #[test]
    fn subtree_proofs_verify(n in 1u64..70, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let entries: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 3]).collect();
        let t = tree_of(&entries);
        // A valid subtree: an aligned power-of-two block, or a prefix.
        let end = b.index(n as usize) as u64 + 1;
        let size = end.next_power_of_two();
        let start_block = a.index((n / size.max(1)).max(1) as usize) as u64 * size;
        let (start, end) = if start_block + size <= n { (start_block, start_block + size) } else { (0, end) };
        prop_assert!(tree::is_valid_subtree(start, end));
        let node = reference_root(&entries[start as usize..end as usize]);
        let proof = tree::subtree_consistency_proof(&t, start, end, n).unwrap();
        prop_assert!(verify_subtree_consistency(start, end, n, &vecs(&proof), &node, &t.root()).is_ok());
        if let Some(first) = proof.first() {
            let mut p = vecs(&proof);
            p[0] = flip(first, 3);
            prop_assert!(verify_subtree_consistency(start, end, n, &p, &node, &t.root()).is_err());
        }
        let idx = start + (end - start) / 2;
        let incl = tree::subtree_inclusion_proof(&t, idx, start, end).unwrap();
        prop_assert!(verify_subtree_inclusion(idx, start, end, &leaf_hash(&entries[idx as usize]), &vecs(&incl), &node).is_ok());
    }
}
