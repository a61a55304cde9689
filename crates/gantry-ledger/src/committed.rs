//! The commit record: how many entries an append acknowledged, how many
//! bytes of `entries` they take and the tree root over them.
//!
//! `committed` is a preallocated file of two fixed-size slots, each in its
//! own 512-byte sector:
//!
//! ```text
//! bytes   0..16   "gantry-commit v2"
//! bytes  16..24   sequence number, u64 big-endian (slot = sequence % 2)
//! bytes  24..32   entries acknowledged
//! bytes  32..40   bytes of `entries` they take
//! bytes  40..72   the tree root over them
//! bytes  72..104  SHA-256 of bytes 0..72
//! bytes 104..512  zero
//! ```
//!
//! An append overwrites the slot of the older record with the next
//! sequence number in place and syncs it (one `fdatasync`, no rename); the
//! record that counts is the valid one with the highest sequence number.
//! A crash while a slot is written leaves the other slot intact, so the
//! log never loses its last acknowledged extent. The two slots hold
//! consecutive sequence numbers; only a fresh ledger (sequence 0) has an
//! empty (all-zero) slot.
//!
//! The text record of format v1 (replaced atomically by each append, see
//! [`Committed::to_text`]) is still read; the first append converts it.
//! Reading is strict: any changed byte is either unreadable or disagrees
//! with the entries it describes.

use sha2::{Digest as _, Sha256};

use crate::hash::{Hash, to_hex};

const HEADER: &str = "gantry-ledger committed v1";

/// Bytes of one slot.
pub const SLOT_BYTES: usize = 512;
/// Bytes of the commit record file.
pub const FILE_BYTES: usize = 2 * SLOT_BYTES;
const MAGIC: &[u8; 16] = b"gantry-commit v2";
/// Bytes the checksum covers.
const BODY: usize = 72;
/// Bytes of a record in its slot (the rest is zero).
pub const RECORD_BYTES: usize = BODY + 32;

/// What is wrong with one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotFault {
    #[error("it is empty")]
    Empty,
    #[error("it does not start with `gantry-commit v2`")]
    Magic,
    #[error("its checksum does not match its contents")]
    Checksum,
    #[error("byte {at} after the record is not zero")]
    Padding { at: usize },
    #[error("it holds sequence number {seq}, which belongs in the other slot")]
    WrongSlot { seq: u64 },
}

/// Why a commit record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommittedError {
    #[error("the first line is not `{HEADER}`")]
    Header,
    #[error("line {line} is not `{field} <value>`")]
    Field { line: usize, field: &'static str },
    #[error("the {field} is not a decimal number without leading zeros")]
    Number { field: &'static str },
    #[error("the root is not 64 lower-case hex digits")]
    Root,
    #[error("the text is not in its canonical form (extra or missing bytes)")]
    NotCanonical,
    #[error(
        "the file has {len} bytes; a commit record has {FILE_BYTES} (two slots) or is a `{HEADER}` text"
    )]
    Length { len: usize },
    #[error("neither slot holds a valid record (slot 0: {slot0}; slot 1: {slot1})")]
    NoValidSlot { slot0: SlotFault, slot1: SlotFault },
    #[error("slot {slot} {fault}")]
    OtherSlot { slot: usize, fault: SlotFault },
    #[error(
        "slot {slot} holds sequence number {seq}, the newest record {newest}: they must be consecutive"
    )]
    Sequence { slot: usize, seq: u64, newest: u64 },
    #[error("slot {slot} is empty, but the newest record has sequence number {newest}, not 0")]
    EmptyAfterFirst { slot: usize, newest: u64 },
    #[error("the older record in slot {slot} counts more than the newer one")]
    OlderBeyondNewer { slot: usize },
    #[error(
        "the older record in slot {slot} disagrees with the entries it counts (their byte count or root)"
    )]
    OlderDisagrees { slot: usize },
    #[error("the sequence number is at its largest; no further record can follow it")]
    SequenceExhausted,
}

/// The acknowledged extent of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Entries acknowledged.
    pub size: u64,
    /// Bytes of `entries` they take.
    pub entries_bytes: u64,
    /// The tree root over them.
    pub root: Hash,
}

/// One record of the slot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Incremented by every write of a record; its parity is the slot.
    pub seq: u64,
    pub committed: Committed,
}

/// What one slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// All zeros: never written.
    Empty,
    Valid(Slot),
    Invalid(SlotFault),
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(b)
}

impl Slot {
    /// The slot this record belongs in.
    pub fn index(&self) -> usize {
        usize::from(self.seq % 2 == 1)
    }

