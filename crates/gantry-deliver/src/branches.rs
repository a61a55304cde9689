//! Deployment branch and tag policies, as GitHub's environments have them.
//!
//! A pattern names a branch (`main`, `release/*`) or, after `tags/`, a tag
//! (`tags/v*`). Patterns are matched as GitHub matches them: Ruby's
//! `File.fnmatch` with `FNM_PATHNAME`, so `*` and `?` never match `/`
//! (`release/*` matches `release/1.0`, not `release/1.0/hotfix`; write
//! `release/*/*` for that), `**/` matches any number of folders, and
//! `[...]` is a set of characters. A branch pattern never allows a tag and
//! a tag pattern never a branch.

use std::fmt;

use regex::Regex;
use serde::Serialize;

use gantry_promote::located::Location;

/// Whether a pattern is about branches or tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    fn word(self) -> &'static str {
        match self {
            RefKind::Branch => "Branch",
            RefKind::Tag => "Tag",
        }
    }
}

/// A ref as a policy sees it: a branch or tag name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefName {
    pub kind: RefKind,
    pub name: String,
}

impl RefName {
    /// `refs/heads/main` → branch `main`, `refs/tags/v1` → tag `v1`; a
    /// short name is a branch.
    pub fn parse(git_ref: &str) -> RefName {
        if let Some(name) = git_ref.strip_prefix("refs/tags/") {
            RefName {
                kind: RefKind::Tag,
                name: name.to_string(),
            }
        } else {
            RefName {
                kind: RefKind::Branch,
                name: git_ref
                    .strip_prefix("refs/heads/")
                    .unwrap_or(git_ref)
                    .to_string(),
            }
        }
    }
}

/// One pattern of `deployment_branches`.
#[derive(Debug, Clone)]
pub struct RefPattern {
    /// As written: `release/*`, `tags/v*`.
    pub text: String,
    pub kind: RefKind,
    regex: Regex,
    pub location: Location,
}

impl RefPattern {
    /// Compiles `text` (`tags/` in front makes it a tag pattern).
    pub fn new(text: &str, location: Location) -> Result<RefPattern, String> {
        let (kind, glob) = match text.strip_prefix("tags/") {
            Some(rest) => (RefKind::Tag, rest),
            None => (RefKind::Branch, text),
        };
        if glob.is_empty() {
            return Err("the pattern is empty".into());
        }
        let regex = Regex::new(&fnmatch_regex(glob)?).map_err(|e| e.to_string())?;
        Ok(RefPattern {
            text: text.to_string(),
            kind,
            regex,
            location,
        })
    }

    /// Whether the pattern allows `r`.
    pub fn is_match(&self, r: &RefName) -> bool {
        self.kind == r.kind && self.regex.is_match(&r.name)
    }
}

/// `File.fnmatch(pattern, name, File::FNM_PATHNAME)` as an anchored regex.
fn fnmatch_regex(glob: &str) -> Result<String, String> {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') && chars.get(i + 2) == Some(&'/') => {
                // `**/`: zero or more whole folders.
                out.push_str("(?:[^/]*/)*");
                i += 3;
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                let close = chars[i + 1..]
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, c)| **c == ']')
                    .map(|(j, _)| i + 1 + j)
                    .ok_or("a `[` has no closing `]`")?;
                let mut set = String::from("[");
                let mut inner = &chars[i + 1..close];
                if let Some(('!' | '^', rest)) = inner.split_first() {
                    set.push('^');
                    inner = rest;
                }
                for ch in inner {
                    if matches!(ch, '\\' | '[' | ']' | '^' | '&' | '~') {
                        set.push('\\');
                    }
                    set.push(*ch);
                }
                set.push(']');
                out.push_str(&set);
                i = close + 1;
                continue;
            }
            '\\' if i + 1 < chars.len() => {
                out.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 2;
                continue;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out.push('$');
    Ok(out)
}

/// Which refs may deploy to an environment.
#[derive(Debug, Clone, Default)]
pub enum BranchPolicy {
    /// No `deployment_branches`: every branch and tag.
    #[default]
    All,
    /// Only refs one of these patterns allows.
    Patterns(Vec<RefPattern>),
}

/// Why a ref may not deploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refused {
    pub environment: String,
    pub kind: RefKind,
    pub name: String,
    /// The patterns that were tried, as written.
    pub allowed: Vec<String>,
    /// Where `deployment_branches` is written.
    pub location: Option<Location>,
    /// No ref at all was known.
    pub no_ref: bool,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.no_ref {
            write!(
                f,
                "the run has no branch or tag, and environment `{}` allows only some to deploy",
                self.environment
            )?;
        } else {
            // GitHub's wording.
            write!(
                f,
                "{} \"{}\" is not allowed to deploy to {} due to environment protection rules",
                self.kind.word(),
                self.name,
                self.environment
            )?;
        }
        write!(f, ": deployment_branches allows only ")?;
        let list: Vec<String> = self.allowed.iter().map(|p| format!("`{p}`")).collect();
        write!(f, "{}", list.join(", "))?;
        if let Some(at) = &self.location {
            write!(f, " ({at})")?;
        }
        Ok(())
    }
}

