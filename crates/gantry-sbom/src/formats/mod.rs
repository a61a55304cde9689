//! Lockfile formats: one module per format, each implementing
//! [`LockfileFormat`], all registered in [`FORMATS`].
//!
//! Adding a format: copy a neighbour (JSON: `composer_lock.rs`, TOML:
//! `cargo_lock.rs`, line-based: `gradle_lockfile.rs`), give it a file-name
//! test and a parser that pushes a [`Component`] per entry and a
//! [`Warning`] for every entry it cannot read, add one line to
//! [`FORMATS`], and a fixture under `tests/fixtures/`.

use std::path::Path;

use crate::model::{Component, Ecosystem, Location, Scope, Warning};

mod cargo_lock;
mod composer_lock;
mod gemfile_lock;
mod go_mod;
mod gradle_lockfile;
mod npm_lock;
mod nuget_lock;
mod pipfile_lock;
mod pnpm_lock;
mod poetry_lock;
mod pom_xml;
mod requirements;
mod uv_lock;
mod yarn_lock;

/// Every lockfile format gantry reads, in the order they are tried.
pub static FORMATS: &[&dyn LockfileFormat] = &[
    &cargo_lock::CargoLock,
    &npm_lock::NpmLock,
    &yarn_lock::YarnLock,
    &pnpm_lock::PnpmLock,
    &requirements::Requirements,
    &poetry_lock::PoetryLock,
    &pipfile_lock::PipfileLock,
    &uv_lock::UvLock,
    &go_mod::GoMod,
    &gemfile_lock::GemfileLock,
    &composer_lock::ComposerLock,
    &nuget_lock::NugetLock,
    &gradle_lockfile::GradleLockfile,
    &pom_xml::PomXml,
];

/// The format that reads a file, by its path.
pub fn format_for(path: &Path) -> Option<&'static dyn LockfileFormat> {
    FORMATS.iter().copied().find(|f| f.matches(path))
}

/// One lockfile format.
pub trait LockfileFormat: Sync {
    /// The file name users know it by (`Cargo.lock`, `requirements*.txt`).
    fn name(&self) -> &'static str;

    /// The ecosystem its packages come from.
    fn ecosystem(&self) -> Ecosystem;

    /// Whether this format reads the file at `path` (by name).
    fn matches(&self, path: &Path) -> bool;

    /// Reads the file's packages into `out`. Never panics: an entry that
    /// cannot be read is a warning with its line, and a file that cannot be
    /// parsed at all is a warning for the file.
    fn parse(&self, input: &Input<'_>, out: &mut Parsed);
}

/// A file to parse.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Where the file is, to read neighbours (`go.sum`, `package.json`,
    /// `-r` includes).
    pub path: &'a Path,
    /// The scanned folder: includes and neighbours are read only from
    /// inside it.
    pub root: &'a Path,
    /// The path as shown to users and recorded in locations.
    pub display: &'a str,
    pub text: &'a str,
}

impl Input<'_> {
    pub(crate) fn at(&self, line: usize) -> Location {
        Location {
            file: self.display.to_string(),
            line,
        }
    }

    /// A neighbour file's text: `None` if it does not exist; an error if
    /// it is refused (outside the root, not a regular file, too large).
    pub(crate) fn sibling(&self, name: &str) -> Result<Option<String>, crate::ReadError> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        match gantry_fs::read_inside(self.root, base, name, crate::MAX_FILE_BYTES) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A neighbour file's text, or `None` with a warning when it was
    /// refused.
    pub(crate) fn sibling_or_warn(&self, name: &str, out: &mut Parsed) -> Option<String> {
        match self.sibling(name) {
            Ok(text) => text,
            Err(e) => {
                out.warn(self, None, format!("neighbour `{name}` not read: {e}"));
                None
            }
        }
    }
}

/// What parsing one file produced.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub components: Vec<Component>,
    pub warnings: Vec<Warning>,
}

impl Parsed {
    pub(crate) fn warn(
        &mut self,
        input: &Input<'_>,
        line: Option<usize>,
        message: impl Into<String>,
    ) {
        self.warnings.push(Warning {
            file: input.display.to_string(),
            line,
            message: message.into(),
        });
    }

    /// Marks the components whose purls `roots` names as direct, and gives
    /// every component reachable from a root the widest scope of the roots
    /// that reach it. Components no root reaches keep their scope.
    pub(crate) fn propagate_from_roots(&mut self, roots: &[(String, Scope)]) {
        crate::graph::propagate(&mut self.components, roots);
    }
}

/// The file name of a path, or "".
pub(crate) fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Reads JSON, turning a syntax error into a file warning at its line.
pub(crate) fn read_json(input: &Input<'_>, out: &mut Parsed) -> Option<serde_json::Value> {
    match serde_json::from_str::<serde_json::Value>(input.text) {
        Ok(v) => Some(v),
        Err(e) => {
            out.warn(input, Some(e.line()), format!("failed to parse JSON: {e}"));
            None
        }
    }
}

/// Reads TOML into a type, turning an error into a file warning at its line.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(
    input: &Input<'_>,
    out: &mut Parsed,
) -> Option<T> {
    match toml::from_str::<T>(input.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.span().map(|s| crate::text::line_at(input.text, s.start));
            out.warn(
                input,
                line,
                format!("failed to parse TOML: {}", e.message().trim()),
            );
            None
        }
    }
}

/// Reads YAML into JSON values, turning an error into a file warning.
pub(crate) fn read_yaml(input: &Input<'_>, out: &mut Parsed) -> Option<serde_json::Value> {
    match serde_saphyr::from_str::<serde_json::Value>(input.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let line = e.location().map(|l| l.line() as usize);
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("invalid YAML");
            out.warn(input, line, format!("failed to parse YAML: {first}"));
            None
        }
    }
}

/// The 1-based line of every `[[package]]` header of a TOML lockfile, in
/// order: the nth entry of the parsed array is at the nth header.
pub(crate) fn package_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[package]]")
        .map(|(i, _)| i + 1)
        .collect()
}

/// The 1-based line where a top-level `key` (JSON, YAML or TOML) is
/// first written, or 1.
pub(crate) fn line_of_key(text: &str, key: &str) -> usize {
    let quoted = json_key(key);
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(&quoted)
                || l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with([':', '=']))
        })
        .map_or(1, |i| i + 1)
}

/// A JSON string field.
pub(crate) fn str_field<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(serde_json::Value::as_str)
}

/// A JSON boolean field, false when absent.
pub(crate) fn bool_field(v: &serde_json::Value, key: &str) -> bool {
    v.get(key)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Quotes a key as JSON writes it, to find its line.
pub(crate) fn json_key(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
}