    /// The slot's bytes.
    pub fn to_bytes(&self) -> [u8; SLOT_BYTES] {
        let mut out = [0u8; SLOT_BYTES];
        out[..16].copy_from_slice(MAGIC);
        out[16..24].copy_from_slice(&self.seq.to_be_bytes());
        out[24..32].copy_from_slice(&self.committed.size.to_be_bytes());
        out[32..40].copy_from_slice(&self.committed.entries_bytes.to_be_bytes());
        out[40..72].copy_from_slice(&self.committed.root);
        let sum = Sha256::digest(&out[..BODY]);
        out[BODY..RECORD_BYTES].copy_from_slice(&sum);
        out
    }

    /// Reads slot `index` from its bytes (exactly [`SLOT_BYTES`]).
    pub fn read(index: usize, bytes: &[u8]) -> SlotState {
        if bytes.len() != SLOT_BYTES {
            return SlotState::Invalid(SlotFault::Padding {
                at: bytes.len().min(SLOT_BYTES),
            });
        }
        if bytes.iter().all(|b| *b == 0) {
            return SlotState::Empty;
        }
        if &bytes[..16] != MAGIC {
            return SlotState::Invalid(SlotFault::Magic);
        }
        if Sha256::digest(&bytes[..BODY])[..] != bytes[BODY..RECORD_BYTES] {
            return SlotState::Invalid(SlotFault::Checksum);
        }
        if let Some(at) = bytes[RECORD_BYTES..].iter().position(|b| *b != 0) {
            return SlotState::Invalid(SlotFault::Padding {
                at: RECORD_BYTES + at,
            });
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&bytes[40..72]);
        let slot = Slot {
            seq: u64_at(bytes, 16),
            committed: Committed {
                size: u64_at(bytes, 24),
                entries_bytes: u64_at(bytes, 32),
                root,
            },
        };
        if slot.index() != index {
            return SlotState::Invalid(SlotFault::WrongSlot { seq: slot.seq });
        }
        SlotState::Valid(slot)
    }
}

/// Whether `bytes` (an invalid slot) can be what a crash leaves while
/// `new` was being written over the slot: every byte is either the new one
/// or the one the slot held before, which was nothing (an empty slot) when
/// `new` has sequence 1, else the record two sequence numbers before it,
/// of which the magic, the sequence number, the zero padding and that it
/// counted at most `older_max` entries are known. `Err` names the first
/// byte that is neither.
pub fn torn_write_of(bytes: &[u8], new: &Slot, older_max: u64) -> Result<(), usize> {
    let written = new.to_bytes();
    let before = new.seq.checked_sub(2);
    let mut older_size = [0u8; 8];
    for (i, (got, want)) in bytes.iter().zip(written.iter()).enumerate() {
        if got == want {
            continue;
        }
        let old = match (before, i) {
            (None, _) => Some(0),
            (Some(_), 0..16) => Some(MAGIC[i]),
            (Some(seq), 16..24) => Some(seq.to_be_bytes()[i - 16]),
            (Some(_), 24..32) => {
                older_size[i - 24] = *got;
                None
            }
            // The older extent, root and checksum are not known.
            (Some(_), 32..RECORD_BYTES) => None,
            (Some(_), _) => Some(0),
        };
        if old.is_some_and(|old| old != *got) {
            return Err(i);
        }
    }
    if bytes.len() != SLOT_BYTES {
        return Err(bytes.len().min(SLOT_BYTES));
    }
    if u64::from_be_bytes(older_size) > older_max {
        return Err(24);
    }
    Ok(())
}

/// The commit record file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitFile {
    /// A v1 text record.
    Legacy(Committed),
    /// Two slots, and the file's bytes.
    Slots {
        slots: [SlotState; 2],
        bytes: Vec<u8>,
    },
}

impl CommitFile {
    /// The file of a fresh record: `committed` as sequence 0 in slot 0,
    /// slot 1 empty.
    pub fn fresh(committed: Committed) -> Vec<u8> {
        let mut out = vec![0u8; FILE_BYTES];
        out[..SLOT_BYTES].copy_from_slice(&Slot { seq: 0, committed }.to_bytes());
        out
    }

