//! Where each character of a scalar's value was written in the file.
//!
//! A string value is not its source text: quotes are removed, `''` is one
//! quote, `\n` in a double-quoted string is a newline, block scalars (`|`,
//! `>`) lose their indentation and header, and folding turns line breaks
//! into spaces. Checks that point inside a value (an expression in a
//! `run:` script, a shellcheck finding) need the file offset of a value
//! offset; [`ValueMap`] aligns the value with the text it was read from.

use crate::source::Span;
use crate::yaml::{Node, Style};

/// The file offsets of the bytes of one scalar's value.
#[derive(Debug, Clone)]
pub(crate) struct ValueMap {
    /// `offsets[i]` is the file offset of value byte `i`; one entry more
    /// than the value has bytes (the end).
    offsets: Vec<usize>,
    /// `ends[i]`: the file offset just past the text of value byte `i`'s
    /// character (an escape is several file bytes for one character).
    ends: Vec<usize>,
}

impl ValueMap {
    /// Aligns `value` (the scalar's string) with its text in `file`;
    /// `None` when the two cannot be aligned (a value that is not written
    /// out, such as an alias).
    pub(crate) fn new(file: &str, node: &Node, value: &str) -> Option<ValueMap> {
        let written = file.get(node.span.start..node.span.end)?;
        let mut start = node.span.start;
        let mut body = written;
        match node.style {
            Style::Literal | Style::Folded => {
                // The header (`|-`, `>2`, a comment) ends at the first line break.
                let newline = written.find('\n')?;
                start += newline + 1;
                body = written.get(newline + 1..)?;
            }
            Style::SingleQuoted | Style::DoubleQuoted => {
                let quote = if node.style == Style::SingleQuoted {
                    '\''
                } else {
                    '"'
                };
                body = written.strip_prefix(quote)?.strip_suffix(quote)?;
                start += 1;
            }
            Style::Plain => {}
        }
        let double = node.style == Style::DoubleQuoted;
        let single = node.style == Style::SingleQuoted;
        let mut offsets = vec![0; value.len() + 1];
        let mut ends = vec![0; value.len() + 1];
        let src: Vec<(usize, char)> = body.char_indices().collect();
        let mut j = 0;
        for (i, c) in value.char_indices() {
            loop {
                let Some(&(at, s)) = src.get(j) else {
                    // Block scalars keep a line break the span leaves out.
                    if c.is_whitespace() {
                        offsets[i..i + c.len_utf8()].fill(start + body.len());
                        ends[i..i + c.len_utf8()].fill(start + body.len());
                        break;
                    }
                    return None;
                };
                if s == c {
                    if single && c == '\'' {
                        // `''` stands for one quote.
                        if src.get(j + 1).is_some_and(|(_, n)| *n == '\'') {
                            j += 1;
                        }
                    }
                    offsets[i..i + c.len_utf8()].fill(start + at);
                    ends[i..i + c.len_utf8()].fill(start + at + s.len_utf8());
                    j += 1;
                    break;
                }
                if double && s == '\\' {
                    // An escape: `\X` (or `\xNN`, `\uNNNN`) is one value character.
                    let width = match src.get(j + 1).map(|(_, n)| *n) {
                        Some('x') => 4,
                        Some('u') => 6,
                        Some('U') => 10,
                        Some('\n') => {
                            // An escaped line break: skipped with the indentation.
                            j += 2;
                            continue;
                        }
                        Some(_) => 2,
                        None => return None,
                    };
                    offsets[i..i + c.len_utf8()].fill(start + at);
                    let end = src
                        .get(j + width)
                        .map_or(start + body.len(), |(e, _)| start + e);
                    ends[i..i + c.len_utf8()].fill(end);
                    j += width;
                    break;
                }
                if s.is_whitespace() {
                    j += 1;
                    continue;
                }
                return None;
            }
        }
        offsets[value.len()] = src.get(j).map_or(start + body.len(), |(at, _)| start + at);
        ends[value.len()] = offsets[value.len()];
        Some(ValueMap { offsets, ends })
    }

    /// The file offset of value byte `i` (the end for `i` past it).
    pub(crate) fn offset(&self, i: usize) -> usize {
        let last = self.offsets.len() - 1;
        self.offsets[i.min(last)]
    }

