//! The plan as Renovate `packageRules`, so the team's updater keeps each
//! package at or above its fix: one rule per package and manager with
//! `matchManagers`, `matchPackageNames`, `allowedVersions: ">=TO"` (in
//! the manager's own versioning), a `security` label and a high
//! `prPriority`. Rules are merged into an existing `renovate.json` (or
//! `.github/renovate.json`, `.gitlab/renovate.json`, `.renovaterc.json`):
//! every other key and rule is kept as it was, in order; gantry's own
//! earlier rules (their `description` starts with [`MARK`]) are replaced.

use std::path::{Path, PathBuf};

use gantry_sbom::Ecosystem;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Plan, RenovateWrite};

/// The start of the `description` of every rule gantry writes.
pub const MARK: &str = "gantry scan --fix:";

/// Where an existing Renovate configuration is looked for, in order.
pub const CONFIG_FILES: [&str; 4] = [
    "renovate.json",
    ".github/renovate.json",
    ".gitlab/renovate.json",
    ".renovaterc.json",
];

/// A failure to read or write the Renovate configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenovateError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: gantry_fs::ReadError,
    },
    #[error("{path}:{line}: not JSON: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One Renovate package rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageRule {
    pub description: String,
    pub match_managers: Vec<String>,
    pub match_package_names: Vec<String>,
    pub allowed_versions: String,
    pub labels: Vec<String>,
    pub pr_priority: i32,
}

/// Renovate's manager of a lockfile.
pub fn manager(ecosystem: Ecosystem, lockfile: &str) -> &'static str {
    let name = Path::new(lockfile)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match (ecosystem, name) {
        (Ecosystem::Cargo, _) => "cargo",
        (Ecosystem::Npm, _) => "npm",
        (Ecosystem::Go, _) => "gomod",
        (Ecosystem::PyPI, "poetry.lock") => "poetry",
        (Ecosystem::PyPI, "uv.lock") => "pep621",
        (Ecosystem::PyPI, "Pipfile.lock") => "pipenv",
        (Ecosystem::PyPI, _) => "pip_requirements",
        (Ecosystem::RubyGems, _) => "bundler",
        (Ecosystem::Packagist, _) => "composer",
        (Ecosystem::NuGet, _) => "nuget",
        (Ecosystem::Maven, "gradle.lockfile") => "gradle",
        (Ecosystem::Maven, _) => "maven",
        _ => "npm",
    }
}

/// The rules of a plan, one per (manager, package, version), in plan
/// order.
pub fn rules(plan: &Plan) -> Vec<PackageRule> {
    let mut out: Vec<PackageRule> = Vec::new();
    for fix in &plan.fixes {
        let manager = manager(fix.ecosystem, &fix.lockfile).to_string();
        let to = fix.to.trim_start_matches('v');
        let allowed = format!(">={to}");
        if let Some(rule) = out.iter_mut().find(|r| {
            r.match_managers == [manager.as_str()]
                && r.match_package_names == [fix.package.as_str()]
                && r.allowed_versions == allowed
        }) {
            for id in &fix.advisories {
                if !rule.description.contains(id.as_str()) {
                    rule.description.push_str(&format!(", {id}"));
                }
            }
            continue;
        }
        out.push(PackageRule {
            description: format!(
                "{MARK} {} {} fixes {}",
                fix.package,
                fix.to,
                fix.advisories.join(", ")
            ),
            match_managers: vec![manager],
            match_package_names: vec![fix.package.clone()],
            allowed_versions: allowed,
            labels: vec!["security".into()],
            pr_priority: 10,
        });
    }
    out
}

/// `rules` merged into `existing` (a Renovate configuration object).
pub fn merge(existing: Option<Value>, rules: &[PackageRule]) -> Result<Value, String> {
    let mut root = match existing {
        None => {
            let mut m = Map::new();
            m.insert(
                "$schema".into(),
                Value::String("https://docs.renovatebot.com/renovate-schema.json".into()),
            );
            m
        }
        Some(Value::Object(m)) => m,
        Some(_) => return Err("the configuration is not a JSON object".into()),
    };
    // In place, so that `packageRules` and every other key keep their order.
    let slot = root
        .entry("packageRules")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(kept) = slot else {
        return Err("`packageRules` is not an array".into());
    };
    kept.retain(|r| {
        !r.get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| d.starts_with(MARK))
    });
    for r in rules {
        kept.push(serde_json::to_value(r).map_err(|e| e.to_string())?);
    }
    Ok(Value::Object(root))
}

/// Writes the plan's rules into the configuration found in `dir` (or a
/// new `renovate.json` there).
pub fn write(dir: &Path, plan: &Plan) -> Result<RenovateWrite, RenovateError> {
    let found = CONFIG_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.symlink_metadata().is_ok());
    let (path, existing) = match found {
        Some(path) => {
            let text = gantry_fs::read_text_bounded(&path, crate::check::MAX_INPUT_BYTES).map_err(
                |source| RenovateError::Read {
                    path: path.clone(),
                    source,
                },
            )?;
            let value: Value = serde_json::from_str(&text).map_err(|e| RenovateError::Parse {
                path: path.clone(),
                line: e.line(),
                message: e.to_string(),
            })?;
            (path, Some(value))
        }
        None => (dir.join("renovate.json"), None),
    };
    let created = existing.is_none();
    let rules = rules(plan);
    let merged = merge(existing, &rules).map_err(|message| RenovateError::Shape {
        path: path.clone(),
        message,
    })?;
    let mut text = serde_json::to_string_pretty(&merged).map_err(|e| RenovateError::Shape {
        path: path.clone(),
        message: e.to_string(),
    })?;
    text.push('\n');
    let tmp = path.with_extension("json.gantry-tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            RenovateError::Write {
                path: path.clone(),
                source,
            }
        })?;
    Ok(RenovateWrite {
        file: path,
        rules: rules.len(),
        created,
    })
}
