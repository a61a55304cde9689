//! `Pipfile.lock`: `default` (runtime) and `develop` (dev) sections of
//! `==` pins with hashes. Entries from git, paths or URLs are reported as
//! unpinned. The `Pipfile` beside it says which packages are direct.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use super::{Input, LockfileFormat, Parsed, file_name, json_key, read_json, str_field};
use crate::model::{Component, Ecosystem, Hash, Scope, pep503};
use crate::text::Lines;

pub(crate) struct PipfileLock;

impl LockfileFormat for PipfileLock {
    fn name(&self) -> &'static str {
        "Pipfile.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "Pipfile.lock"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let Some(doc) = read_json(input, out) else {
            return;
        };
        let direct: Option<HashSet<String>> = input
            .sibling_or_warn("Pipfile", out)
            .and_then(|t| toml::from_str::<toml::Value>(&t).ok())
            .map(|pipfile| {
                ["packages", "dev-packages"]
                    .iter()
                    .filter_map(|s| pipfile.get(*s).and_then(toml::Value::as_table))
                    .flat_map(|t| t.keys().map(|k| pep503(k)))
                    .collect()
            });
        let mut lines = Lines::new(input.text);
        for (section, scope) in [("default", Scope::Runtime), ("develop", Scope::Dev)] {
            let Some(entries) = doc.get(section).and_then(Value::as_object) else {
                continue;
            };
            lines.find_line(&format!("{}:", json_key(section)));
            for (name, entry) in entries {
                let line = lines
                    .find_line(&format!("{}:", json_key(name)))
                    .unwrap_or(1);
                let at = input.at(line);
                let pin = str_field(entry, "version")
                    .and_then(|v| v.strip_prefix("=="))
                    .filter(|v| !v.contains('*'));
                let mut c = match pin {
                    Some(v) => Component::new(Ecosystem::PyPI, name, Some(v), at),
                    None => {
                        let what = ["version", "git", "path", "file", "editable"]
                            .iter()
                            .find_map(|k| {
                                entry.get(*k).map(|v| {
                                    format!(
                                        "{k}: {}",
                                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                                    )
                                })
                            })
                            .unwrap_or_else(|| "*".into());
                        Component::unpinned(Ecosystem::PyPI, name, &what, at)
                    }
                };
                c.scope = scope;
                c.direct = direct.as_ref().is_some_and(|d| d.contains(&c.name));
                if let Some(m) = str_field(entry, "markers") {
                    c = c.with_property("markers", m);
                }
                for h in entry
                    .get("hashes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match h.as_str().and_then(Hash::from_prefixed_hex) {
                        Some(h) => c.add_hash(h),
                        None => {
                            out.warn(input, Some(line), format!("{name} has an unreadable hash"))
                        }
                    }
                }
                out.components.push(c);
            }
        }
    }
}
