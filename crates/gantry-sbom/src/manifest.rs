//! The manifests beside a lockfile and the version requirements they
//! declare: what a fix must still satisfy. `Cargo.toml` (with its
//! workspace members and `workspace = true` entries) beside `Cargo.lock`,
//! `package.json` beside `package-lock.json`, `yarn.lock` and
//! `pnpm-lock.yaml`, `pyproject.toml` beside `uv.lock` and `poetry.lock`
//! (PEP 621 `[project]`, `[dependency-groups]` and Poetry's tables), and
//! `requirements.in` beside a pip-compiled `requirements.txt`.
//!
//! Requirements are kept as text with their [`Syntax`]; what they mean is
//! gantry-vuln's business (it owns the version orders). Reading follows
//! the lockfile readers' rules: only regular files inside the root, at
//! most [`crate::MAX_FILE_BYTES`] each, a refusal or a parse error is a
//! [`Warning`].

use std::path::Path;

use serde::Serialize;

use crate::model::{Ecosystem, Warning, pep503};

/// How a requirement is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    /// Cargo's version requirements (`1.2` means `^1.2`).
    Cargo,
    /// npm's ranges (`^1.2`, `1.x`, `>=1 <2`, `a - b`, `||`).
    Npm,
    /// PEP 440 version specifiers (`>=2.25,<3`, `~=1.4`).
    Pep440,
    /// Poetry's constraints (`^3.1`, `~2.0`, or PEP 440 specifiers).
    Poetry,
}

/// One dependency a manifest declares with a version requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declared {
    /// The package's name as its ecosystem compares names.
    pub name: String,
    pub requirement: String,
    pub syntax: Syntax,
    /// The manifest, relative to the scanned root, `/`-separated.
    pub file: String,
    /// 1-based, where the name was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The requirements the manifests beside one lockfile declare.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// The manifests read, relative to the root.
    pub files: Vec<String>,
    pub declared: Vec<Declared>,
    pub warnings: Vec<Warning>,
}

impl Manifests {
    /// Every requirement declared for `name` (normalised by the caller's
    /// ecosystem).
    pub fn for_package<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Declared> + 'a {
        self.declared.iter().filter(move |d| d.name == name)
    }
}

/// Reads the manifests that belong to the lockfile `lockfile` (relative to
/// `root`, as component locations give it).
pub fn manifests_for(root: &Path, lockfile: &str) -> Manifests {
    let mut out = Manifests::default();
    let rel = Path::new(lockfile);
    let dir = rel.parent().unwrap_or(Path::new(""));
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name {
        "Cargo.lock" => cargo(root, dir, &mut out),
        "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => {
            package_json(root, dir, &mut out);
        }
        "uv.lock" | "poetry.lock" => pyproject(root, dir, &mut out),
        n if n.starts_with("requirements") && n.ends_with(".txt") => {
            let input = format!("{}.in", n.trim_end_matches(".txt"));
            requirements_in(root, dir, &input, &mut out);
        }
        _ => {}
    }
    out
}

/// Joins a folder and a name as locations write them.
fn shown(dir: &Path, name: &str) -> String {
    let d = dir.to_string_lossy().replace('\\', "/");
    if d.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", d.trim_end_matches('/'))
    }
}

/// A file inside the root: `None` when it does not exist or was refused
/// (then with a warning).
fn read(root: &Path, dir: &Path, name: &str, out: &mut Manifests) -> Option<String> {
    let base = root.join(dir);
    match gantry_fs::read_inside(root, &base, name, crate::MAX_FILE_BYTES) {
        Ok(text) => {
            out.files.push(shown(dir, name));
            Some(text)
        }
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            out.warnings.push(Warning {
                file: shown(dir, name),
                line: None,
                message: format!("manifest not read: {e}"),
            });
            None
        }
    }
}

fn parse_toml(text: &str, file: &str, out: &mut Manifests) -> Option<toml::Table> {
    match text.parse::<toml::Table>() {
        Ok(t) => Some(t),
        Err(e) => {
            out.warnings.push(Warning {
                file: file.to_string(),
                line: e.span().map(|s| crate::text::line_at(text, s.start)),
                message: format!("failed to parse TOML: {}", e.message().trim()),
            });
            None
        }
    }
}

/// The first line that mentions `name` as a key or a quoted string.
fn line_of(text: &str, name: &str) -> Option<usize> {
    let quoted = format!("\"{name}");
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(&quoted)
                || t.strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with(['=', '.']))
                || t.contains(&quoted)
        })
        .map(|i| i + 1)
}

