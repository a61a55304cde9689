//! Small text helpers: line numbers for byte offsets, forward search for
//! entries in the order a file lists them, base64 and hex.

/// Line starts of a text, to turn byte offsets into 1-based lines.
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Where the next [`Lines::find_line`] starts searching.
    cursor: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines {
            text,
            starts,
            cursor: 0,
        }
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The line of the next occurrence of `needle` at or after the cursor,
    /// moving the cursor past it; from the start of the file when it is not
    /// found ahead (entries are usually, not always, in file order). `None`
    /// when the text does not contain it at all.
    pub(crate) fn find_line(&mut self, needle: &str) -> Option<usize> {
        let ahead = self
            .text
            .get(self.cursor..)
            .and_then(|rest| rest.find(needle))
            .map(|i| i + self.cursor);
        let at = ahead.or_else(|| self.text.find(needle))?;
        self.cursor = at + needle.len();
        Some(self.line_of(at))
    }

    /// [`Lines::find_line`] for the first of several needles found, or 1.
    pub(crate) fn find_any(&mut self, needles: &[&str]) -> usize {
        needles.iter().find_map(|n| self.find_line(n)).unwrap_or(1)
    }
}

/// Standard or URL-safe base64, padding optional. `None` on any other
/// character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decodes_base64_and_finds_lines() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode("a*b").is_none());
        assert_eq!(hex_encode(&[0, 255, 16]), "00ff10");
        let mut lines = Lines::new("a\nb\nc\nb\n");
        assert_eq!(lines.find_line("b"), Some(2));
        assert_eq!(lines.find_line("b"), Some(4));
        assert_eq!(lines.find_line("a"), Some(1));
        assert_eq!(lines.find_line("zz"), None);
        assert_eq!(line_at("a\nb\nc", 4), 3);
    }
}
