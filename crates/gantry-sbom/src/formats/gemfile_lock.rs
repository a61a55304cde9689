//! `Gemfile.lock`: the `specs:` of the `GEM`, `GIT` and `PATH` sections,
//! each gem's dependencies indented below it, and the `DEPENDENCIES`
//! section for direct gems. A platform suffix (`1.13.10-x86_64-linux`)
//! becomes a `platform` property.

use std::collections::HashMap;
use std::path::Path;

use super::{Input, LockfileFormat, Parsed, file_name};
use crate::model::{Component, Ecosystem, Scope};

pub(crate) struct GemfileLock;

/// Platforms Bundler appends to versions.
fn split_platform(version: &str) -> (&str, Option<&str>) {
    // A version's segments are digits or letters; a platform starts with
    // a `-` followed by a known word.
    for marker in [
        "-x86",
        "-arm",
        "-aarch64",
        "-java",
        "-universal",
        "-mingw",
        "-mswin",
        "-x64",
        "-darwin",
        "-linux",
        "-i386",
        "-i686",
        "-ppc",
        "-s390",
    ] {
        if let Some(i) = version.find(marker) {
            return (&version[..i], Some(&version[i + 1..]));
        }
    }
    (version, None)
}

impl LockfileFormat for GemfileLock {
    fn name(&self) -> &'static str {
        "Gemfile.lock"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::RubyGems
    }

    fn matches(&self, path: &Path) -> bool {
        matches!(file_name(path), "Gemfile.lock" | "gems.locked")
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let mut section = "";
        let mut in_specs = false;
        let mut components: Vec<(Component, Vec<String>)> = Vec::new();
        let mut direct: Vec<String> = Vec::new();
        for (i, raw) in input.text.lines().enumerate() {
            let line_no = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let indent = raw.len() - raw.trim_start().len();
            let line = raw.trim();
            if indent == 0 {
                section = line;
                in_specs = false;
                continue;
            }
            match section {
                "GEM" | "GIT" | "PATH" | "PLUGIN SOURCE" => {
                    if indent == 2 {
                        in_specs = line == "specs:";
                        continue;
                    }
                    if !in_specs {
                        continue;
                    }
                    if indent == 4 {
                        let Some((name, rest)) = line.split_once(' ') else {
                            out.warn(input, Some(line_no), format!("cannot read gem `{line}`"));
                            continue;
                        };
                        let version = rest.trim().trim_start_matches('(').trim_end_matches(')');
                        let (version, platform) = split_platform(version);
                        let mut c = Component::new(
                            Ecosystem::RubyGems,
                            name,
                            Some(version),
                            input.at(line_no),
                        );
                        if let Some(p) = platform {
                            c = c.with_property("platform", p);
                        }
                        if section != "GEM" {
                            c = c.with_property("source", section.to_ascii_lowercase());
                        }
                        components.push((c, Vec::new()));
                    } else if indent >= 6
                        && let Some((_, deps)) = components.last_mut()
                    {
                        let name = line.split_whitespace().next().unwrap_or(line);
                        deps.push(name.to_string());
                    }
                }
                "DEPENDENCIES" => {
                    let name = line
                        .split_whitespace()
                        .next()
                        .unwrap_or(line)
                        .trim_end_matches('!');
                    direct.push(name.to_string());
                }
                _ => {}
            }
        }
        let by_name: HashMap<String, String> = components
            .iter()
            .map(|(c, _)| (c.name.clone(), c.purl.clone()))
            .collect();
        for (mut c, deps) in components {
            c.dependencies = deps
                .iter()
                .filter_map(|d| by_name.get(d).cloned())
                .collect();
            out.components.push(c);
        }
        let roots: Vec<(String, Scope)> = direct
            .iter()
            .filter_map(|d| by_name.get(d).map(|p| (p.clone(), Scope::Runtime)))
            .collect();
        out.propagate_from_roots(&roots);
    }
}
