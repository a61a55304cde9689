//! The commit record: how many entries an append acknowledged, how many
//! bytes of `entries` they take and the tree root over them.
//!
//! ```text
//! gantry-ledger committed v1
//! size 12
//! entries 4982
//! root 5f3c...(64 lower-case hex digits)
//! ```
//!
//! It is replaced atomically (temporary file, fsync, rename, fsync of the
//! folder) as the last step of an append, so it is never torn: everything
//! past it in the data files belongs to an append that never returned.
//! Reading is strict (the text must be exactly what [`Committed::to_text`]
//! writes), so any changed byte is either unreadable or disagrees with the
//! entries it describes.

use crate::hash::{Hash, to_hex};

const HEADER: &str = "gantry-ledger committed v1";

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
    /// The record's text.
    pub fn to_text(&self) -> String {
        format!(
            "{HEADER}\nsize {}\nentries {}\nroot {}\n",
            self.size,
            self.entries_bytes,
            to_hex(&self.root)
        )
    }

    /// Reads a record; anything but the exact canonical text is an error.
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

    #[test]
    fn round_trips_and_every_changed_byte_is_an_error_or_a_different_record() {
        let c = Committed {
            size: 12,
            entries_bytes: 4982,
            root: [0xab; 32],
        };
        let text = c.to_text();
        assert_eq!(Committed::from_text(&text).unwrap(), c);
        for i in 0..text.len() {
            for mask in [0x01u8, 0x20, 0x80] {
                let mut bytes = text.clone().into_bytes();
                bytes[i] ^= mask;
                let Ok(changed) = String::from_utf8(bytes) else {
                    continue;
                };
                if let Ok(other) = Committed::from_text(&changed) {
                    assert_ne!(other, c, "byte {i} mask {mask:#x}");
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
}
