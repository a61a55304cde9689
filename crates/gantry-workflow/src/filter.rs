//! GitHub's filter patterns for `branches`, `tags` and `paths`.
//!
//! `on.<push|pull_request|pull_request_target|workflow_run>` accept lists of
//! glob patterns in `branches`, `branches-ignore`, `tags`, `tags-ignore`,
//! `paths` and `paths-ignore`. This module compiles those patterns and
//! decides, the way GitHub does, whether a ref name or a set of changed
//! files passes them.
//!
//! # Pattern syntax
//!
//! From GitHub's "Filter pattern cheat sheet":
//!
//! | Syntax  | Meaning |
//! |---------|---------|
//! | `*`     | zero or more characters, but not `/` |
//! | `**`    | zero or more of any character, `/` included |
//! | `?`     | zero or one of the preceding character |
//! | `+`     | one or more of the preceding character |
//! | `[...]` | one character listed in the brackets or within a range (`[CB]at`, `[0-9a-z]`) |
//! | `!`     | at the very start of a pattern, negates it; anywhere else it is an ordinary character |
//! | `\`     | makes the next special character (`*`, `?`, `+`, `[`, `]`, `\`, `!`) literal |
//!
//! A pattern must match the whole subject: `feature/*` matches
//! `feature/my-branch` but neither `feature/a/b` nor `xfeature/a`. Matching
//! is case-sensitive.
//!
//! Details the cheat sheet leaves open, settled here as GitHub behaves and as
//! its examples require:
//!
//! * `**/` at the start of a pattern or right after a `/` stands for "zero or
//!   more directories", so `**/README.md` matches `README.md` as well as
//!   `js/README.md`, and `docs/**/*.md` matches `docs/README.md`. Elsewhere
//!   `**` is simply "anything".
//! * `?` and `+` repeat the single character, escaped character or bracket
//!   expression before them (`v[12].[0-9]+`). With nothing to repeat (at the
//!   start, after `*`, `**`, `?` or `+`) the pattern is invalid, as it is on
//!   GitHub.
//! * Ranges in brackets must stay within `a-z`, `A-Z` or `0-9` and must not
//!   run backwards; `[]`, an unclosed `[` and a range without an end (`[0-]`)
//!   are invalid. GitHub documents only alphanumerics inside brackets; other
//!   single characters are accepted and match themselves. `-` first in the
//!   brackets is literal. There is no negated class: `[!a]` and `[^a]` list
//!   `!`/`^` as ordinary members.
//! * `\` before a character that is not special is itself literal (a path may
//!   contain a backslash); a `\` ending the pattern escapes nothing and is an
//!   error.
//!
//! # Lists of patterns
//!
//! A [`Filter`] is an ordered list. Patterns are checked in order and the
//! **last pattern that matches decides**: a positive pattern includes the
//! subject, a `!` pattern excludes it, and a later positive pattern can
//! include it again. A subject no pattern matches is not included, so a list
//! made only of `!` patterns includes nothing. GitHub documents that a list
//! with a `!` pattern must also contain at least one positive pattern (and
//! that `branches-ignore`/`tags-ignore`/`paths-ignore` are the way to only
//! exclude); [`Filter::has_positive`] lets a validator report that mistake.
//!
//! [`ref_matches`] and [`paths_match`] apply GitHub's rules for the
//! include/ignore keyword pairs.

use std::fmt;
use std::str::FromStr;

use regex::{Regex, RegexBuilder};

