//! Text edits that keep comments and formatting: inserting keys into block
//! mappings at the right indentation, and applying a set of edits.

use gantry_workflow::Span;
use gantry_workflow::yaml::{Node, NodeKind};

use crate::finding::Edit;

/// The offset where the line holding `offset` starts.
pub fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1)
}

/// The offset of the line break ending the line holding `offset` (or the
/// end of the text).
pub fn line_end(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| offset + i)
}

/// The column (in bytes) of `offset` in its line.
pub fn column(text: &str, offset: usize) -> usize {
    offset - line_start(text, offset)
}

/// Whether a mapping is written in block style (`key: value` lines), the
/// only style gantry edits.
pub fn is_block_mapping(text: &str, node: &Node) -> bool {
    matches!(node.kind, NodeKind::Map(_))
        && !text
            .get(node.span.start..)
            .is_some_and(|t| t.starts_with('{'))
}

/// An edit that adds `lines` as new entries of the block mapping `mapping`.
/// The first line is written at the mapping's key indentation; the others
/// keep the extra indentation they carry. `None` for flow mappings.
pub fn insert_into_mapping(text: &str, mapping: &Node, lines: &[&str]) -> Option<Edit> {
    let NodeKind::Map(pairs) = &mapping.kind else {
        return None;
    };
    let (first_key, _) = pairs.first()?;
    if !is_block_mapping(text, mapping) {
        return None;
    }
    let key_start = first_key.span.start;
    let start = line_start(text, key_start);
    let indent = " ".repeat(key_start - start);
    let block: Vec<String> = lines.iter().map(|l| format!("{indent}{l}")).collect();
    let before_key = text.get(start..key_start).unwrap_or("");
    if before_key.chars().all(|c| c == ' ') {
        // The first key starts its line: add the lines above it.
        Some(Edit::insert(start, format!("{}\n", block.join("\n"))))
    } else {
        // The first key shares its line with `- `: add after the mapping.
        let end = line_end(text, mapping.span.end.max(key_start));
        Some(Edit::insert(end, format!("\n{}", block.join("\n"))))
    }
}

/// Applies edits to `text`. Edits that overlap an earlier one (by start
/// offset) are skipped; returns the new text and how many were applied.
pub fn apply(text: &str, edits: &[Edit]) -> (String, usize) {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    let mut applied = 0;
    let mut last_insert: Option<(usize, &str)> = None;
    for edit in sorted {
        let Span { start, end } = edit.span;
        if start < at
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        // The same insertion twice at one place is applied once.
        if start == end && last_insert == Some((start, edit.text.as_str())) {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&edit.text);
        at = end;
        applied += 1;
        if start == end {
            last_insert = Some((start, edit.text.as_str()));
        }
    }
    out.push_str(&text[at..]);
    (out, applied)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use gantry_workflow::SourceFile;
    use gantry_workflow::yaml::{Limits, PathItem, parse};

    fn node_at<'a>(root: &'a Node, path: &[PathItem<'_>]) -> &'a Node {
        root.at(path).unwrap()
    }

    #[test]
    fn inserts_at_the_mapping_indentation() {
        let text = "jobs:\n  a:\n    runs-on: x # comment\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n      - uses: actions/checkout@v4\n";
        let file = SourceFile::new("t.yml", text);
        let root = parse(&file, Limits::default()).unwrap();
        let job = node_at(&root, &[PathItem::Key("jobs"), PathItem::Key("a")]);
        let e1 = insert_into_mapping(text, job, &["timeout-minutes: 10"]).unwrap();
        let with = node_at(
            &root,
            &[
                PathItem::Key("jobs"),
                PathItem::Key("a"),
                PathItem::Key("steps"),
                PathItem::Index(0),
                PathItem::Key("with"),
            ],
        );
        let e2 = insert_into_mapping(text, with, &["persist-credentials: false"]).unwrap();
        let step = node_at(
            &root,
            &[
                PathItem::Key("jobs"),
                PathItem::Key("a"),
                PathItem::Key("steps"),
                PathItem::Index(1),
            ],
        );
        let e3 =
            insert_into_mapping(text, step, &["with:", "  persist-credentials: false"]).unwrap();
        let (out, n) = apply(text, &[e3, e1, e2]);
        assert_eq!(n, 3);
        assert_eq!(
            out,
            "jobs:\n  a:\n    timeout-minutes: 10\n    runs-on: x # comment\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n          fetch-depth: 0\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n"
        );
    }

    #[test]
    fn flow_mappings_are_left_alone() {
        let text = "a: {b: 1}\n";
        let file = SourceFile::new("t.yml", text);
        let root = parse(&file, Limits::default()).unwrap();
        assert!(
            insert_into_mapping(text, node_at(&root, &[PathItem::Key("a")]), &["c: 2"]).is_none()
        );
    }

    #[test]
    fn overlapping_edits_are_skipped() {
        let (out, n) = apply(
            "abcdef",
            &[
                Edit::replace(Span::new(1, 3), "X"),
                Edit::replace(Span::new(2, 4), "Y"),
            ],
        );
        assert_eq!((out.as_str(), n), ("aXdef", 1));
    }
}
