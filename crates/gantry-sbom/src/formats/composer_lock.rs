//! `composer.lock`: `packages` (runtime) and `packages-dev` (dev), with
//! `require` edges; `composer.json` beside it says which are direct.
//! Branch versions (`dev-main`) are reported as unpinned.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::{Input, LockfileFormat, Parsed, file_name, read_json, str_field};
use crate::model::{Component, Ecosystem, Hash, HashAlgorithm, Scope};
use crate::text::Lines;

pub(crate) struct ComposerLock;

/// Platform requirements are not packages.
fn is_platform(name: &str) -> bool {
    !name.contains('/') || name.starts_with("ext-") || name.starts_with("lib-")
}

impl LockfileFormat for ComposerLock {
    fn name(&self) -> &'static str {
        "composer.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Packagist
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "composer.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(doc) = read_json(input, out) else {
            return;
        };
        let mut lines = Lines::new(input.text);
        let mut pending: Vec<(Component, Vec<String>)> = Vec::new();
        for (section, scope) in [("packages", Scope::Runtime), ("packages-dev", Scope::Dev)] {
            for entry in doc
                .get(section)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = str_field(entry, "name");
                let line = name
                    .and_then(|n| lines.find_line(&format!("\"name\": {}", super::json_key(n))))
                    .unwrap_or(1);
                let (Some(name), Some(version)) = (name, str_field(entry, "version")) else {
                    out.warn(
                        input,
                        Some(line),
                        "package entry without `name` and `version`",
                    );
                    continue;
                };
                let at = input.at(line);
                let mut c = if version.starts_with("dev-") || version.ends_with("-dev") {
                    let reference = entry
                        .get("source")
                        .and_then(|s| str_field(s, "reference"))
                        .unwrap_or("");
                    Component::unpinned(Ecosystem::Packagist, name, version, at)
                        .with_property("reference", reference)
                } else {
                    Component::new(Ecosystem::Packagist, name, Some(version), at)
                };
                c.scope = scope;
                if let Some(sum) = entry.get("dist").and_then(|d| str_field(d, "shasum"))
                    && let Some(h) = Hash::from_hex(HashAlgorithm::Sha1, sum)
                {
                    c.add_hash(h);
                }
                let deps = entry
                    .get("require")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(n, _)| n.to_ascii_lowercase())
                    .filter(|n| !is_platform(n))
                    .collect();
                pending.push((c, deps));
            }
        }
        let by_name: HashMap<String, String> = pending
            .iter()
            .map(|(c, _)| (c.name.clone(), c.purl.clone()))
            .collect();
        for (mut c, deps) in pending {
            c.dependencies = deps
                .iter()
                .filter_map(|d| by_name.get(d).cloned())
                .collect();
            out.components.push(c);
        }
        if let Some(manifest) = input
            .sibling_or_warn("composer.json", out)
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            let mut roots = Vec::new();
            let mut seen = HashSet::new();
            for (kind, scope) in [("require", Scope::Runtime), ("require-dev", Scope::Dev)] {
                for (n, _) in manifest
                    .get(kind)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(p) = by_name.get(&n.to_ascii_lowercase())
                        && seen.insert(p.clone())
                    {
                        roots.push((p.clone(), scope));
                    }
                }
            }
            // composer.lock already separates dev packages; roots only
            // mark direct ones.
            let scopes: Vec<Scope> = out.components.iter().map(|c| c.scope).collect();
            out.propagate_from_roots(&roots);
            for (c, s) in out.components.iter_mut().zip(scopes) {
                c.scope = s;
            }
        }
    }
}
