//! `go.mod` with `go.sum` beside it for hashes. Requirements are pinned
//! module versions; `// indirect` marks transitive ones; `replace`
//! directives substitute the module (a local path replacement is
//! reported as unpinned). The `toolchain` (or a full `go` version) becomes
//! the `stdlib` component, as Go's vulnerability database names it.

use std::collections::HashMap;
use std::path::Path;

use super::{Input, LockfileFormat, Parsed, file_name};
use crate::model::{Component, Ecosystem, Hash, HashAlgorithm, Scope};

pub(crate) struct GoMod;

impl LockfileFormat for GoMod {
    fn name(&self) -> &'static str {
        "go.mod"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Go
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "go.mod"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let mut requires: Vec<(usize, String, String, bool)> = Vec::new();
        // (old path, old version or "") -> (line, new path, new version or "")
        let mut replaces: HashMap<(String, String), (usize, String, String)> = HashMap::new();
        let mut go_version: Option<(usize, String)> = None;
        let mut toolchain: Option<(usize, String)> = None;
        let mut block: Option<String> = None;
        for (i, raw) in input.text.lines().enumerate() {
            let line_no = i + 1;
            let (code, comment) = match raw.find("//") {
                Some(at) => (&raw[..at], raw[at + 2..].trim()),
                None => (raw, ""),
            };
            let code = code.trim();
            if code.is_empty() {
                continue;
            }
            let (verb, args) = match &block {
                Some(b) if code == ")" => {
                    let _ = b;
                    block = None;
                    continue;
                }
                Some(b) => (b.clone(), code.to_string()),
                None => {
                    let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                    let rest = rest.trim();
                    if rest == "(" {
                        block = Some(verb.to_string());
                        continue;
                    }
                    (verb.to_string(), rest.to_string())
                }
            };
            let words: Vec<String> = args.split_whitespace().map(unquote).collect();
            match verb.as_str() {
                "module" | "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
                "go" => go_version = words.first().map(|v| (line_no, v.clone())),
                "toolchain" => toolchain = words.first().map(|v| (line_no, v.clone())),
                "require" => match words.as_slice() {
                    [path, version] => {
                        let indirect = comment.split(';').any(|c| c.trim() == "indirect");
                        requires.push((line_no, path.clone(), version.clone(), indirect));
                    }
                    _ => out.warn(
                        input,
                        Some(line_no),
                        format!("cannot read require `{args}`"),
                    ),
                },
                "replace" => {
                    let Some(arrow) = words.iter().position(|w| w == "=>") else {
                        out.warn(
                            input,
                            Some(line_no),
                            format!("cannot read replace `{args}`"),
                        );
                        continue;
                    };
                    let (old, new) = words.split_at(arrow);
                    let new = &new[1..];
                    let (Some(old_path), Some(new_path)) = (old.first(), new.first()) else {
                        out.warn(
                            input,
                            Some(line_no),
                            format!("cannot read replace `{args}`"),
                        );
                        continue;
                    };
                    replaces.insert(
                        (old_path.clone(), old.get(1).cloned().unwrap_or_default()),
                        (
                            line_no,
                            new_path.clone(),
                            new.get(1).cloned().unwrap_or_default(),
                        ),
                    );
                }
                other => out.warn(
                    input,
                    Some(line_no),
                    format!("unknown directive `{other}` ignored"),
                ),
            }
        }
        let sums = input
            .sibling_or_warn("go.sum", out)
            .map(|t| read_go_sum(&t))
            .unwrap_or_default();
        for (line, path, version, indirect) in requires {
            let replacement = replaces
                .get(&(path.clone(), version.clone()))
                .or_else(|| replaces.get(&(path.clone(), String::new())));
            let mut c = match replacement {
                Some((_, new_path, new_version)) if new_version.is_empty() => {
                    // A local folder: nothing to look up.
                    Component::unpinned(
                        Ecosystem::Go,
                        &path,
                        &format!("=> {new_path}"),
                        input.at(line),
                    )
                    .with_property("replaced-by", new_path.clone())
                }
                Some((_, new_path, new_version)) => {
                    Component::new(Ecosystem::Go, new_path, Some(new_version), input.at(line))
                        .with_property("replaces", format!("{path} {version}"))
                }
                None => Component::new(Ecosystem::Go, &path, Some(&version), input.at(line)),
            };
            if let Some(v) = &c.version
                && let Some(h) = sums.get(&(c.name.clone(), v.clone()))
            {
                c.add_hash(h.clone());
            }
            c.direct = !indirect;
            c.scope = Scope::Runtime;
            out.components.push(c);
        }
        let stdlib = toolchain
            .and_then(|(line, t)| t.strip_prefix("go").map(|v| (line, v.to_string())))
            .or(go_version.filter(|(_, v)| v.split('.').count() >= 3));
        if let Some((line, v)) = stdlib
            && let Some(v) = go_semver(&v)
        {
            out.components.push(
                Component::new(Ecosystem::Go, "stdlib", Some(&v), input.at(line)).with_direct(true),
            );
        }
    }
}

fn unquote(word: &str) -> String {
    word.trim_matches(|c| c == '"' || c == '`').to_string()
}

/// `go.sum`: (module, version) -> the `h1:` hash of the module's files
/// (a SHA-256 over the module's file hashes).
fn read_go_sum(text: &str) -> HashMap<(String, String), Hash> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(module), Some(version), Some(hash)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if version.ends_with("/go.mod") {
            continue;
        }
        if let Some(b64) = hash.strip_prefix("h1:")
            && let Some(h) = Hash::from_base64(HashAlgorithm::Sha256, b64)
        {
            out.insert((module.to_string(), version.to_string()), h);
        }
    }
    out
}

/// A Go release (`1.21.3`, `1.22rc1`) as the semantic version Go's
/// vulnerability database uses for `stdlib` (`v1.21.3`, `v1.22.0-rc.1`).
pub(crate) fn go_semver(release: &str) -> Option<String> {
    let release = release.trim().trim_start_matches("go");
    let split = release
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(release.len());
    let (nums, pre) = release.split_at(split);
    let mut parts: Vec<&str> = nums.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut v = format!("v{}", parts.join("."));
    if !pre.is_empty() {
        let kind = pre.trim_end_matches(|c: char| c.is_ascii_digit());
        let n = &pre[kind.len()..];
        v.push('-');
        v.push_str(kind);
        if !n.is_empty() {
            v.push('.');
            v.push_str(n);
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_releases_become_semver() {
        assert_eq!(go_semver("1.21.3").as_deref(), Some("v1.21.3"));
        assert_eq!(go_semver("go1.22").as_deref(), Some("v1.22.0"));
        assert_eq!(go_semver("1.22rc1").as_deref(), Some("v1.22.0-rc.1"));
        assert_eq!(go_semver("banana"), None);
    }
}
