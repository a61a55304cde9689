//! `NAME=VALUE` pairs for secrets and variables, from `--secret`/`--var`
//! arguments and from files of one pair a line (`#` comments, blank lines,
//! and `NAME="..."` values that may span lines).

use indexmap::IndexMap;

/// A pair that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairsError {
    #[error("{file}:{line}: expected NAME=VALUE")]
    NotAPair { file: String, line: usize },
    #[error("{file}:{line}: the quoted value of {name} is never closed")]
    Unclosed {
        file: String,
        line: usize,
        name: String,
    },
    #[error("{what} '{item}' is not NAME=VALUE")]
    Argument { what: String, item: String },
}

/// Reads a file's pairs into `out`; `file` names it in errors.
pub fn parse_file(
    text: &str,
    file: &str,
    out: &mut IndexMap<String, String>,
) -> Result<(), PairsError> {
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(PairsError::NotAPair {
                file: file.to_string(),
                line: i + 1,
            });
        };
        let value = value.trim();
        // Quoted values may span lines: NAME="line 1\nline 2".
        let value = if let Some(rest) = value.strip_prefix('"') {
            let mut v = rest.to_string();
            while !v.ends_with('"') {
                let Some((_, l)) = lines.next() else {
                    return Err(PairsError::Unclosed {
                        file: file.to_string(),
                        line: i + 1,
                        name: name.trim().to_string(),
                    });
                };
                v.push('\n');
                v.push_str(l);
            }
            v.trim_end_matches('"').to_string()
        } else {
            value.to_string()
        };
        out.insert(name.trim().to_string(), value);
    }
    Ok(())
}

/// Reads `NAME=VALUE` arguments into `out` (later ones win); `what` is
/// the option's name (`secret`, `var`).
pub fn parse_arguments(
    items: &[String],
    what: &str,
    out: &mut IndexMap<String, String>,
) -> Result<(), PairsError> {
    for item in items {
        let Some((name, value)) = item.split_once('=') else {
            return Err(PairsError::Argument {
                what: what.to_string(),
                item: item.clone(),
            });
        };
        out.insert(name.to_string(), value.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<IndexMap<String, String>, PairsError> {
        let mut out = IndexMap::new();
        parse_file(text, "s.env", &mut out).map(|()| out)
    }

    #[test]
    fn files_skip_comments_and_keep_quoted_lines_together() {
        let pairs = file("# a comment\n\nA = 1\nB=\"line 1\nline 2\"\nC=x=y\n");
        let pairs = pairs.unwrap_or_default();
        assert_eq!(pairs.get("A").map(String::as_str), Some("1"));
        assert_eq!(pairs.get("B").map(String::as_str), Some("line 1\nline 2"));
        assert_eq!(pairs.get("C").map(String::as_str), Some("x=y"));
    }

    #[test]
    fn bad_lines_are_errors_with_their_place() {
        assert_eq!(
            file("A=1\nnot a pair\n").err().map(|e| e.to_string()),
            Some("s.env:2: expected NAME=VALUE".into())
        );
        assert_eq!(
            file("A=\"open\nstill open\n").err().map(|e| e.to_string()),
            Some("s.env:1: the quoted value of A is never closed".into())
        );
    }

    #[test]
    fn arguments_need_an_equals_sign_and_later_ones_win() {
        let mut out = IndexMap::new();
        let items = ["A=1".to_string(), "A=2".to_string()];
        assert_eq!(parse_arguments(&items, "secret", &mut out), Ok(()));
        assert_eq!(out.get("A").map(String::as_str), Some("2"));
        let bad = parse_arguments(&["A".to_string()], "var", &mut out);
        assert_eq!(
            bad.err().map(|e| e.to_string()),
            Some("var 'A' is not NAME=VALUE".into())
        );
    }
}