fn cargo(root: &Path, dir: &Path, out: &mut Manifests) {
    let file = shown(dir, "Cargo.toml");
    let Some(text) = read(root, dir, "Cargo.toml", out) else {
        return;
    };
    let Some(doc) = parse_toml(&text, &file, out) else {
        return;
    };
    let workspace = doc.get("workspace").and_then(toml::Value::as_table);
    let inherited = workspace
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table);
    cargo_tables(&doc, inherited, &text, &file, out);
    if let Some(w) = inherited {
        cargo_deps(w, None, &text, &file, out);
    }
    let members = workspace
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_str);
    for member in members {
        for sub in member_dirs(root, dir, member) {
            let file = shown(&sub, "Cargo.toml");
            let Some(text) = read(root, &sub, "Cargo.toml", out) else {
                continue;
            };
            if let Some(doc) = parse_toml(&text, &file, out) {
                cargo_tables(&doc, inherited, &text, &file, out);
            }
        }
    }
}

/// A workspace member pattern's folders (relative to the root): a plain
/// path, or `dir/*`; other globs are not expanded.
fn member_dirs(root: &Path, dir: &Path, member: &str) -> Vec<std::path::PathBuf> {
    if let Some(parent) = member.strip_suffix("/*") {
        if parent.contains(['*', '?', '[']) {
            return Vec::new();
        }
        let Ok(base) = gantry_fs::resolve_inside(root, &root.join(dir), parent) else {
            return Vec::new();
        };
        let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(base)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| dir.join(parent).join(e.file_name()))
            .collect();
        dirs.sort();
        dirs
    } else if member.contains(['*', '?', '[']) {
        Vec::new()
    } else {
        vec![dir.join(member)]
    }
}

/// `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]` and
/// their `[target.*]` forms.
fn cargo_tables(
    doc: &toml::Table,
    inherited: Option<&toml::Table>,
    text: &str,
    file: &str,
    out: &mut Manifests,
) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in KINDS {
        if let Some(t) = doc.get(kind).and_then(toml::Value::as_table) {
            cargo_deps(t, inherited, text, file, out);
        }
    }
    for target in doc
        .get("target")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        for kind in KINDS {
            if let Some(t) = target.get(kind).and_then(toml::Value::as_table) {
                cargo_deps(t, inherited, text, file, out);
            }
        }
    }
}

fn cargo_deps(
    table: &toml::Table,
    inherited: Option<&toml::Table>,
    text: &str,
    file: &str,
    out: &mut Manifests,
) {
    for (key, value) in table {
        let (name, requirement) = match value {
            toml::Value::String(req) => (key.as_str(), Some(req.as_str())),
            toml::Value::Table(t) => {
                let name = t
                    .get("package")
                    .and_then(toml::Value::as_str)
                    .unwrap_or(key);
                let req = if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                    inherited.and_then(|w| w.get(key)).and_then(|v| match v {
                        toml::Value::String(s) => Some(s.as_str()),
                        toml::Value::Table(t) => t.get("version").and_then(toml::Value::as_str),
                        _ => None,
                    })
                } else {
                    t.get("version").and_then(toml::Value::as_str)
                };
                (name, req)
            }
            _ => continue,
        };
        if let Some(requirement) = requirement {
            out.declared.push(Declared {
                name: Ecosystem::Cargo.normalize_name(name),
                requirement: requirement.to_string(),
                syntax: Syntax::Cargo,
                file: file.to_string(),
                line: line_of(text, key),
            });
        }
    }
}

fn package_json(root: &Path, dir: &Path, out: &mut Manifests) {
    let file = shown(dir, "package.json");
    let Some(text) = read(root, dir, "package.json", out) else {
        return;
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            out.warnings.push(Warning {
                file,
                line: Some(e.line()),
                message: format!("failed to parse JSON: {e}"),
            });
            return;
        }
    };
    for kind in [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ] {
        for (key, value) in doc
            .get(kind)
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(range) = value.as_str() else {
                continue;
            };
            // `npm:real@range` aliases another package.
            let (name, range) = match range.strip_prefix("npm:") {
                Some(alias) => match alias.rsplit_once('@') {
                    Some((n, r)) if !n.is_empty() => (n, r),
                    _ => (alias, "*"),
                },
                None => (key.as_str(), range),
            };
            // Paths, URLs, git and workspace references are no ranges.
            if range.contains(':') || range.contains('/') {
                continue;
            }
            out.declared.push(Declared {
                name: Ecosystem::Npm.normalize_name(name),
                requirement: range.trim().to_string(),
                syntax: Syntax::Npm,
                file: file.clone(),
                line: line_of(&text, key),
            });
        }
    }
}