impl BranchPolicy {
    /// Whether `git_ref` (`refs/heads/main`, `refs/tags/v1`, `main`) may
    /// deploy to `environment`; the pattern that allowed it, if one did.
    pub fn check(
        &self,
        environment: &str,
        git_ref: Option<&str>,
        location: Option<&Location>,
    ) -> Result<Option<&RefPattern>, Refused> {
        let BranchPolicy::Patterns(patterns) = self else {
            return Ok(None);
        };
        let refused = |kind, name: String, no_ref| Refused {
            environment: environment.to_string(),
            kind,
            name,
            allowed: patterns.iter().map(|p| p.text.clone()).collect(),
            location: location.cloned(),
            no_ref,
        };
        let Some(git_ref) = git_ref else {
            return Err(refused(RefKind::Branch, String::new(), true));
        };
        let r = RefName::parse(git_ref);
        match patterns.iter().find(|p| p.is_match(&r)) {
            Some(p) => Ok(Some(p)),
            None => Err(refused(r.kind, r.name, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at() -> Location {
        Location {
            file: ".gantry/environments.yml".into(),
            line: 3,
            column: 7,
        }
    }

    fn policy(patterns: &[&str]) -> BranchPolicy {
        BranchPolicy::Patterns(
            patterns
                .iter()
                .map(|p| RefPattern::new(p, at()).unwrap())
                .collect(),
        )
    }

    fn allows(patterns: &[&str], git_ref: &str) -> bool {
        policy(patterns)
            .check("production", Some(git_ref), None)
            .is_ok()
    }

    // The examples of GitHub's "Deployment branches and tags" docs.
    #[test]
    fn release_star_matches_one_level_only() {
        assert!(allows(&["release/*"], "refs/heads/release/10"));
        assert!(allows(&["release/*"], "release/v1.2"));
        assert!(!allows(&["release/*"], "refs/heads/release/10/hotfix"));
        assert!(allows(&["release/*/*"], "refs/heads/release/10/hotfix"));
        assert!(!allows(&["release/*"], "refs/heads/releases/10"));
    }

    #[test]
    fn exact_names_match_only_themselves() {
        assert!(allows(&["main"], "refs/heads/main"));
        assert!(!allows(&["main"], "refs/heads/main2"));
        assert!(!allows(&["main"], "refs/heads/feature/main"));
    }

    #[test]
    fn tag_patterns_match_tags_and_branch_patterns_branches() {
        assert!(allows(&["tags/v*"], "refs/tags/v1.2.3"));
        assert!(!allows(&["tags/v*"], "refs/heads/v1.2.3"));
        assert!(!allows(&["v*"], "refs/tags/v1.2.3"));
        assert!(!allows(&["tags/v*"], "refs/tags/release-1"));
        assert!(allows(&["main", "tags/v*"], "refs/tags/v2"));
    }

    #[test]
    fn question_marks_sets_and_double_stars() {
        assert!(allows(&["v?"], "v1"));
        assert!(!allows(&["v?"], "v10"));
        assert!(!allows(&["a?b"], "a/b"));
        assert!(allows(&["release-[0-9]"], "release-7"));
        assert!(!allows(&["release-[0-9]"], "release-x"));
        assert!(allows(&["release-[!0-9]"], "release-x"));
        assert!(allows(&["**/hotfix"], "hotfix"));
        assert!(allows(&["**/hotfix"], "a/b/hotfix"));
        assert!(!allows(&["**/hotfix"], "a/b/hotfixes"));
        assert!(allows(&["feat\\*"], "feat*"));
        assert!(!allows(&["feat\\*"], "feature"));
    }

    #[test]
    fn a_refusal_names_the_ref_and_the_rule() {
        let p = policy(&["main", "tags/v*"]);
        let refused = p
            .check("production", Some("refs/heads/feature/x"), Some(&at()))
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Branch \"feature/x\" is not allowed to deploy to production due to environment \
             protection rules: deployment_branches allows only `main`, `tags/v*` \
             (.gantry/environments.yml:3:7)"
        );
        let tag = p
            .check("production", Some("refs/tags/x1"), None)
            .unwrap_err();
        assert!(tag.to_string().starts_with("Tag \"x1\""), "{tag}");
        assert!(p.check("production", None, None).unwrap_err().no_ref);
        assert!(BranchPolicy::All.check("x", None, None).is_ok());
    }

    #[test]
    fn unclosed_sets_and_empty_patterns_are_errors() {
        assert!(RefPattern::new("release-[0-9", at()).is_err());
        assert!(RefPattern::new("tags/", at()).is_err());
    }
}
