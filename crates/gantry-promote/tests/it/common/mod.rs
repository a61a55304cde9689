//! Helpers the tests share: scratch repositories and service files.

#![allow(dead_code)]

use std::path::Path;

use gantry_promote::catalog::{Catalog, CatalogError};
use gantry_promote::config::{ConfigError, PromotionConfig};

/// A scratch repository holding `files` (path relative to the root, text).
pub(crate) fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

pub(crate) fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A service file in the seed's template with `deps` as the dependency
/// lists (`runtime: [b]` lines, indented by six spaces).
pub(crate) fn service(name: &str, mode: &str, deps: &[&str]) -> String {
    let mut text = format!(
        "service:\n  name: {name}\n  spec:\n    api_version: v1\n    compliance_mode: {mode}\n"
    );
    if !deps.is_empty() {
        text.push_str("    dependencies:\n");
        for d in deps {
            text.push_str("      ");
            text.push_str(d);
            text.push('\n');
        }
    }
    text
}

/// The path of a service file.
pub(crate) fn service_path(name: &str) -> String {
    format!(".gantry/services/{name}.yml")
}

/// A repository with one file per `(name, mode, deps)`.
pub(crate) fn catalog_repo(services: &[(&str, &str, &[&str])]) -> tempfile::TempDir {
    let files: Vec<(String, String)> = services
        .iter()
        .map(|(n, m, d)| (service_path(n), service(n, m, d)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    repo(&refs)
}

/// Each problem of a catalog that fails to load, as printed.
pub(crate) fn catalog_problems(root: &Path) -> Vec<String> {
    match Catalog::load(root) {
        Err(CatalogError::Invalid(problems)) => {
            problems.0.iter().map(ToString::to_string).collect()
        }
        other => panic!("expected problems, got {other:?}"),
    }
}

/// Each problem of a promotion.yml that fails to load, as printed.
pub(crate) fn config_problems(root: &Path) -> Vec<String> {
    match PromotionConfig::load(root) {
        Err(ConfigError::Invalid(problems)) => problems.0.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

/// A repository with `.gantry/promotion.yml` = `text`.
pub(crate) fn config_repo(text: &str) -> tempfile::TempDir {
    repo(&[(".gantry/promotion.yml", text)])
}

/// Writes a fresh Ed25519 public key to `<root>/.gantry/<path>`; returns
/// its key id.
pub(crate) fn public_key(root: &Path, path: &str) -> String {
    let key =
        gantry_attest::keys::PrivateKey::generate(gantry_attest::keys::Algorithm::Ed25519).unwrap();
    write(&root.join(".gantry"), path, &key.public_key().to_pem());
    key.key_id().to_string()
}