/// Why a pattern could not be compiled. Offsets count characters (not bytes)
/// from the start of the pattern as written, leading `!` included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is the empty string.
    #[error("the pattern is empty")]
    Empty,
    /// The pattern is just `!`.
    #[error("`!` must be followed by a pattern to exclude")]
    LoneNegation,
    /// `?` or `+` with no character before it to repeat.
    #[error(
        "`{quantifier}` at character {offset} has no preceding character to repeat; write `\\{quantifier}` to match it literally"
    )]
    NothingToRepeat {
        /// `?` or `+`.
        quantifier: char,
        /// Where the quantifier is.
        offset: usize,
    },
    /// A `[` without its `]`.
    #[error("`[` at character {offset} is never closed with `]`")]
    UnclosedBracket {
        /// Where the `[` is.
        offset: usize,
    },
    /// `[]`.
    #[error("`[]` at character {offset} is empty; list at least one character")]
    EmptyBracket {
        /// Where the `[` is.
        offset: usize,
    },
    /// A range with no end, as in `[0-]`.
    #[error("the range starting with `{start}-` at character {offset} has no end")]
    MissingRangeEnd {
        /// The first character of the range.
        start: char,
        /// Where the range starts.
        offset: usize,
    },
    /// A range such as `[9-0]`.
    #[error("the range `{start}-{end}` at character {offset} runs backwards")]
    ReversedRange {
        /// The first character of the range.
        start: char,
        /// The last character of the range.
        end: char,
        /// Where the range starts.
        offset: usize,
    },
    /// A range outside `a-z`, `A-Z` and `0-9`, or spanning two of them.
    #[error(
        "the range `{start}-{end}` at character {offset} is not allowed; ranges must lie within a-z, A-Z or 0-9"
    )]
    InvalidRange {
        /// The first character of the range.
        start: char,
        /// The last character of the range.
        end: char,
        /// Where the range starts.
        offset: usize,
    },
    /// A `\` at the very end.
    #[error("`\\` at character {offset} ends the pattern and escapes nothing")]
    TrailingEscape {
        /// Where the `\` is.
        offset: usize,
    },
    /// The compiled pattern exceeds the regex engine's size limit.
    #[error("the pattern is too long to compile")]
    TooLarge,
}

impl PatternError {
    /// The character offset, within the pattern as written, of the problem.
    pub fn offset(&self) -> usize {
        match self {
            PatternError::Empty | PatternError::LoneNegation | PatternError::TooLarge => 0,
            PatternError::NothingToRepeat { offset, .. }
            | PatternError::UnclosedBracket { offset }
            | PatternError::EmptyBracket { offset }
            | PatternError::MissingRangeEnd { offset, .. }
            | PatternError::ReversedRange { offset, .. }
            | PatternError::InvalidRange { offset, .. }
            | PatternError::TrailingEscape { offset } => *offset,
        }
    }
}

/// One compiled filter pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    negated: bool,
    regex: Regex,
}

impl Pattern {
    /// Compiles a pattern written in GitHub's filter syntax (see the
    /// [module documentation](self)).
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let chars: Vec<char> = pattern.chars().collect();
        let (negated, body, base) = match chars.split_first() {
            None => return Err(PatternError::Empty),
            Some(('!', [])) => return Err(PatternError::LoneNegation),
            Some(('!', rest)) => (true, rest, 1),
            Some(_) => (false, chars.as_slice(), 0),
        };
        let source = translate(body, base)?;
        let regex = RegexBuilder::new(&source)
            .build()
            .map_err(|_| PatternError::TooLarge)?;
        Ok(Pattern {
            source: pattern.to_string(),
            negated,
            regex,
        })
    }

    /// The pattern as written, `!` included.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern starts with `!`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Whether the glob matches the whole of `subject`, regardless of
    /// negation: `!docs/**` is a match for `docs/a.md`.
    pub fn is_match(&self, subject: &str) -> bool {
        self.regex.is_match(subject)
    }

    /// The anchored regular expression the glob compiled to.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::new(s)
    }
}