    /// The file span of the value bytes `range`.
    pub(crate) fn span(&self, range: std::ops::Range<usize>) -> Span {
        let start = self.offset(range.start);
        let end = if range.end > range.start {
            // Just past the last character of the range, in the file.
            let last = self.ends.len() - 1;
            self.ends[(range.end - 1).min(last)]
        } else {
            start
        };
        Span::new(start, end.max(start))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::yaml::{self, Limits};

    /// The file text at the offset of each `${{` of the value of `key`.
    fn check(text: &str) {
        let file = SourceFile::new("t.yml", text);
        let root = yaml::parse(&file, Limits::default()).unwrap();
        let (_, node) = root.entry("v").unwrap();
        let value = node.as_str().unwrap();
        let map = ValueMap::new(text, node, value).unwrap();
        let mut found = 0;
        for (i, _) in value.match_indices("${{ x }}") {
            let at = map.offset(i);
            assert_eq!(&text[at..at + 8], "${{ x }}", "in {text:?}");
            found += 1;
        }
        assert!(found > 0, "no expression in {value:?}");
        let end = map.offset(value.len());
        assert!(end <= text.len());
    }

    #[test]
    fn plain_and_quoted_values_map_to_their_text() {
        check("v: echo ${{ x }} and ${{ x }}\n");
        check("v: 'it''s ${{ x }}'\n");
        check("v: \"say \\\"${{ x }}\\\" \\t ${{ x }}\"\n");
        check("v: a\n  b ${{ x }}\n  c\n");
    }

    #[test]
    fn block_values_map_past_header_and_indentation() {
        check("v: |\n  echo 1\n    echo ${{ x }}\n\n  echo ${{ x }}\n");
        check("v: >-  # a comment with ${{ y }}\n  one\n  two ${{ x }}\n\n  three ${{ x }}\n");
        check("v: |2\n    indented ${{ x }}\n");
    }

    #[test]
    fn spans_cover_the_written_text() {
        let text = "v: 'a''b'\n";
        let file = SourceFile::new("t.yml", text);
        let root = yaml::parse(&file, Limits::default()).unwrap();
        let (_, node) = root.entry("v").unwrap();
        let map = ValueMap::new(text, node, "a'b").unwrap();
        let span = map.span(0..3);
        assert_eq!(&text[span.start..span.end], "a''b");
        let text = "v: \"\\tx \u{e9}\"\n";
        let file = SourceFile::new("t.yml", text);
        let root = yaml::parse(&file, Limits::default()).unwrap();
        let (_, node) = root.entry("v").unwrap();
        let value = node.as_str().unwrap();
        let map = ValueMap::new(text, node, value).unwrap();
        let span = map.span(0..value.len());
        assert_eq!(&text[span.start..span.end], "\\tx \u{e9}");
    }

    fn walk(node: &crate::yaml::Node, f: &mut dyn FnMut(&crate::yaml::Node)) {
        f(node);
        match &node.kind {
            crate::yaml::NodeKind::Map(pairs) => {
                for (k, v) in pairs {
                    walk(k, f);
                    walk(v, f);
                }
            }
            crate::yaml::NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, f)),
            _ => {}
        }
    }

    proptest::proptest! {
        /// Whatever the scalar, every offset is a character boundary in
        /// the file (so a span never cuts a character).
        #[test]
        fn offsets_fall_on_character_boundaries(
            text in "(v: |k: |- |  |\\||>|\"|'|a|\u{e9}|\\t|\\u00e9|\n|#|\\x41| )*"
        ) {
            let file = SourceFile::new("t.yml", text.clone());
            if let Ok(root) = yaml::parse(&file, Limits::default()) {
                walk(&root, &mut |node| {
                    if let Some(value) = node.as_str()
                        && let Some(map) = ValueMap::new(&text, node, value)
                    {
                        for i in 0..=value.len() {
                            let span = map.span(i..value.len());
                            assert!(text.is_char_boundary(span.start), "{text:?} {i}");
                            assert!(text.is_char_boundary(span.end), "{text:?} {i}");
                            assert!(span.end <= text.len());
                        }
                    }
                });
            }
        }
    }
}
