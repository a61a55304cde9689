//! Secret masking: every secret value, each line of a multi-line secret,
//! and every value added with `::add-mask::` becomes `***` in logs,
//! outputs and summaries, and so do the encodings the GitHub runner
//! masks: base64 at each of the three byte offsets, URL (data) escaping,
//! JSON string escaping, the workflow-command escapes, the command-line
//! argument escape, expression (single-quote) escaping and XML escaping.
//!
//! The values are matched with one Aho-Corasick automaton, shared by every
//! reader, so a line costs one pass whatever the number of secrets. It is
//! rebuilt when text is masked after values were added, so a step that
//! adds many masks in a row pays for one build, not one per value.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Values shorter than this are not masked: they would blank out ordinary
/// text (GitHub does not mask one-character secrets either).
const MIN_LEN: usize = 2;

/// The values to hide. Shared by every job of a run; `::add-mask::` adds
/// to it while the run goes on.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    state: Arc<RwLock<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// The values given to [`Masker::add`] (and their lines).
    secrets: HashSet<String>,
    /// Every pattern: the secrets and their encodings.
    patterns: Vec<String>,
    /// The same, to keep `patterns` free of repeats.
    known: HashSet<String>,
    /// Matches any pattern; `None` while there are none.
    matcher: Option<AhoCorasick>,
    /// Patterns were added since `matcher` was built.
    stale: bool,
}

impl State {
    fn rebuild(&mut self) {
        // Standard semantics, so every overlapping occurrence is found and
        // overlapping secrets are hidden as one stretch.
        self.matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&self.patterns)
            .ok();
        self.stale = false;
    }
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value to hide, with its encodings; multi-line values are
    /// hidden line by line too.
    pub fn add(&self, value: &str) {
        let mut candidates = vec![value.trim_end_matches(['\r', '\n']).to_string()];
        if value.contains('\n') {
            candidates.extend(value.lines().map(|l| l.trim_end_matches('\r').to_string()));
        }
        let Ok(mut state) = self.state.write() else {
            return;
        };
        let mut changed = false;
        for c in candidates {
            if c.trim().len() < MIN_LEN || state.secrets.contains(&c) {
                continue;
            }
            for pattern in encodings(&c) {
                if pattern.trim().len() >= MIN_LEN && state.known.insert(pattern.clone()) {
                    state.patterns.push(pattern);
                }
            }
            state.secrets.insert(c);
            changed = true;
        }
        state.stale |= changed;
    }

    /// Runs `f` with an up-to-date matcher (`None` when nothing is masked).
    fn with_matcher<T>(&self, f: impl FnOnce(Option<&AhoCorasick>) -> T) -> Option<T> {
        {
            let state = self.state.read().ok()?;
            if !state.stale {
                return Some(f(state.matcher.as_ref()));
            }
        }
        let mut state = self.state.write().ok()?;
        if state.stale {
            state.rebuild();
        }
        Some(f(state.matcher.as_ref()))
    }

    /// `text` with every known value (and encoding of one) replaced by
    /// `***`; overlapping or adjacent occurrences become one `***`.
    pub fn mask(&self, text: &str) -> String {
        self.with_matcher(|m| match m {
            Some(m) => mask_with(m, text),
            None => text.to_string(),
        })
        .unwrap_or_else(|| text.to_string())
    }

    /// Whether `text` holds any known value or encoding of one.
    pub fn reveals(&self, text: &str) -> bool {
        self.with_matcher(|m| m.is_some_and(|m| m.is_match(text)))
            .unwrap_or(false)
    }
}

/// `text` with every match of `matcher` hidden.
fn mask_with(matcher: &AhoCorasick, text: &str) -> String {
    let mut out = String::new();
    // The stretch being hidden, and where the text after the last
    // hidden stretch starts.
    let mut open: Option<(usize, usize)> = None;
    let mut copied = 0;
    for m in matcher.find_overlapping_iter(text) {
        match open {
            Some((start, end)) if m.start() <= end => {
                open = Some((start, end.max(m.end())));
            }
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str("***");
                copied = end;
                open = Some((m.start(), m.end()));
            }
            None => open = Some((m.start(), m.end())),
        }
    }
    let Some((start, end)) = open else {
        return text.to_string();
    };
    out.push_str(&text[copied..start]);
    out.push_str("***");
    out.push_str(&text[end..]);
    out
}

/// A value and every encoding of it the runner masks.
fn encodings(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    out.extend(base64_forms(value.as_bytes()));
    out.push(uri_data_escape(value));
    out.push(uri_form_escape(value));
    out.push(json_string_escape(value));
    out.push(command_data_escape(value));
    out.push(command_property_escape(value));
    // `CommandLineArgumentEscape`: quotes as they are passed to a program.
    out.push(value.replace('"', "\\\""));
    // `ExpressionStringEscape`: a value inside a '...' expression literal.
    out.push(value.replace('\'', "''"));
    out.push(xml_data_escape(value));
    // `TrimDoubleQuotes`: a quoted secret is masked without its quotes.
    if value.len() > 8
        && let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
    {
        out.push(inner.to_string());
    }
    out.dedup();
    out
}

