//! The tamper-evident evidence ledger: an append-only log whose entries are
//! evidence records, hashed into an RFC 6962 / RFC 9162 Merkle tree, with
//! checkpoints signed as C2SP notes and inclusion and consistency proofs
//! that anyone can check offline.
//!
//! One concept per module: [`hash`] (leaf and node hashing), [`tree`]
//! (tree hashes and proofs from stored subtree hashes), [`verify`] (proof
//! verification, trusting nothing), [`note`] (signed notes and keys),
//! [`checkpoint`] (tlog checkpoints), [`record`] (evidence records in
//! canonical JSON), [`committed`] (the commit record that tells acknowledged
//! entries from a torn tail), [`store`] (the files, their durability,
//! verification and the explicit repair),
//! [`proof`] (proof files), [`report`] (each `gantry ledger` operation
//! as one call returning a typed report) and [`export`] (evidence laid out for an
//! auditor).
//!
//! The crate never prints.

pub mod chain;
pub mod checkpoint;
pub mod committed;
mod error;
pub mod export;
pub mod hash;
pub mod note;
pub mod proof;
pub mod record;
pub mod report;
pub mod store;
pub mod tree;
pub mod verify;

pub use checkpoint::Checkpoint;
pub use error::LedgerError;
pub use record::EvidenceRecord;
pub use store::{Ledger, Problem, ProblemKind, RepairReport, Snapshot, VerifyReport};
