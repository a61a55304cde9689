//! Proof verification as RFC 9162 sections 2.1.3.2 and 2.1.4.2 give it,
//! and subtree proofs as draft-ietf-plants-merkle-tree-certs gives it.
//! These functions trust nothing: sizes, indexes, hashes and proofs may be
//! hostile, and every failure is an error that says why.

use crate::hash::{Hash, empty_root, node_hash};
use crate::tree::is_valid_subtree;

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("a hash has {0} bytes, not 32")]
    HashLength(usize),
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the computed root does not match the expected root")]
    RootMismatch,
    #[error("the computed old root does not match the old root")]
    OldRootMismatch,
    #[error("the old size {old} is larger than the new size {new}")]
    SizesReversed { old: u64, new: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyOldTree,
    #[error("equal sizes need an empty proof and equal roots")]
    EqualSizes,
    #[error("the proof is empty")]
    EmptyProof,
    #[error("[{start}, {end}) is not a valid subtree")]
    InvalidSubtree { start: u64, end: u64 },
}

fn to_hash(bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::HashLength(bytes.len()))
}

fn to_hashes(proof: &[Vec<u8>]) -> Result<Vec<Hash>, ProofError> {
    proof.iter().map(|p| to_hash(p)).collect()
}

/// The root an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1-5,
/// without the final comparison).
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[Vec<u8>],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let leaf = to_hash(leaf)?;
    let proof = to_hashes(proof)?;
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = leaf;
    for p in &proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Verifies that `leaf` (a leaf hash) is entry `index` of the tree of
/// `size` entries with root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    if computed.as_slice() == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `old` entries with root `old_root` is a prefix
/// of the tree of `new` entries with root `new_root` (RFC 9162 2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Vec<u8>],
    old_root: &[u8],
    new_root: &[u8],
) -> Result<(), ProofError> {
    if new < old {
        return Err(ProofError::SizesReversed { old, new });
    }
    if old == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::EqualSizes)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof);
    }
    let old_root_hash = to_hash(old_root)?;
    let mut path = to_hashes(proof)?;
    if old.is_power_of_two() {
        path.insert(0, old_root_hash);
    }
    let mut fn_ = old - 1;
    let mut sn = new - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != old_root_hash {
        return Err(ProofError::OldRootMismatch);
    }
    if sr.as_slice() != new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The subtree hash an inclusion proof for entry `index` of subtree
/// `[start, end)` leads to.
pub fn subtree_root_from_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &[u8],
    proof: &[Vec<u8>],
) -> Result<Hash, ProofError> {
    if !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(ProofError::IndexBeyondSize { index, size: end });
    }
    root_from_inclusion(index - start, end - start, leaf, proof)
}

/// Verifies an entry's inclusion in subtree `[start, end)` with hash `root`.
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &[u8],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    let computed = subtree_root_from_inclusion(index, start, end, leaf, proof)?;
    if computed.as_slice() == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// `SHA-256(0x01 || left || right)` over byte strings of any length.
fn hash_pair(left: &[u8], right: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().to_vec()
}

/// Verifies that subtree `[start, end)` with hash `node` is part of the
/// tree of `size` entries with root `root`.
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Vec<u8>],
    node: &[u8],
    root: &[u8],
) -> Result<(), ProofError> {
    if !is_valid_subtree(start, end) || end > size {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if start == end {
        return if proof.is_empty() && node == empty_root().as_slice() {
            Ok(())
        } else {
            Err(ProofError::EqualSizes)
        };
    }
    let mut proof = to_hashes(proof)?.into_iter();
    let mut fn_ = start;
    let mut sn = end - 1;
    let mut tn = size - 1;
    if sn == tn {
        while fn_ != sn {
            fn_ >>= 1;
            sn >>= 1;
            tn >>= 1;
        }
    } else {
        while fn_ != sn && sn & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
            tn >>= 1;
        }
    }
    // The node hash is used as given: only its bytes are compared.
    let (mut fr, mut sr): (Vec<u8>, Vec<u8>) = if fn_ == sn {
        (node.to_vec(), node.to_vec())
    } else {
        let first = proof.next().ok_or(ProofError::EmptyProof)?;
        (first.to_vec(), first.to_vec())
    };
    for c in proof {
        if tn == 0 {
            return Err(ProofError::WrongLength);
        }
        if sn & 1 == 1 || sn == tn {
            if fn_ < sn {
                fr = hash_pair(&c, &fr);
            }
            sr = hash_pair(&c, &sr);
            while sn & 1 == 0 && sn != 0 {
                fn_ >>= 1;
                sn >>= 1;
                tn >>= 1;
            }
        } else {
            sr = hash_pair(&sr, &c);
        }
        fn_ >>= 1;
        sn >>= 1;
        tn >>= 1;
    }
    if tn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr.as_slice() != node {
        return Err(ProofError::OldRootMismatch);
    }
    if sr.as_slice() != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
