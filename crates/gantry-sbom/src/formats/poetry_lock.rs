//! `poetry.lock` (lock versions 1.x and 2.x). Direct dependencies and
//! their groups come from the `pyproject.toml` beside it; old lockfiles'
//! `category = "dev"` marks dev packages.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{Input, LockfileFormat, Parsed, file_name, package_header_lines, read_toml};
use crate::model::{Component, Ecosystem, Hash, Scope, pep503};

pub(crate) struct PoetryLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize, Default)]
struct Metadata {
    /// Lock version 1.1 kept the files here.
    #[serde(default)]
    files: BTreeMap<String, Vec<File>>,
}

#[derive(Deserialize)]
struct Package {
    name: Option<String>,
    version: Option<String>,
    category: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    files: Vec<File>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    source: Option<Source>,
}

#[derive(Deserialize)]
struct File {
    hash: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
}

impl LockfileFormat for PoetryLock {
    fn name(&self) -> &'static str {
        "poetry.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "poetry.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(lock) = read_toml::<Lock>(input, out) else {
            return;
        };
        let lines = package_header_lines(input.text);
        let mut by_name: HashMap<String, String> = HashMap::new();
        for p in &lock.package {
            if let (Some(n), Some(v)) = (&p.name, &p.version) {
                let c = Component::new(Ecosystem::PyPI, n, Some(v), input.at(1));
                by_name.insert(c.name.clone(), c.purl);
            }
        }
        for (i, p) in lock.package.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            let (Some(name), Some(version)) = (&p.name, &p.version) else {
                out.warn(
                    input,
                    Some(line),
                    "package entry without `name` and `version`",
                );
                continue;
            };
            let mut c = match p.source.as_ref().and_then(|s| s.kind.as_deref()) {
                Some(kind @ ("directory" | "file" | "url" | "git")) => {
                    let url = p
                        .source
                        .as_ref()
                        .and_then(|s| s.url.clone())
                        .unwrap_or_default();
                    Component::new(Ecosystem::PyPI, name, Some(version), input.at(line))
                        .with_property("source", format!("{kind}: {url}"))
                }
                _ => Component::new(Ecosystem::PyPI, name, Some(version), input.at(line)),
            };
            c.scope = match (p.category.as_deref(), p.optional) {
                (Some("dev"), _) => Scope::Dev,
                (_, true) => Scope::Optional,
                _ => Scope::Runtime,
            };
            let files = if p.files.is_empty() {
                lock.metadata
                    .files
                    .get(name)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            } else {
                &p.files
            };
            for f in files {
                if let Some(h) = f.hash.as_deref().and_then(Hash::from_prefixed_hex) {
                    c.add_hash(h);
                }
            }
            for dep in p.dependencies.keys() {
                if let Some(purl) = by_name.get(&pep503(dep)) {
                    c.dependencies.push(purl.clone());
                }
            }
            out.components.push(c);
        }
        let roots: Vec<(String, Scope)> = pyproject_direct(input, out)
            .into_iter()
            .filter_map(|(n, s)| by_name.get(&n).map(|p| (p.clone(), s)))
            .collect();
        out.propagate_from_roots(&roots);
    }
}

/// The direct dependencies a `pyproject.toml` beside the lockfile
/// declares, by PEP 503 name: Poetry's `[tool.poetry.*dependencies]` and
/// groups, and PEP 621's `[project]` dependencies and extras.
pub(crate) fn pyproject_direct(input: &Input<'_>, out: &mut Parsed) -> Vec<(String, Scope)> {
    let Some(doc) = input
        .sibling_or_warn("pyproject.toml", out)
        .and_then(|t| toml::from_str::<toml::Value>(&t).ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let keys = |v: Option<&toml::Value>, scope: Scope, out: &mut Vec<(String, Scope)>| {
        for k in v
            .and_then(toml::Value::as_table)
            .into_iter()
            .flat_map(|t| t.keys())
        {
            if k != "python" {
                out.push((pep503(k), scope));
            }
        }
    };
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    keys(
        poetry.and_then(|p| p.get("dependencies")),
        Scope::Runtime,
        &mut out,
    );
    keys(
        poetry.and_then(|p| p.get("dev-dependencies")),
        Scope::Dev,
        &mut out,
    );
    for (group, table) in poetry
        .and_then(|p| p.get("group"))
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
    {
        let scope = if group == "main" {
            Scope::Runtime
        } else {
            Scope::Dev
        };
        keys(table.get("dependencies"), scope, &mut out);
    }
    let pep508 = |v: Option<&toml::Value>, scope: Scope, out: &mut Vec<(String, Scope)>| {
        for s in v.and_then(toml::Value::as_array).into_iter().flatten() {
            if let Some(s) = s.as_str() {
                let end = s
                    .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                    .unwrap_or(s.len());
                if end > 0 {
                    out.push((pep503(&s[..end]), scope));
                }
            }
        }
    };
    let project = doc.get("project");
    pep508(
        project.and_then(|p| p.get("dependencies")),
        Scope::Runtime,
        &mut out,
    );
    for extra in project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        pep508(Some(extra), Scope::Optional, &mut out);
    }
    for group in doc
        .get("dependency-groups")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        pep508(Some(group), Scope::Dev, &mut out);
    }
    out
}