    /// Reads the file: two slots, or a v1 text record.
    pub fn from_bytes(bytes: &[u8]) -> Result<CommitFile, CommittedError> {
        if bytes.len() == FILE_BYTES {
            let slots = [
                Slot::read(0, &bytes[..SLOT_BYTES]),
                Slot::read(1, &bytes[SLOT_BYTES..]),
            ];
            return Ok(CommitFile::Slots {
                slots,
                bytes: bytes.to_vec(),
            });
        }
        if bytes.starts_with(HEADER.as_bytes()) {
            let text = std::str::from_utf8(bytes).map_err(|_| CommittedError::NotCanonical)?;
            return Committed::from_text(text).map(CommitFile::Legacy);
        }
        Err(CommittedError::Length { len: bytes.len() })
    }

    /// The newest valid slot and its index; `None` for a v1 record or
    /// when no slot is valid.
    pub fn newest_slot(&self) -> Option<Slot> {
        let CommitFile::Slots { slots, .. } = self else {
            return None;
        };
        slots
            .iter()
            .filter_map(|s| match s {
                SlotState::Valid(slot) => Some(*slot),
                _ => None,
            })
            .max_by_key(|s| s.seq)
    }

    /// The record that counts: the v1 record, or the newest valid slot.
    pub fn newest(&self) -> Result<Committed, CommittedError> {
        match self {
            CommitFile::Legacy(c) => Ok(*c),
            CommitFile::Slots { slots, .. } => {
                self.newest_slot()
                    .map(|s| s.committed)
                    .ok_or_else(|| CommittedError::NoValidSlot {
                        slot0: fault_of(slots[0]),
                        slot1: fault_of(slots[1]),
                    })
            }
        }
    }

    /// Checks the slot that is not the newest as far as it can be without
    /// the entries: valid with the previous sequence number and counting
    /// no more, or empty next to sequence 0. An append writes only when
    /// this holds, so it never overwrites a damaged record.
    pub fn check_older(&self) -> Result<(), CommittedError> {
        let CommitFile::Slots { slots, .. } = self else {
            return Ok(());
        };
        let newest = self.newest_slot().ok_or(CommittedError::NoValidSlot {
            slot0: fault_of(slots[0]),
            slot1: fault_of(slots[1]),
        })?;
        let slot = 1 - newest.index();
        match slots[slot] {
            SlotState::Valid(older) if older.seq.checked_add(1) != Some(newest.seq) => {
                Err(CommittedError::Sequence {
                    slot,
                    seq: older.seq,
                    newest: newest.seq,
                })
            }
            SlotState::Valid(older)
                if older.committed.size > newest.committed.size
                    || older.committed.entries_bytes > newest.committed.entries_bytes =>
            {
                Err(CommittedError::OlderBeyondNewer { slot })
            }
            SlotState::Valid(_) => Ok(()),
            SlotState::Empty if newest.seq == 0 => Ok(()),
            SlotState::Empty => Err(CommittedError::EmptyAfterFirst {
                slot,
                newest: newest.seq,
            }),
            SlotState::Invalid(fault) => Err(CommittedError::OtherSlot { slot, fault }),
        }
    }

    /// The older slot's record and its slot, when it holds one.
    pub fn older_slot(&self) -> Option<(usize, Slot)> {
        let CommitFile::Slots { slots, .. } = self else {
            return None;
        };
        let slot = 1 - self.newest_slot()?.index();
        match slots[slot] {
            SlotState::Valid(older) => Some((slot, older)),
            _ => None,
        }
    }

    /// Where the record after the newest goes, and its bytes: the slot of
    /// the older record, with the next sequence number.
    pub fn next(&self, committed: Committed) -> Option<(u64, [u8; SLOT_BYTES])> {
        let newest = self.newest_slot()?;
        let slot = Slot {
            seq: newest.seq.checked_add(1)?,
            committed,
        };
        Some(((slot.index() * SLOT_BYTES) as u64, slot.to_bytes()))
    }
}

fn fault_of(state: SlotState) -> SlotFault {
    match state {
        SlotState::Invalid(f) => f,
        // A valid slot in the wrong place is reported as Invalid already;
        // a valid one here would have been chosen.
        SlotState::Empty | SlotState::Valid(_) => SlotFault::Empty,
    }
}

fn number(text: &str, field: &'static str) -> Result<u64, CommittedError> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return Err(CommittedError::Number { field });
    }
    text.parse().map_err(|_| CommittedError::Number { field })
}

impl Committed {
    /// The record's text in format v1:
    ///
    /// ```text
    /// gantry-ledger committed v1
    /// size 12
    /// entries 4982
    /// root 5f3c...(64 lower-case hex digits)
    /// ```
    pub fn to_text(&self) -> String {
        format!(
            "{HEADER}\nsize {}\nentries {}\nroot {}\n",
            self.size,
            self.entries_bytes,
            to_hex(&self.root)
        )
    }