/// A PEP 508 requirement's name and specifiers (`None` for a URL
/// requirement or a name alone).
pub fn pep508(text: &str) -> Option<(String, String)> {
    let text = text.split(';').next().unwrap_or("").trim();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    if end == 0 {
        return None;
    }
    let name = pep503(&text[..end]);
    let mut rest = text[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    if rest.starts_with('@') {
        return None;
    }
    let spec = rest.trim_start_matches('(').trim_end_matches(')').trim();
    (!spec.is_empty()).then(|| (name, spec.to_string()))
}

fn pyproject(root: &Path, dir: &Path, out: &mut Manifests) {
    let file = shown(dir, "pyproject.toml");
    let Some(text) = read(root, dir, "pyproject.toml", out) else {
        return;
    };
    let Some(doc) = parse_toml(&text, &file, out) else {
        return;
    };
    let push = |name: String, requirement: String, syntax: Syntax, out: &mut Manifests| {
        let line = line_of(&text, &name);
        out.declared.push(Declared {
            name,
            requirement,
            syntax,
            file: file.clone(),
            line,
        });
    };
    let pep508_list = |v: Option<&toml::Value>, out: &mut Manifests| {
        for s in v
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
        {
            if let Some((name, spec)) = pep508(s) {
                push(name, spec, Syntax::Pep440, out);
            }
        }
    };
    let project = doc.get("project");
    pep508_list(project.and_then(|p| p.get("dependencies")), out);
    let optional = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table);
    for list in optional.into_iter().flat_map(|t| t.values()) {
        pep508_list(Some(list), out);
    }
    let groups = doc.get("dependency-groups").and_then(toml::Value::as_table);
    for list in groups.into_iter().flat_map(|t| t.values()) {
        pep508_list(Some(list), out);
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let mut tables: Vec<&toml::Value> = Vec::new();
    tables.extend(poetry.and_then(|p| p.get("dependencies")));
    tables.extend(poetry.and_then(|p| p.get("dev-dependencies")));
    for group in poetry
        .and_then(|p| p.get("group"))
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        tables.extend(group.get("dependencies"));
    }
    let mut poetry_entries = Vec::new();
    for table in tables.iter().filter_map(|t| t.as_table()) {
        for (key, value) in table {
            if key == "python" {
                continue;
            }
            let req = match value {
                toml::Value::String(s) => Some(s.as_str()),
                toml::Value::Table(t) => t.get("version").and_then(toml::Value::as_str),
                _ => None,
            };
            if let Some(req) = req {
                poetry_entries.push((pep503(key), req.to_string()));
            }
        }
    }
    for (name, req) in poetry_entries {
        push(name, req, Syntax::Poetry, out);
    }
}

fn requirements_in(root: &Path, dir: &Path, name: &str, out: &mut Manifests) {
    let file = shown(dir, name);
    let Some(text) = read(root, dir, name, out) else {
        return;
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with(['#', '-']) {
            continue;
        }
        if let Some((name, spec)) = pep508(line) {
            out.declared.push(Declared {
                name,
                requirement: spec,
                syntax: Syntax::Pep440,
                file: file.clone(),
                line: Some(i + 1),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pep508_takes_name_and_specifiers() {
        assert_eq!(
            pep508("requests[socks] >=2.25,<3 ; python_version >= '3.8'"),
            Some(("requests".into(), ">=2.25,<3".into()))
        );
        assert_eq!(
            pep508("Jinja2 (>=3.1)"),
            Some(("jinja2".into(), ">=3.1".into()))
        );
        assert_eq!(pep508("flask"), None);
        assert_eq!(pep508("pkg @ https://example.com/pkg.whl"), None);
    }

    #[test]
    fn reads_cargo_workspace_members_and_inherited_requirements() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies]\nregex = \"1.5\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("crates/a")).unwrap();
        std::fs::write(
            root.join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n[dependencies]\nregex.workspace = true\nsv = { package = \"smallvec\", version = \"0.6\" }\nlocal = { path = \"../b\" }\n",
        )
        .unwrap();
        let m = manifests_for(root, "Cargo.lock");
        assert_eq!(m.files, ["Cargo.toml", "crates/a/Cargo.toml"]);
        let got: Vec<(&str, &str, &str)> = m
            .declared
            .iter()
            .map(|d| (d.name.as_str(), d.requirement.as_str(), d.file.as_str()))
            .collect();
        assert!(
            got.contains(&("regex", "1.5", "crates/a/Cargo.toml")),
            "{got:?}"
        );
        assert!(
            got.contains(&("smallvec", "0.6", "crates/a/Cargo.toml")),
            "{got:?}"
        );
        assert!(!got.iter().any(|g| g.0 == "local"), "{got:?}");
    }
}
