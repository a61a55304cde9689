//! Merkle tree math (RFC 9162 section 2.1): tree hashes, inclusion paths,
//! consistency proofs, and subtree proofs (draft-ietf-plants-merkle-tree-certs,
//! "Subtrees"), computed from the hashes of complete subtrees.
//!
//! Complete subtrees are stored in post-order, the layout of Go's sumdb
//! `tlog`: appending leaf `n` writes its leaf hash and then the hash of
//! every subtree the leaf completes. A proof then reads O(log n) stored
//! hashes; nothing is recomputed from the leaves.

use crate::LedgerError;
use crate::hash::{Hash, empty_root, node_hash};

/// Where complete-subtree hashes come from.
pub trait NodeSource {
    /// The hash of the complete subtree at `level` (covering `2^level`
    /// leaves) with index `index` on that level.
    fn node(&self, level: u32, index: u64) -> Result<Hash, LedgerError>;
}

/// How many hashes are stored for a tree of `n` leaves: `2n - popcount(n)`.
pub fn stored_count(n: u64) -> u64 {
    2 * n - u64::from(n.count_ones())
}

/// The position, in post-order storage, of the complete subtree `(level,
/// index)`: it is written right after the leaf that completes it.
pub fn stored_index(level: u32, index: u64) -> u64 {
    let last_leaf = ((index + 1) << level) - 1;
    stored_count(last_leaf) + u64::from(level)
}

/// The hashes to append when leaf `n` (0-based) with hash `leaf` joins a
/// tree whose earlier stored hashes `source` reads.
pub fn hashes_for_append<S: NodeSource>(
    source: &S,
    n: u64,
    leaf: Hash,
) -> Result<Vec<Hash>, LedgerError> {
    let mut out = vec![leaf];
    let mut hash = leaf;
    let mut index = n;
    let mut level = 0;
    while index & 1 == 1 {
        let left = source.node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        out.push(hash);
        index >>= 1;
        level += 1;
    }
    Ok(out)
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])`.
pub fn subtree_root<S: NodeSource>(source: &S, lo: u64, hi: u64) -> Result<Hash, LedgerError> {
    let size = hi.saturating_sub(lo);
    if size == 0 {
        return Ok(empty_root());
    }
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        let level = size.trailing_zeros();
        return source.node(level, lo >> level);
    }
    let k = split(size);
    let left = subtree_root(source, lo, lo + k)?;
    let right = subtree_root(source, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the first `n` leaves.
pub fn root<S: NodeSource>(source: &S, n: u64) -> Result<Hash, LedgerError> {
    subtree_root(source, 0, n)
}

/// `PATH(m, D[lo:hi])` with `m` relative to `lo`.
fn path<S: NodeSource>(
    source: &S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), LedgerError> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(source, m, lo, lo + k, out)?;
        out.push(subtree_root(source, lo + k, hi)?);
    } else {
        path(source, m - k, lo + k, hi, out)?;
        out.push(subtree_root(source, lo, lo + k)?);
    }
    Ok(())
}

/// The inclusion proof of leaf `index` in the tree of the first `size`
/// leaves (RFC 9162 2.1.3.1), lowest level first.
pub fn inclusion_proof<S: NodeSource>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if index >= size {
        return Err(LedgerError::Proof(format!(
            "leaf {index} is not in a tree of size {size}"
        )));
    }
    let mut out = Vec::new();
    path(source, index, 0, size, &mut out)?;
    Ok(out)
}

fn subproof<S: NodeSource>(
    source: &S,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), LedgerError> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(subtree_root(source, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(source, m, lo, lo + k, complete, out)?;
        out.push(subtree_root(source, lo + k, hi)?);
    } else {
        subproof(source, m - k, lo + k, hi, false, out)?;
        out.push(subtree_root(source, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `old` leaves to the tree of
/// `new` leaves (RFC 9162 2.1.4.1). Empty when the sizes are equal.
pub fn consistency_proof<S: NodeSource>(
    source: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if old > new {
        return Err(LedgerError::Proof(format!(
            "size {old} is larger than {new}"
        )));
    }
    if old == 0 {
        return Err(LedgerError::Proof(
            "a consistency proof from the empty tree proves nothing".into(),
        ));
    }
    let mut out = Vec::new();
    if old < new {
        subproof(source, old, 0, new, true, &mut out)?;
    }
    Ok(out)
}

/// Whether `[start, end)` is a subtree: `start <= end` and `start` a
/// multiple of `BIT_CEIL(end - start)`.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start > end {
        return false;
    }
    match (end - start).max(1).checked_next_power_of_two() {
        Some(ceil) => start.is_multiple_of(ceil),
        None => false,
    }
}

fn subtree_subproof<S: NodeSource>(
    source: &S,
    start: u64,
    end: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), LedgerError> {
    let n = hi - lo;
    if start == 0 && end == n {
        if !complete {
            out.push(subtree_root(source, lo, hi)?);
        }
        return Ok(());
    }
    if n < 2 {
        return Err(LedgerError::Proof(format!(
            "[{start}, {end}) is not inside a tree of size {n}"
        )));
    }
    let k = split(n);
    if end <= k {
        subtree_subproof(source, start, end, lo, lo + k, complete, out)?;
        out.push(subtree_root(source, lo + k, hi)?);
    } else if k <= start {
        subtree_subproof(source, start - k, end - k, lo + k, hi, complete, out)?;
        out.push(subtree_root(source, lo, lo + k)?);
    } else {
        subtree_subproof(source, 0, end - k, lo + k, hi, false, out)?;
        out.push(subtree_root(source, lo, lo + k)?);
    }
    Ok(())
}

/// The proof that subtree `[start, end)` is consistent with the tree of
/// the first `size` leaves.
pub fn subtree_consistency_proof<S: NodeSource>(
    source: &S,
    start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if !is_valid_subtree(start, end) || end > size {
        return Err(LedgerError::Proof(format!(
            "[{start}, {end}) is not a subtree of a tree of size {size}"
        )));
    }
    let mut out = Vec::new();
    if start < end {
        subtree_subproof(source, start, end, 0, size, true, &mut out)?;
    }
    Ok(out)
}

/// The inclusion proof of leaf `index` in subtree `[start, end)`.
pub fn subtree_inclusion_proof<S: NodeSource>(
    source: &S,
    index: u64,
    start: u64,
    end: u64,
) -> Result<Vec<Hash>, LedgerError> {
    if !is_valid_subtree(start, end) || index < start || index >= end {
        return Err(LedgerError::Proof(format!(
            "leaf {index} is not in subtree [{start}, {end})"
        )));
    }
    let mut out = Vec::new();
    path(source, index - start, start, end, &mut out)?;
    Ok(out)
}

/// A tree held in memory (tests, benchmarks, export checks).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a leaf by its leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        if let Ok(hashes) = hashes_for_append(self, self.size, leaf) {
            self.stored.extend(hashes);
            self.size += 1;
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self) -> Hash {
        root(self, self.size).unwrap_or_else(|_| empty_root())
    }

    /// The stored hashes, post-order.
    pub fn stored(&self) -> &[Hash] {
        &self.stored
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, LedgerError> {
        let i = stored_index(level, index);
        usize::try_from(i)
            .ok()
            .and_then(|i| self.stored.get(i))
            .copied()
            .ok_or_else(|| {
                LedgerError::Corrupt(format!("no stored hash for node ({level}, {index})"))
            })
    }
}