/// Escapes `literal` so that it compiles to a pattern matching exactly that
/// text.
pub fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for (i, c) in literal.chars().enumerate() {
        if matches!(c, '*' | '?' | '+' | '[' | ']' | '\\') || (i == 0 && c == '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Characters that `\` makes literal.
fn is_special(c: char) -> bool {
    matches!(c, '*' | '?' | '+' | '[' | ']' | '\\' | '!')
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// Translates a pattern body (after any `!`) into an anchored regex.
/// `base` is the character offset of `body[0]` in the pattern as written.
fn translate(body: &[char], base: usize) -> Result<String, PatternError> {
    let mut out = String::from(r"(?s)\A(?:");
    // Whether the last thing emitted is a single-character atom that `?` or
    // `+` may repeat.
    let mut repeatable = false;
    let mut i = 0;
    while let Some(&c) = body.get(i) {
        match c {
            '*' if body.get(i + 1) == Some(&'*') => {
                let at_segment_start = i == 0 || body.get(i - 1) == Some(&'/');
                if at_segment_start && body.get(i + 2) == Some(&'/') {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                repeatable = false;
            }
            '*' => {
                out.push_str("[^/]*");
                i += 1;
                repeatable = false;
            }
            '?' | '+' => {
                if !repeatable {
                    return Err(PatternError::NothingToRepeat {
                        quantifier: c,
                        offset: base + i,
                    });
                }
                out.push(c);
                i += 1;
                repeatable = false;
            }
            '[' => {
                i = bracket(body, i, base, &mut out)?;
                repeatable = true;
            }
            '\\' => {
                match body.get(i + 1) {
                    None => return Err(PatternError::TrailingEscape { offset: base + i }),
                    Some(&next) if is_special(next) => {
                        push_literal(&mut out, next);
                        i += 2;
                    }
                    Some(_) => {
                        push_literal(&mut out, '\\');
                        i += 1;
                    }
                }
                repeatable = true;
            }
            _ => {
                push_literal(&mut out, c);
                i += 1;
                repeatable = true;
            }
        }
    }
    out.push_str(r")\z");
    Ok(out)
}

/// Which range group a character belongs to, if any.
fn range_group(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(0),
        'A'..='Z' => Some(1),
        '0'..='9' => Some(2),
        _ => None,
    }
}

/// Reads one member character of a bracket expression at `j` (handling a
/// `\` escape). Returns the character and the index after it.
fn member(body: &[char], j: usize) -> Option<(char, usize)> {
    match body.get(j) {
        Some('\\') => body.get(j + 1).map(|&c| (c, j + 2)),
        Some(&c) => Some((c, j + 1)),
        None => None,
    }
}

/// Translates the bracket expression opening at `start` and returns the
/// index just past its `]`.
fn bracket(
    body: &[char],
    start: usize,
    base: usize,
    out: &mut String,
) -> Result<usize, PatternError> {
    let unclosed = PatternError::UnclosedBracket {
        offset: base + start,
    };
    if body.get(start + 1) == Some(&']') {
        return Err(PatternError::EmptyBracket {
            offset: base + start,
        });
    }
    let mut class = String::from("[");
    let mut j = start + 1;
    loop {
        match body.get(j) {
            None => return Err(unclosed),
            Some(']') => break,
            Some(_) => {}
        }
        let lo_at = j;
        let Some((lo, next)) = member(body, j) else {
            return Err(unclosed);
        };
        j = next;
        if body.get(j) == Some(&'-') {
            match body.get(j + 1) {
                None => return Err(unclosed),
                Some(']') => {
                    return Err(PatternError::MissingRangeEnd {
                        start: lo,
                        offset: base + lo_at,
                    });
                }
                Some(_) => {}
            }
            let Some((hi, after)) = member(body, j + 1) else {
                return Err(unclosed);
            };
            j = after;
            match (range_group(lo), range_group(hi)) {
                (Some(a), Some(b)) if a == b => {
                    if lo > hi {
                        return Err(PatternError::ReversedRange {
                            start: lo,
                            end: hi,
                            offset: base + lo_at,
                        });
                    }
                }
                _ => {
                    return Err(PatternError::InvalidRange {
                        start: lo,
                        end: hi,
                        offset: base + lo_at,
                    });
                }
            }
            push_literal(&mut class, lo);
            class.push('-');
            push_literal(&mut class, hi);
        } else {
            push_literal(&mut class, lo);
        }
    }
    class.push(']');
    out.push_str(&class);
    Ok(j + 1)
}

/// A pattern in a list failed to compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("pattern #{} '{pattern}': {error}", index + 1)]
pub struct FilterError {
    /// The zero-based position of the pattern in the list.
    pub index: usize,
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub error: PatternError,
}

/// An ordered list of patterns, evaluated with GitHub's "last match wins"
/// rule (see the [module documentation](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    patterns: Vec<Pattern>,
}

impl Filter {
    /// Compiles every pattern of the list, failing on the first invalid one.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, FilterError> {
        let patterns = patterns
            .iter()
            .enumerate()
            .map(|(index, p)| {
                Pattern::new(p.as_ref()).map_err(|error| FilterError {
                    index,
                    pattern: p.as_ref().to_string(),
                    error,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Filter { patterns })
    }

    /// A filter from already compiled patterns.
    pub fn from_patterns(patterns: Vec<Pattern>) -> Self {
        Filter { patterns }
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether the list has no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether at least one pattern is positive. GitHub requires one
    /// whenever a list holds `!` patterns; without one nothing can match.
    pub fn has_positive(&self) -> bool {
        self.patterns.iter().any(|p| !p.is_negated())
    }

    /// The pattern that decides `subject`: the last one whose glob matches
    /// it, positive or negated. `None` when no pattern matches.
    pub fn deciding_pattern(&self, subject: &str) -> Option<&Pattern> {
        self.patterns.iter().rev().find(|p| p.is_match(subject))
    }

    /// Whether the list includes `subject`: the last matching pattern is
    /// positive. A subject no pattern matches is not included.
    pub fn matches(&self, subject: &str) -> bool {
        self.deciding_pattern(subject)
            .is_some_and(|p| !p.is_negated())
    }
}

/// Whether a branch or tag name passes a `branches`/`branches-ignore` (or
/// `tags`/`tags-ignore`) pair.
///
/// * Neither given: every name passes.
/// * `include` (`branches`/`tags`): the name must be included by the list,
///   `!` patterns and order taken into account.
/// * `ignore` (`branches-ignore`/`tags-ignore`): the name passes unless the
///   list includes it. A `!` pattern in an ignore list un-ignores names
///   matched by an earlier pattern.
/// * Both given (GitHub rejects this combination for one event; gantry's
///   validator reports it): the name must be included and not ignored.
///
/// Which of the two ref kinds is filtered at all (a `push` with only `tags`
/// does not run for branch pushes) is the caller's decision.
pub fn ref_matches(include: Option<&Filter>, ignore: Option<&Filter>, name: &str) -> bool {
    include.is_none_or(|f| f.matches(name)) && ignore.is_none_or(|f| !f.matches(name))
}

/// Whether the changed files of an event pass a `paths`/`paths-ignore` pair.
///
/// * Neither given: the event passes, whatever changed.
/// * Otherwise, an event that changed no files does not pass: GitHub does
///   not run a path-filtered workflow when the diff is empty.
/// * `include` (`paths`): at least one changed path must be included by the
///   list (`!` patterns and order taken into account).
/// * `ignore` (`paths-ignore`): the workflow runs unless **every** changed
///   path is ignored.
/// * Both given (GitHub rejects this combination): at least one changed path
///   must be included and not ignored.
///
/// GitHub caps the diff at 300 files and always runs when it could not
/// compute the diff (over 1,000 commits, or a timeout); supplying the list of
/// changed files, and deciding what to do without one, is the caller's part.
/// Path filters are not evaluated for tag pushes.
pub fn paths_match(include: Option<&Filter>, ignore: Option<&Filter>, changed: &[&str]) -> bool {
    if include.is_none() && ignore.is_none() {
        return true;
    }
    changed.iter().any(|path| {
        include.is_none_or(|f| f.matches(path)) && ignore.is_none_or(|f| !f.matches(path))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn pat(p: &str) -> Pattern {
        Pattern::new(p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn filter(ps: &[&str]) -> Filter {
        Filter::new(ps).unwrap()
    }

    #[track_caller]
    fn matches_all(p: &str, subjects: &[&str]) {
        let compiled = pat(p);
        for s in subjects {
            assert!(compiled.is_match(s), "`{p}` should match `{s}`");
        }
    }

    #[track_caller]
    fn matches_none(p: &str, subjects: &[&str]) {
        let compiled = pat(p);
        for s in subjects {
            assert!(!compiled.is_match(s), "`{p}` should not match `{s}`");
        }
    }

    // "Patterns to match branches and tags" from the cheat sheet.

    #[test]
    fn single_star_stops_at_slash() {
        matches_all(
            "feature/*",
            &["feature/my-branch", "feature/your-branch", "feature/"],
        );
        matches_none(
            "feature/*",
            &["feature/a/b", "feature", "xfeature/a", "feature/a/"],
        );
    }

    #[test]
    fn double_star_crosses_slashes() {
        matches_all(
            "feature/**",
            &[
                "feature/beta-a/my-branch",
                "feature/your-branch",
                "feature/mona/the/octocat",
            ],
        );
        matches_none("feature/**", &["feature", "features/x"]);
    }

    #[test]
    fn exact_names() {
        matches_all("main", &["main"]);
        matches_none("main", &["main2", "xmain", "Main", "main/x"]);
        matches_all("releases/mona-the-octocat", &["releases/mona-the-octocat"]);
    }

    #[test]
    fn star_alone() {
        matches_all("*", &["main", "releases", ""]);
        matches_none("*", &["releases/10", "a/b"]);
        matches_all("**", &["all/the/branches", "every/tag", "main", ""]);
    }

    #[test]
    fn leading_star() {
        matches_all("*feature", &["mona-feature", "feature", "ver-10-feature"]);
        matches_none("*feature", &["a/feature", "feature-x"]);
    }

    #[test]
    fn prefix_star() {
        matches_all("v2*", &["v2", "v2.0", "v2.9"]);
        matches_none("v2*", &["v1", "v2/x", "xv2"]);
    }

    #[test]
    fn semver_with_classes_and_plus() {
        let p = "v[12].[0-9]+.[0-9]+";
        matches_all(p, &["v1.10.1", "v2.0.0", "v1.0.123"]);
        matches_none(
            p,
            &["v3.0.0", "v1.0", "v1.a.0", "v1..0", "v12.0.0", "v1.0.0-rc"],
        );
    }

    #[test]
    fn docs_push_example_tags() {
        matches_all("v1.*", &["v1.9.1", "v1.", "v1.x"]);
        matches_none("v1.*", &["v1", "v10"]);
    }

    // "Patterns to match file paths" from the cheat sheet.

    #[test]
    fn path_root_star() {
        matches_all("*", &["README.md", "server.rb"]);
        matches_none("*", &["docs/README.md"]);
    }

    #[test]
    fn question_mark_makes_previous_optional() {
        matches_all("*.jsx?", &["page.js", "page.jsx"]);
        matches_none("*.jsx?", &["page.jsxx", "page.j", "a/page.js"]);
    }

    #[test]
    fn js_files() {
        matches_all("*.js", &["app.js", "index.js"]);
        matches_none("*.js", &["js/index.js", "app.jsx"]);
        matches_all("**.js", &["index.js", "js/index.js", "src/js/app.js"]);
        matches_none("**.js", &["index.jsx"]);
    }

    #[test]
    fn docs_directory() {
        matches_all("docs/*", &["docs/README.md", "docs/file.txt"]);
        matches_none("docs/*", &["docs/mona/octocat.txt", "docs", "README.md"]);
        matches_all("docs/**", &["docs/README.md", "docs/mona/octocat.txt"]);
        matches_none("docs/**", &["docs", "dir/docs/x", "documents/x"]);
    }

    #[test]
    fn double_star_slash_matches_zero_directories() {
        matches_all(
            "docs/**/*.md",
            &[
                "docs/README.md",
                "docs/mona/hello-world.md",
                "docs/a/markdown/file.md",
            ],
        );
        matches_none("docs/**/*.md", &["docs/a.txt", "README.md"]);
        matches_all(
            "**/docs/**",
            &[
                "docs/hello.md",
                "dir/docs/my-file.txt",
                "space/docs/plan/space.doc",
            ],
        );
        matches_none("**/docs/**", &["mydocs/x", "docs"]);
        matches_all(
            "**/README.md",
            &["README.md", "js/README.md", "a/b/c/README.md"],
        );
        matches_none("**/README.md", &["xREADME.md", "js/README.mdx"]);
    }

    #[test]
    fn suffix_and_prefix_anywhere() {
        matches_all("**/*src/**", &["a/src/app.js", "my-src/code/js/app.js"]);
        matches_none("**/*src/**", &["src", "a/source/x"]);
        matches_all("**/*-post.md", &["my-post.md", "path/their-post.md"]);
        matches_all(
            "**/migrate-*.sql",
            &[
                "migrate-10909.sql",
                "db/migrate-v1.0.sql",
                "db/sept/migrate-v1.sql",
            ],
        );
        matches_none("**/migrate-*.sql", &["db/migrate-v1/x.sql"]);
    }

    #[test]
    fn negation_then_reinclusion() {
        // '*.md', '!README.md'
        let f = filter(&["*.md", "!README.md"]);
        assert!(f.matches("hello.md"));
        assert!(!f.matches("README.md"));
        assert!(!f.matches("docs/hello.md"));
        // '*.md', '!README.md', 'README*'
        let f = filter(&["*.md", "!README.md", "README*"]);
        assert!(f.matches("hello.md"));
        assert!(f.matches("README.md"));
        assert!(f.matches("README.doc"));
        assert!(!f.matches("docs/hello.md"));
    }

    #[test]
    fn release_branches_without_alpha() {
        let f = filter(&["releases/**", "!releases/**-alpha"]);
        assert!(f.matches("releases/10"));
        assert!(f.matches("releases/beta/mona"));
        assert!(!f.matches("releases/10-alpha"));
        assert!(!f.matches("releases/beta/3-alpha"));
        assert!(!f.matches("main"));
        assert_eq!(
            f.deciding_pattern("releases/10-alpha").map(Pattern::as_str),
            Some("!releases/**-alpha")
        );
        assert_eq!(f.deciding_pattern("main"), None);
    }

    #[test]
    fn order_matters() {
        // A negation before the positive pattern cannot exclude anything.
        let f = filter(&["!releases/**-alpha", "releases/**"]);
        assert!(f.matches("releases/10-alpha"));
    }

    #[test]
    fn only_negative_patterns_match_nothing() {
        let f = filter(&["!main", "!dev"]);
        assert!(!f.has_positive());
        assert!(!f.matches("main"));
        assert!(!f.matches("feature"));
        assert!(filter(&["a", "!b"]).has_positive());
        assert!(!filter(&[]).matches("main"));
    }

    #[test]
    fn sub_project_paths() {
        let f = filter(&["sub-project/**", "!sub-project/docs/**"]);
        assert!(paths_match(Some(&f), None, &["sub-project/index.js"]));
        assert!(paths_match(Some(&f), None, &["sub-project/src/index.js"]));
        assert!(!paths_match(
            Some(&f),
            None,
            &["sub-project/docs/readme.md"]
        ));
        assert!(paths_match(
            Some(&f),
            None,
            &["sub-project/docs/readme.md", "sub-project/a.js"]
        ));
    }

    #[test]
    fn paths_ignore_runs_unless_all_ignored() {
        let ignore = filter(&["docs/**"]);
        assert!(!paths_match(
            None,
            Some(&ignore),
            &["docs/a.md", "docs/b/c.md"]
        ));
        assert!(paths_match(
            None,
            Some(&ignore),
            &["docs/a.md", "src/main.rs"]
        ));
        assert!(paths_match(None, Some(&ignore), &["README.md"]));
    }

    #[test]
    fn paths_any_changed_file_included() {
        let include = filter(&["**.js"]);
        assert!(paths_match(
            Some(&include),
            None,
            &["README.md", "src/app.js"]
        ));
        assert!(!paths_match(Some(&include), None, &["README.md"]));
    }

    #[test]
    fn no_changed_files_means_no_run_with_filters() {
        let f = filter(&["**"]);
        assert!(!paths_match(Some(&f), None, &[]));
        assert!(!paths_match(None, Some(&f), &[]));
        assert!(paths_match(None, None, &[]));
    }

    #[test]
    fn paths_both_lists() {
        let include = filter(&["src/**"]);
        let ignore = filter(&["**.md"]);
        assert!(paths_match(Some(&include), Some(&ignore), &["src/a.rs"]));
        assert!(!paths_match(
            Some(&include),
            Some(&ignore),
            &["src/a.md", "b.rs"]
        ));
    }

    #[test]
    fn ref_filters() {
        let include = filter(&["main", "releases/**"]);
        assert!(ref_matches(Some(&include), None, "main"));
        assert!(ref_matches(Some(&include), None, "releases/1"));
        assert!(!ref_matches(Some(&include), None, "dev"));
        let ignore = filter(&["mona/octocat", "releases/**-alpha"]);
        assert!(!ref_matches(None, Some(&ignore), "mona/octocat"));
        assert!(!ref_matches(None, Some(&ignore), "releases/beta/3-alpha"));
        assert!(ref_matches(None, Some(&ignore), "main"));
        assert!(ref_matches(None, None, "anything/at/all"));
        // `!` in an ignore list un-ignores.
        let ignore = filter(&["releases/**", "!releases/keep"]);
        assert!(!ref_matches(None, Some(&ignore), "releases/1"));
        assert!(ref_matches(None, Some(&ignore), "releases/keep"));
        // Both lists: included and not ignored.
        assert!(ref_matches(Some(&include), Some(&ignore), "main"));
        assert!(!ref_matches(Some(&include), Some(&ignore), "releases/1"));
    }

    #[test]
    fn tags_ignore_example() {
        let ignore = filter(&["v2", "v1.*"]);
        assert!(!ref_matches(None, Some(&ignore), "v2"));
        assert!(!ref_matches(None, Some(&ignore), "v1.9"));
        assert!(ref_matches(None, Some(&ignore), "v3"));
    }

    #[test]
    fn bracket_expressions() {
        matches_all("[CB]at", &["Cat", "Bat"]);
        matches_none("[CB]at", &["cat", "At", "CBat"]);
        matches_all("[1-2]00", &["100", "200"]);
        matches_none("[1-2]00", &["300"]);
        matches_all("[0-9a-z]", &["5", "q"]);
        matches_none("[0-9a-z]", &["Q", "-"]);
        // `-` first is literal; other punctuation is accepted literally.
        matches_all("[-_.]x", &["-x", "_x", ".x"]);
        matches_none("[-_.]x", &["ax"]);
        // No negated classes: `!` and `^` are members.
        matches_all("[!a]", &["!", "a"]);
        matches_all("[^a]", &["^", "a"]);
        matches_none("[^a]", &["b"]);
        // Escapes inside brackets.
        matches_all(r"[\]a]", &["]", "a"]);
    }

    #[test]
    fn negation_only_at_start() {
        let p = pat("!docs/**");
        assert!(p.is_negated());
        assert!(p.is_match("docs/a"));
        let p = pat("a!b");
        assert!(!p.is_negated());
        assert!(p.is_match("a!b"));
        let p = pat(r"\!important");
        assert!(!p.is_negated());
        assert!(p.is_match("!important"));
    }

    #[test]
    fn escapes() {
        matches_all(r"a\*b", &["a*b"]);
        matches_none(r"a\*b", &["axb", "ab"]);
        matches_all(r"v1\+build", &["v1+build"]);
        matches_none(r"v1\+build", &["v11build"]);
        matches_all(r"what\?", &["what?"]);
        matches_none(r"what\?", &["wha", "what"]);
        matches_all(r"\[x]", &["[x]"]);
        matches_all(r"a\\b", &[r"a\b"]);
        // `\` before an ordinary character is a literal backslash.
        matches_all(r"dir\file", &[r"dir\file"]);
        // Escaped characters can be repeated.
        matches_all(r"a\*+", &["a*", "a***"]);
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        matches_all("a.b", &["a.b"]);
        matches_none("a.b", &["axb"]);
        matches_all("(x)|{y}^$", &["(x)|{y}^$"]);
        matches_all("déjà-vu/*", &["déjà-vu/ça"]);
    }

    #[test]
    fn plus_and_question_on_literals() {
        matches_all("ab+c", &["abc", "abbbc"]);
        matches_none("ab+c", &["ac"]);
        matches_all("colou?r", &["color", "colour"]);
        matches_all("a/+b", &["a/b", "a//b"]);
    }

    #[track_caller]
    fn err(p: &str) -> PatternError {
        match Pattern::new(p) {
            Ok(_) => panic!("`{p}` should be invalid"),
            Err(e) => e,
        }
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!(err(""), PatternError::Empty);
        assert_eq!(err("!"), PatternError::LoneNegation);
        assert_eq!(err("[0-9"), PatternError::UnclosedBracket { offset: 0 });
        assert_eq!(err("v[12"), PatternError::UnclosedBracket { offset: 1 });
        assert_eq!(err("!v[12"), PatternError::UnclosedBracket { offset: 2 });
        assert_eq!(err("a[]"), PatternError::EmptyBracket { offset: 1 });
        assert_eq!(
            err("[0-]"),
            PatternError::MissingRangeEnd {
                start: '0',
                offset: 1
            }
        );
        assert_eq!(
            err("x[9-0]"),
            PatternError::ReversedRange {
                start: '9',
                end: '0',
                offset: 2
            }
        );
        assert_eq!(
            err("[a-Z]"),
            PatternError::InvalidRange {
                start: 'a',
                end: 'Z',
                offset: 1
            }
        );
        assert_eq!(
            err("[A-z]"),
            PatternError::InvalidRange {
                start: 'A',
                end: 'z',
                offset: 1
            }
        );
        assert_eq!(
            err("[!-~]"),
            PatternError::InvalidRange {
                start: '!',
                end: '~',
                offset: 1
            }
        );
        assert_eq!(
            err("?a"),
            PatternError::NothingToRepeat {
                quantifier: '?',
                offset: 0
            }
        );
        assert_eq!(
            err("!+a"),
            PatternError::NothingToRepeat {
                quantifier: '+',
                offset: 1
            }
        );
        assert_eq!(
            err("a*+"),
            PatternError::NothingToRepeat {
                quantifier: '+',
                offset: 2
            }
        );
        assert_eq!(
            err("**?"),
            PatternError::NothingToRepeat {
                quantifier: '?',
                offset: 2
            }
        );
        assert_eq!(
            err("a+?"),
            PatternError::NothingToRepeat {
                quantifier: '?',
                offset: 2
            }
        );
        assert_eq!(err(r"abc\"), PatternError::TrailingEscape { offset: 3 });
        assert_eq!(err("[a-"), PatternError::UnclosedBracket { offset: 0 });
        assert_eq!(err(r"[a\"), PatternError::UnclosedBracket { offset: 0 });
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let e = err("é[");
        assert_eq!(e.offset(), 1);
        assert!(e.to_string().contains("character 1"), "{e}");
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            err("[0-9").to_string(),
            "`[` at character 0 is never closed with `]`"
        );
        assert_eq!(
            err("+x").to_string(),
            "`+` at character 0 has no preceding character to repeat; write `\\+` to match it literally"
        );
        let e = Filter::new(&["main", "[x"]).unwrap_err();
        assert_eq!(e.index, 1);
        assert_eq!(
            e.to_string(),
            "pattern #2 '[x': `[` at character 0 is never closed with `]`"
        );
    }

    #[test]
    fn escape_round_trips() {
        for s in ["!x", "a*b?c+[d]\\e", "plain", "v1.0", "x!y"] {
            let p = pat(&escape(s));
            assert!(!p.is_negated(), "{s}");
            assert!(p.is_match(s), "{s}");
        }
    }

    #[test]
    fn filter_from_vectors() {
        let borrowed: Vec<&str> = vec!["main", "!dev"];
        assert!(Filter::new(&borrowed).unwrap().matches("main"));
        let owned: Vec<String> = vec!["v*".to_string()];
        let f = Filter::new(&owned).unwrap();
        assert_eq!(f.patterns().len(), 1);
        assert!(!f.is_empty());
        assert_eq!(Filter::from_patterns(vec![pat("v*")]), f);
    }

    #[test]
    fn pattern_accessors() {
        let p: Pattern = "!a/*".parse().unwrap();
        assert_eq!(p.as_str(), "!a/*");
        assert_eq!(p.to_string(), "!a/*");
        assert!(p.regex().is_match("a/b"));
        assert_eq!(p, pat("!a/*"));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn compiling_never_panics(s in "\\PC*") {
                let _ = Pattern::new(&s);
            }

            #[test]
            fn compiling_glob_alphabet_never_panics(s in "[!*?+\\[\\]\\\\a-c0-2/\\-.]{0,24}") {
                match Pattern::new(&s) {
                    Ok(p) => {
                        let _ = p.is_match("a/b-1.c");
                    }
                    Err(e) => prop_assert!(e.offset() <= s.chars().count()),
                }
            }

            #[test]
            fn escaped_literal_matches_itself(s in "\\PC{1,24}") {
                let p = Pattern::new(&escape(&s));
                prop_assert!(p.is_ok(), "{:?}", p.err());
                if let Ok(p) = p {
                    prop_assert!(p.is_match(&s));
                    prop_assert!(!p.is_negated());
                }
            }
        }
    }
}
