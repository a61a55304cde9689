//! Gradle dependency locking: `gradle.lockfile` (and the older per
//! configuration `gradle/dependency-locks/*.lockfile`), one
//! `group:artifact:version=configurations` a line. Packages only in test
//! configurations are dev ones.

use std::path::Path;

use super::{Input, LockfileFormat, Parsed, file_name};
use crate::model::{Component, Ecosystem, Scope};

pub(crate) struct GradleLockfile;

impl LockfileFormat for GradleLockfile {
    fn name(&self) -> &'static str {
        "gradle.lockfile"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Maven
    }

    fn matches(&self, path: &Path) -> bool {
        let name = file_name(path);
        name == "gradle.lockfile"
            || name == "buildscript-gradle.lockfile"
            || (name.ends_with(".lockfile")
                && path
                    .parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|d| d == "dependency-locks"))
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let per_configuration = file_name(input.path) != "gradle.lockfile"
            && file_name(input.path) != "buildscript-gradle.lockfile";
        for (i, raw) in input.text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
                continue;
            }
            let (coordinates, configurations) = line.split_once('=').unwrap_or((line, ""));
            let parts: Vec<&str> = coordinates.split(':').collect();
            let [group, artifact, version] = parts.as_slice() else {
                out.warn(
                    input,
                    Some(line_no),
                    format!("cannot read `{line}`: expected group:artifact:version"),
                );
                continue;
            };
            let configurations: Vec<&str> = if per_configuration {
                vec![file_name(input.path).trim_end_matches(".lockfile")]
            } else {
                configurations
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            };
            let test_only = !configurations.is_empty()
                && configurations
                    .iter()
                    .all(|c| c.to_ascii_lowercase().starts_with("test"));
            let mut c = Component::new(
                Ecosystem::Maven,
                &format!("{group}:{artifact}"),
                Some(version),
                input.at(line_no),
            );
            c.scope = if test_only {
                Scope::Dev
            } else {
                Scope::Runtime
            };
            if !configurations.is_empty() {
                c = c.with_property("configurations", configurations.join(","));
            }
            out.components.push(c);
        }
    }
}