    /// Reads a v1 record; anything but the exact canonical text is an error.
    pub fn from_text(text: &str) -> Result<Committed, CommittedError> {
        let mut lines = text.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(CommittedError::Header);
        }
        let mut field = |line: usize, name: &'static str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .ok_or(CommittedError::Field { line, field: name })
        };
        let size = number(field(2, "size")?, "size")?;
        let entries_bytes = number(field(3, "entries")?, "entries")?;
        let root_text = field(4, "root")?;
        if root_text.len() != 64
            || !root_text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(CommittedError::Root);
        }
        let mut root = [0u8; 32];
        for (i, pair) in root_text.as_bytes().chunks(2).enumerate() {
            let digits = std::str::from_utf8(pair).map_err(|_| CommittedError::Root)?;
            root[i] = u8::from_str_radix(digits, 16).map_err(|_| CommittedError::Root)?;
        }
        let committed = Committed {
            size,
            entries_bytes,
            root,
        };
        if committed.to_text() != text {
            return Err(CommittedError::NotCanonical);
        }
        Ok(committed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const C: Committed = Committed {
        size: 12,
        entries_bytes: 4982,
        root: [0xab; 32],
    };

    #[test]
    fn round_trips_and_every_changed_byte_is_an_error_or_a_different_record() {
        let text = C.to_text();
        assert_eq!(Committed::from_text(&text).unwrap(), C);
        for i in 0..text.len() {
            for mask in [0x01u8, 0x20, 0x80] {
                let mut bytes = text.clone().into_bytes();
                bytes[i] ^= mask;
                let Ok(changed) = String::from_utf8(bytes) else {
                    continue;
                };
                if let Ok(other) = Committed::from_text(&changed) {
                    assert_ne!(other, C, "byte {i} mask {mask:#x}");
                }
            }
        }
        for bad in [
            "",
            "gantry-ledger committed v1\nsize 01\nentries 0\nroot \n",
        ] {
            assert!(Committed::from_text(bad).is_err());
        }
    }

    #[test]
    fn every_changed_byte_of_a_slot_makes_it_invalid() {
        let slot = Slot {
            seq: 7,
            committed: C,
        };
        let bytes = slot.to_bytes();
        assert_eq!(Slot::read(1, &bytes), SlotState::Valid(slot));
        assert_eq!(
            Slot::read(0, &bytes),
            SlotState::Invalid(SlotFault::WrongSlot { seq: 7 })
        );
        for i in 0..SLOT_BYTES {
            for mask in [0x01u8, 0x80] {
                let mut changed = bytes;
                changed[i] ^= mask;
                assert!(
                    matches!(Slot::read(1, &changed), SlotState::Invalid(_)),
                    "byte {i} mask {mask:#x}"
                );
            }
        }
    }

    #[test]
    fn the_newest_valid_slot_counts_and_the_next_goes_over_the_older() {
        let mut file = CommitFile::fresh(C);
        let parsed = CommitFile::from_bytes(&file).unwrap();
        assert_eq!(parsed.newest().unwrap(), C);
        parsed.check_older().unwrap();
        let more = Committed { size: 13, ..C };
        let (at, bytes) = parsed.next(more).unwrap();
        assert_eq!(at, SLOT_BYTES as u64);
        file[SLOT_BYTES..].copy_from_slice(&bytes);
        let parsed = CommitFile::from_bytes(&file).unwrap();
        assert_eq!(parsed.newest().unwrap(), more);
        parsed.check_older().unwrap();
        assert_eq!(parsed.next(C).unwrap().0, 0);

        // The newer slot torn: the older one still counts, but an append
        // must not write over the damage.
        file[SLOT_BYTES + 30] ^= 1;
        let parsed = CommitFile::from_bytes(&file).unwrap();
        assert_eq!(parsed.newest().unwrap(), C);
        assert_eq!(
            parsed.check_older(),
            Err(CommittedError::OtherSlot {
                slot: 1,
                fault: SlotFault::Checksum
            })
        );
        file[3] ^= 1;
        assert!(matches!(
            CommitFile::from_bytes(&file).unwrap().newest(),
            Err(CommittedError::NoValidSlot { .. })
        ));
        assert_eq!(
            CommitFile::from_bytes(&file[1..]),
            Err(CommittedError::Length {
                len: FILE_BYTES - 1
            })
        );
        assert_eq!(
            CommitFile::from_bytes(C.to_text().as_bytes()).unwrap(),
            CommitFile::Legacy(C)
        );
    }
}
