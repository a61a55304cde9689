//! `uses: OWNER/REPO[/PATH]@REF`: the remote action a step names, read and
//! checked as text before anything touches the disk or runs `git`.

use std::fmt;

/// Why a `uses:` (or an `actions add` argument) is not a remote action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsesError {
    #[error("`{uses}` has no `@REF` (a tag, a branch or a full commit SHA)")]
    NoRef { uses: String },
    #[error("`{uses}` is not OWNER/REPO[/PATH]@REF")]
    Shape { uses: String },
    #[error("`{uses}`: `{part}` is not a valid {what}")]
    Part {
        uses: String,
        part: String,
        what: &'static str,
    },
}

/// A remote action: `owner/repo`, an optional folder inside it, and the
/// ref it was asked at. Owner and repository are kept as written; the
/// store compares them without regard to case, as GitHub does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteUses {
    pub owner: String,
    pub repo: String,
    /// The action's folder inside the repository (`/`-separated), if any.
    pub path: Option<String>,
    pub reference: String,
}

impl RemoteUses {
    /// Reads `uses`. `Ok(None)` for what is not a remote action at all:
    /// local (`./x`, `$/x`) and `docker://` references.
    pub fn parse(uses: &str) -> Result<Option<RemoteUses>, UsesError> {
        let uses = uses.trim();
        if uses.starts_with("./") || uses.starts_with("$/") || uses.starts_with("docker://") {
            return Ok(None);
        }
        RemoteUses::parse_remote(uses).map(Some)
    }

    /// Reads `OWNER/REPO[/PATH]@REF`, refusing anything else.
    pub fn parse_remote(uses: &str) -> Result<RemoteUses, UsesError> {
        let Some((name, reference)) = uses.split_once('@') else {
            return Err(UsesError::NoRef { uses: uses.into() });
        };
        let part = |part: &str, what| UsesError::Part {
            uses: uses.into(),
            part: part.into(),
            what,
        };
        let mut parts = name.split('/');
        let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
            return Err(UsesError::Shape { uses: uses.into() });
        };
        if !valid_name(owner) {
            return Err(part(owner, "owner name"));
        }
        if !valid_name(repo) {
            return Err(part(repo, "repository name"));
        }
        let rest: Vec<&str> = parts.collect();
        for p in &rest {
            if p.is_empty() || *p == "." || *p == ".." || p.contains('\\') || has_control(p) {
                return Err(part(p, "path part"));
            }
        }
        if !valid_ref(reference) {
            return Err(part(reference, "ref"));
        }
        Ok(RemoteUses {
            owner: owner.into(),
            repo: repo.into(),
            path: (!rest.is_empty()).then(|| rest.join("/")),
            reference: reference.into(),
        })
    }

    /// `owner/repo@ref`: what `gantry actions add` takes.
    pub fn repo_ref(&self) -> String {
        format!("{}/{}@{}", self.owner, self.repo, self.reference)
    }

    /// The same repository and ref, without a path.
    pub fn without_path(&self) -> RemoteUses {
        RemoteUses {
            path: None,
            ..self.clone()
        }
    }

    /// Whether the ref is a full commit SHA (40 hex digits).
    pub fn is_full_sha(&self) -> bool {
        is_full_sha(&self.reference)
    }
}

impl fmt::Display for RemoteUses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)?;
        if let Some(path) = &self.path {
            write!(f, "/{path}")?;
        }
        write!(f, "@{}", self.reference)
    }
}

/// Whether `text` is a full commit SHA (40 hex digits).
pub fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A GitHub owner or repository name: letters, digits, `-`, `_`, `.`;
/// never `.` or `..` (it becomes a folder name in the store).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A tag, branch or SHA as git allows it (`git check-ref-format`), and
/// never something `git` could read as an option.
fn valid_ref(reference: &str) -> bool {
    !reference.is_empty()
        && reference.len() <= 255
        && !reference.starts_with('-')
        && !reference.starts_with('/')
        && !reference.ends_with('/')
        && !reference.ends_with('.')
        && !reference.ends_with(".lock")
        && !reference.contains("..")
        && !reference.contains("@{")
        && !reference.contains("//")
        && !reference.split('/').any(|p| p.starts_with('.'))
        && !reference.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_owner_repo_path_and_ref() {
        let u = RemoteUses::parse("docker/setup-buildx-action@v3")
            .unwrap()
            .unwrap();
        assert_eq!(
            (u.owner.as_str(), u.repo.as_str()),
            ("docker", "setup-buildx-action")
        );
        assert_eq!(u.path, None);
        assert_eq!(u.reference, "v3");
        let u = RemoteUses::parse("github/codeql-action/init@v3")
            .unwrap()
            .unwrap();
        assert_eq!(u.path.as_deref(), Some("init"));
        assert_eq!(u.to_string(), "github/codeql-action/init@v3");
        assert_eq!(u.repo_ref(), "github/codeql-action@v3");
    }

    #[test]
    fn local_and_docker_are_not_remote() {
        assert_eq!(RemoteUses::parse("./.github/actions/x").unwrap(), None);
        assert_eq!(RemoteUses::parse("docker://alpine:3").unwrap(), None);
    }

    #[test]
    fn refuses_what_could_leave_the_store_or_reach_git_as_an_option() {
        for bad in [
            "a/b",
            "a@v1",
            "../b@v1",
            "a/..@v1",
            "a/b/../../c@v1",
            "a/b@-v1",
            "a/b@--upload-pack=x",
            "a/b@v1..v2",
            "a/b@v 1",
            "a/b@",
            "a/b/@v1",
        ] {
            assert!(RemoteUses::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
