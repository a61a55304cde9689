//! `Cargo.lock` (versions 1 to 4).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{Input, LockfileFormat, Parsed, file_name, package_header_lines, read_toml};
use crate::model::{Component, Ecosystem, Hash, HashAlgorithm, Scope};

pub(crate) struct CargoLock;

/// A package of a name: (version, source, index in the lockfile).
type Candidate<'a> = (&'a str, Option<&'a str>, usize);

#[derive(Deserialize)]
struct Lock {
    /// Written from version 3 on; absent in versions 1 and 2.
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<Package>,
    /// Version 1 kept checksums here: `"checksum name version (source)"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct Package {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl LockfileFormat for CargoLock {
    fn name(&self) -> &'static str {
        "Cargo.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Cargo
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "Cargo.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(lock) = read_toml::<Lock>(input, out) else {
            return;
        };
        if let Some(version) = &lock.version
            && !matches!(version.as_integer(), Some(3 | 4))
        {
            out.warn(
                input,
                Some(super::line_of_key(input.text, "version")),
                format!(
                    "unknown Cargo.lock version {version} (1 to 4 are read); read as version 4, entries may be missed"
                ),
            );
        }
        let lines = package_header_lines(input.text);
        // name -> [(version, source, index in lock.package)]
        let mut by_name: HashMap<&str, Vec<Candidate<'_>>> = HashMap::new();
        for (i, p) in lock.package.iter().enumerate() {
            if let (Some(n), Some(v)) = (&p.name, &p.version) {
                by_name
                    .entry(n)
                    .or_default()
                    .push((v, p.source.as_deref(), i));
            }
        }
        let resolve = |dep: &str| -> Option<usize> {
            let mut parts = dep.splitn(3, ' ');
            let name = parts.next()?;
            let version = parts.next();
            let source = parts
                .next()
                .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
            let candidates = by_name.get(name)?;
            candidates
                .iter()
                .find(|(v, s, _)| {
                    version.is_none_or(|want| *v == want)
                        && source.is_none_or(|want| s.is_some_and(|s| s == want))
                })
                .map(|(_, _, i)| *i)
        };
        let purl_of = |i: usize| -> Option<String> {
            let p = lock.package.get(i)?;
            p.source.as_ref()?;
            Some(
                crate::purl::Purl::for_package(
                    Ecosystem::Cargo,
                    p.name.as_deref()?,
                    p.version.as_deref(),
                )
                .to_string(),
            )
        };
        let mut roots = Vec::new();
        for (i, p) in lock.package.iter().enumerate() {
            let line = lines.get(i).copied();
            let (Some(name), Some(version)) = (&p.name, &p.version) else {
                out.warn(input, line, "package entry without `name` and `version`");
                continue;
            };
            let deps: Vec<String> = p
                .dependencies
                .iter()
                .filter_map(|d| match resolve(d) {
                    Some(j) => Some(j),
                    None => {
                        out.warn(
                            input,
                            line,
                            format!("dependency `{d}` of {name} {version} is not in the lockfile"),
                        );
                        None
                    }
                })
                .filter_map(purl_of)
                .collect();
            if p.source.is_none() {
                // A workspace member or path dependency: the project
                // itself. What it depends on is direct.
                roots.extend(deps.into_iter().map(|d| (d, Scope::Runtime)));
                continue;
            }
            let mut c = Component::new(
                Ecosystem::Cargo,
                name,
                Some(version),
                input.at(line.unwrap_or(1)),
            );
            c.dependencies = deps;
            if let Some(source) = &p.source
                && !source.starts_with("registry+")
                && !source.starts_with("sparse+")
            {
                c = c.with_property("source", source.clone());
            }
            let checksum = p.checksum.clone().or_else(|| {
                let key = format!(
                    "checksum {name} {version} ({})",
                    p.source.as_deref().unwrap_or("")
                );
                lock.metadata
                    .get(&key)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            });
            if let Some(sum) = checksum {
                match Hash::from_hex(HashAlgorithm::Sha256, &sum) {
                    Some(h) => c.add_hash(h),
                    None => out.warn(
                        input,
                        line,
                        format!("checksum of {name} {version} is not SHA-256 hex"),
                    ),
                }
            }
            out.components.push(c);
        }
        out.propagate_from_roots(&roots);
    }
}
