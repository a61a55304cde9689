//! What a manifest's requirement admits: Cargo requirements and npm
//! ranges through the `semver` crate (npm's `||`, hyphen ranges and
//! space-separated comparators turned into its comma form), PEP 440
//! specifiers through [`Specifiers`], Poetry's `^`/`~` turned into PEP 440
//! bounds.

use gantry_sbom::manifest::{Declared, Syntax};

use crate::version::Specifiers;

/// A requirement gantry can evaluate.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// Any of these SemVer requirements (npm's `||` alternatives).
    SemVer(Vec<semver::VersionReq>),
    /// Any of these PEP 440 specifier lists (Poetry's `||`).
    Pep440(Vec<Specifiers>),
}

/// A requirement that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: `{requirement}` for {name} is not a requirement gantry can read: {message}")]
pub struct RequirementError {
    pub file: String,
    pub name: String,
    pub requirement: String,
    pub message: String,
}

impl Requirement {
    /// Reads a declared requirement.
    pub fn parse(d: &Declared) -> Result<Requirement, RequirementError> {
        let err = |message: String| RequirementError {
            file: d.file.clone(),
            name: d.name.clone(),
            requirement: d.requirement.clone(),
            message,
        };
        let text = d.requirement.trim();
        match d.syntax {
            Syntax::Cargo => semver::VersionReq::parse(text)
                .map(|r| Requirement::SemVer(vec![r]))
                .map_err(|e| err(e.to_string())),
            Syntax::Npm => npm(text).map(Requirement::SemVer).map_err(err),
            Syntax::Pep440 => Specifiers::parse(text)
                .map(|s| Requirement::Pep440(vec![s]))
                .map_err(|e| err(e.to_string())),
            Syntax::Poetry => text
                .split("||")
                .map(|alt| {
                    poetry(alt.trim())
                        .and_then(|s| Specifiers::parse(&s).map_err(|e| e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Requirement::Pep440)
                .map_err(err),
        }
    }

    /// Whether `version` satisfies the requirement.
    pub fn admits(&self, version: &str) -> bool {
        match self {
            Requirement::SemVer(alts) => crate::version::semver_parse(version)
                .is_some_and(|v| alts.iter().any(|r| r.matches(&v))),
            Requirement::Pep440(alts) => alts.iter().any(|s| s.contains(version)),
        }
    }
}

/// npm's range grammar in the `semver` crate's comma form.
fn npm(text: &str) -> Result<Vec<semver::VersionReq>, String> {
    text.split("||")
        .map(|alt| {
            let alt = alt.trim();
            if alt.is_empty() || matches!(alt, "*" | "x" | "X" | "latest") {
                return Ok(semver::VersionReq::STAR);
            }
            let comma = match alt.split_once(" - ") {
                Some((lo, hi)) => format!(">={}, <={}", lo.trim(), hi.trim()),
                None => {
                    // `>= 1.2 < 2` → `>=1.2, <2`: glue operators to their versions.
                    let mut parts: Vec<String> = Vec::new();
                    let mut pending = String::new();
                    for tok in alt.split_whitespace() {
                        if tok
                            .chars()
                            .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
                        {
                            pending.push_str(tok);
                        } else {
                            parts.push(format!("{pending}{}", tok.trim_start_matches('v')));
                            pending.clear();
                        }
                    }
                    if !pending.is_empty() {
                        return Err(format!("`{pending}` has no version"));
                    }
                    parts.join(", ")
                }
            };
            semver::VersionReq::parse(&comma).map_err(|e| e.to_string())
        })
        .collect()
}

/// Poetry's `^X.Y`, `~X.Y`, `X.*`, bare `X.Y` (exact) or PEP 440
/// specifiers, as PEP 440 specifiers.
fn poetry(text: &str) -> Result<String, String> {
    let parts = |v: &str| -> Result<Vec<u64>, String> {
        v.trim()
            .split('.')
            .map(|n| {
                n.parse::<u64>()
                    .map_err(|_| format!("`{v}` is not a release number"))
            })
            .collect()
    };
    let join = |n: &[u64]| n.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
    if text.is_empty() || text == "*" {
        return Ok(String::new());
    }
    if let Some(v) = text.strip_prefix('^') {
        let n = parts(v)?;
        // The first non-zero number is the one that may not change.
        let fixed = n
            .iter()
            .position(|x| *x != 0)
            .unwrap_or(n.len().saturating_sub(1));
        let mut upper: Vec<u64> = n[..=fixed.min(n.len() - 1)].to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        return Ok(format!(">={},<{}", v.trim(), join(&upper)));
    }
    if let Some(v) = text.strip_prefix('~').filter(|v| !v.starts_with('=')) {
        let n = parts(v)?;
        let mut upper: Vec<u64> = if n.len() == 1 {
            n.clone()
        } else {
            n[..2].to_vec()
        };
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        return Ok(format!(">={},<{}", v.trim(), join(&upper)));
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(format!("=={text}"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn req(syntax: Syntax, text: &str) -> Requirement {
        Requirement::parse(&Declared {
            name: "p".into(),
            requirement: text.into(),
            syntax,
            file: "m".into(),
            line: None,
        })
        .unwrap()
    }

    #[test]
    fn cargo_and_npm_requirements() {
        let r = req(Syntax::Cargo, "1.2");
        assert!(r.admits("1.9.0") && !r.admits("2.0.1") && !r.admits("1.1.0"));
        let r = req(Syntax::Cargo, "=0.6.9");
        assert!(!r.admits("0.6.10"));
        let r = req(Syntax::Npm, "^1.2");
        assert!(r.admits("1.3.0") && !r.admits("2.0.1"));
        let r = req(Syntax::Npm, ">= 1.2 < 2 || 3.x");
        assert!(r.admits("1.5.0") && r.admits("3.1.0") && !r.admits("2.0.0"));
        let r = req(Syntax::Npm, "1.0.0 - 1.4");
        assert!(r.admits("1.4.9") && !r.admits("1.5.0"));
        let r = req(Syntax::Npm, "~4.17.15");
        assert!(r.admits("4.17.21") && !r.admits("4.18.0"));
        assert!(req(Syntax::Npm, "*").admits("9.9.9"));
    }

    #[test]
    fn poetry_constraints() {
        let r = req(Syntax::Poetry, "^3.1");
        assert!(r.admits("3.1.4") && r.admits("3.9") && !r.admits("4.0") && !r.admits("3.0"));
        let r = req(Syntax::Poetry, "^0.2.3");
        assert!(r.admits("0.2.9") && !r.admits("0.3.0"));
        let r = req(Syntax::Poetry, "~2.0");
        assert!(r.admits("2.0.5") && !r.admits("2.1"));
        let r = req(Syntax::Poetry, ">=1.0,<2 || ^3.0");
        assert!(r.admits("1.5") && r.admits("3.2") && !r.admits("2.5"));
        let r = req(Syntax::Pep440, "~=2.10");
        assert!(r.admits("2.11") && !r.admits("3.0"));
    }
}
