//! NuGet `packages.lock.json`: per target framework, `Direct`,
//! `Transitive` and `CentralTransitive` packages with their
//! `contentHash` (SHA-512) and dependency edges. `Project` entries are
//! the solution's own projects.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{Input, LockfileFormat, Parsed, file_name, json_key, read_json, str_field};
use crate::model::{Component, Ecosystem, Hash, HashAlgorithm};
use crate::purl::Purl;
use crate::text::Lines;

pub(crate) struct NugetLock;

impl LockfileFormat for NugetLock {
    fn name(&self) -> &'static str {
        "packages.lock.json"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::NuGet
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "packages.lock.json"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(doc) = read_json(input, out) else {
            return;
        };
        let Some(frameworks) = doc.get("dependencies").and_then(Value::as_object) else {
            out.warn(
                input,
                Some(1),
                "no `dependencies` object: not a NuGet lockfile",
            );
            return;
        };
        let mut lines = Lines::new(input.text);
        for (framework, packages) in frameworks {
            lines.find_line(&format!("{}:", json_key(framework)));
            let Some(packages) = packages.as_object() else {
                continue;
            };
            // Versions resolved in this framework, by lower-cased id.
            let resolved: HashMap<String, (&str, &str)> = packages
                .iter()
                .filter_map(|(id, e)| {
                    Some((
                        id.to_ascii_lowercase(),
                        (id.as_str(), str_field(e, "resolved")?),
                    ))
                })
                .collect();
            for (id, entry) in packages {
                let line = lines.find_line(&format!("{}:", json_key(id))).unwrap_or(1);
                let kind = str_field(entry, "type").unwrap_or("");
                if kind == "Project" {
                    continue;
                }
                let Some(version) = str_field(entry, "resolved") else {
                    out.warn(input, Some(line), format!("{id} has no resolved version"));
                    continue;
                };
                let mut c = Component::new(Ecosystem::NuGet, id, Some(version), input.at(line))
                    .with_direct(kind == "Direct")
                    .with_property("framework", framework.clone());
                if let Some(hash) = str_field(entry, "contentHash") {
                    match Hash::from_base64(HashAlgorithm::Sha512, hash) {
                        Some(h) => c.add_hash(h),
                        None => out.warn(
                            input,
                            Some(line),
                            format!("{id} has an unreadable contentHash"),
                        ),
                    }
                }
                for (dep, _) in entry
                    .get("dependencies")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some((name, v)) = resolved.get(&dep.to_ascii_lowercase()) {
                        c.dependencies
                            .push(Purl::for_package(Ecosystem::NuGet, name, Some(v)).to_string());
                    }
                }
                out.components.push(c);
            }
        }
    }
}