/// The base64 encodings of `bytes` wherever it sits in an encoded stream.
///
/// Base64 turns each 3 bytes into 4 characters, so the encoding of a
/// secret inside a longer text (`base64("user:" + secret)`) depends on
/// where it starts modulo 3. Starting the secret at each of 0, 1 and 2
/// bytes in, and keeping only whole 3-byte groups, gives the characters
/// that appear in every such encoding: those of the leading partial group
/// and of the trailing one depend on the neighbouring bytes and are left
/// out. The plain encoding (with its padding) is masked too, for a value
/// encoded on its own.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![STANDARD.encode(bytes), URL_SAFE.encode(bytes)];
    for shift in 0..3 {
        let Some(rest) = bytes.get(shift..) else {
            break;
        };
        let whole = rest.len() - rest.len() % 3;
        // Fewer than 6 stable characters would mask ordinary words.
        if whole < 6 {
            continue;
        }
        let stable = &rest[..whole];
        out.push(STANDARD_NO_PAD.encode(stable));
        out.push(URL_SAFE_NO_PAD.encode(stable));
    }
    out
}

/// `Uri.EscapeDataString`: every byte but the unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) as `%XX`, upper-case hex.
fn uri_data_escape(value: &str) -> String {
    percent_escape(value, false)
}

/// The form (query) encoding: as the data escape, with spaces as `+`.
fn uri_form_escape(value: &str) -> String {
    percent_escape(value, true)
}

fn percent_escape(value: &str, space_as_plus: bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if space_as_plus => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A JSON string's contents, without the surrounding quotes.
fn json_string_escape(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .map_or_else(|| value.to_string(), str::to_string)
}

/// The escape of a workflow command's message (`::cmd::message`).
fn command_data_escape(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escape of a workflow command's property (`::cmd name=value::`).
fn command_property_escape(value: &str) -> String {
    command_data_escape(value)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// `SecurityElement.Escape`: the five XML entities.
fn xml_data_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_lines_of_multiline_secrets() {
        let m = Masker::new();
        m.add("hunter2");
        m.add("-----BEGIN KEY-----\nabcdef\n-----END KEY-----\n");
        m.add("x");
        assert_eq!(m.mask("password=hunter2 x"), "password=*** x");
        assert_eq!(m.mask("line: abcdef"), "line: ***");
        assert_eq!(m.mask("-----BEGIN KEY-----"), "***");
        assert!(m.reveals("..hunter2.."));
        assert!(!m.reveals("nothing here"));
    }

    #[test]
    fn longer_secrets_win() {
        let m = Masker::new();
        m.add("abc");
        m.add("abcdef");
        assert_eq!(m.mask("abcdef"), "***");
        assert_eq!(m.mask("xabcdefx abc"), "x***x ***");
    }

    #[test]
    fn overlapping_secrets_are_hidden_as_one() {
        let m = Masker::new();
        m.add("abcd");
        m.add("cdef");
        assert_eq!(m.mask("..abcdef.."), "..***..");
    }

    #[test]
    fn values_added_in_a_row_are_all_masked() {
        let m = Masker::new();
        assert_eq!(m.mask("token-7 token-1999"), "token-7 token-1999");
        for i in 0..2000 {
            m.add(&format!("token-{i}"));
        }
        assert_eq!(m.mask("a token-7 b token-1999 c"), "a *** b *** c");
        m.add("later-value");
        assert!(m.reveals("the later-value"));
    }

    #[test]
    fn an_empty_masker_changes_nothing() {
        let m = Masker::new();
        assert_eq!(m.mask("a line"), "a line");
        assert!(!m.reveals("a line"));
    }

    /// The secret inside a base64 stream at each byte offset: what is
    /// left of the encoding after masking no longer decodes to it.
    #[test]
    fn base64_of_a_secret_is_masked_at_every_offset() {
        let secret = "p@ss:w0rd/with+chars";
        let m = Masker::new();
        m.add(secret);
        for prefix in ["", "u", "us", "user:", "user:x"] {
            for suffix in ["", "!", "!!", "!!!"] {
                let plain = format!("{prefix}{secret}{suffix}");
                for encoded in [STANDARD.encode(&plain), URL_SAFE_NO_PAD.encode(&plain)] {
                    let masked = m.mask(&encoded);
                    assert!(masked.contains("***"), "{plain} -> {encoded} -> {masked}");
                    // At most the 3 characters of each partial group around
                    // the secret are left of its encoding.
                    let left = masked.replace("***", "");
                    assert!(
                        left.len() <= encoded.len() - secret.len() * 4 / 3 + 8,
                        "{plain}: {encoded} -> {masked}"
                    );
                }
            }
        }
        assert_eq!(m.mask(&STANDARD.encode(secret)), "***");
    }

    #[test]
    fn escaped_forms_of_a_secret_are_masked() {
        let secret = "a'b\"c%d\ne:f,g h&<>/\\é";
        let m = Masker::new();
        m.add(secret);
        let forms = [
            uri_data_escape(secret),
            uri_form_escape(secret),
            json_string_escape(secret),
            command_data_escape(secret),
            command_property_escape(secret),
            secret.replace('\'', "''"),
            secret.replace('"', "\\\""),
            xml_data_escape(secret),
        ];
        for form in forms {
            assert_ne!(form, secret);
            assert_eq!(m.mask(&format!("<{form}>")), "<***>", "{form}");
        }
        assert_eq!(
            uri_data_escape("a b/é~"),
            "a%20b%2F%C3%A9~",
            "as Uri.EscapeDataString"
        );
        assert_eq!(json_string_escape("a\"b\\c\n"), "a\\\"b\\\\c\\n");
        assert_eq!(command_property_escape("a:b,c%\r\n"), "a%3Ab%2Cc%25%0D%0A");
    }

    #[test]
    fn quoted_secrets_are_masked_without_their_quotes() {
        let m = Masker::new();
        m.add("\"long-quoted-value\"");
        assert_eq!(m.mask("x long-quoted-value x"), "x *** x");
    }
}
