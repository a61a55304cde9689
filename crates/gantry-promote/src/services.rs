//! `gantry services`: every service of the catalog, its compliance mode,
//! its dependencies, the versions it has in each state, and the promotion
//! order of the whole catalog; as a typed report and its renderings
//! (human text, Graphviz DOT, Mermaid).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::catalog::{Catalog, CatalogError, ComplianceMode, DependencyKind, Location};
use crate::config::{ConfigError, PromotionConfig};
use crate::order::{CycleError, catalog_order};

/// Orders versions by SemVer precedence (1.9.0 before 1.10.0, a release
/// candidate before its release); versions that are not SemVer come after,
/// in text order.
fn version_key(version: &str) -> (bool, Option<semver::Version>, &str) {
    let parsed = semver::Version::parse(version).ok();
    (parsed.is_none(), parsed, version)
}

/// The versions of a service per state, as recorded: `(state, version)`
/// pairs in any order.
pub type StateLookup<'a> = &'a dyn Fn(&str) -> Vec<(String, String)>;

/// The document `gantry services --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicesReport {
    /// The document's format version.
    pub version: u32,
    /// The states of the machine, in rank order.
    pub states: Vec<String>,
    /// Sorted by name.
    pub services: Vec<ServiceEntry>,
    /// Every service, dependencies first, ties by name.
    pub order: Vec<String>,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEntry {
    pub name: String,
    pub api_version: String,
    pub compliance_mode: ComplianceMode,
    /// Where the service is defined.
    pub location: Location,
    pub dependencies: Vec<DependencyEntry>,
    /// One entry per state of the machine, in rank order, then any state
    /// recorded that the machine no longer has.
    pub states: Vec<StateVersions>,
}

/// One dependency of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyEntry {
    pub name: String,
    pub kind: DependencyKind,
    pub optional: bool,
}

/// The versions of a service in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateVersions {
    pub state: String,
    /// Sorted; empty when none is recorded.
    pub versions: Vec<String>,
}

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServicesError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Reads the catalog and the configuration under `root` and reports them,
/// with each service's versions per state from `states`.
pub fn report(root: &Path, states: StateLookup<'_>) -> Result<ServicesReport, ServicesError> {
    let catalog = Catalog::load(root)?;
    let config = PromotionConfig::load(root)?;
    build(&catalog, &config, states).map_err(|e| ServicesError::Catalog(CatalogError::Cycle(e)))
}

/// The report of a catalog already loaded.
pub fn build(
    catalog: &Catalog,
    config: &PromotionConfig,
    states: StateLookup<'_>,
) -> Result<ServicesReport, CycleError> {
    let order = catalog_order(catalog)?;
    let state_names: Vec<String> = config.states.iter().map(|s| s.name.clone()).collect();
    let services = catalog
        .services
        .iter()
        .map(|service| {
            let mut per_state: Vec<StateVersions> = state_names
                .iter()
                .map(|s| StateVersions {
                    state: s.clone(),
                    versions: Vec::new(),
                })
                .collect();
            for (state, version) in states(&service.name) {
                let at = match per_state.iter().position(|s| s.state == state) {
                    Some(i) => i,
                    None => {
                        per_state.push(StateVersions {
                            state,
                            versions: Vec::new(),
                        });
                        per_state.len() - 1
                    }
                };
                if let Some(entry) = per_state.get_mut(at)
                    && !entry.versions.contains(&version)
                {
                    entry.versions.push(version);
                }
            }
            for entry in &mut per_state {
                entry
                    .versions
                    .sort_by(|a, b| version_key(a).cmp(&version_key(b)));
            }
            ServiceEntry {
                name: service.name.clone(),
                api_version: service.api_version.clone(),
                compliance_mode: service.compliance_mode,
                location: service.location.clone(),
                dependencies: service
                    .dependencies
                    .iter()
                    .map(|d| DependencyEntry {
                        name: d.name.clone(),
                        kind: d.kind,
                        optional: d.optional,
                    })
                    .collect(),
                states: per_state,
            }
        })
        .collect();
    Ok(ServicesReport {
        version: 1,
        states: state_names,
        services,
        order,
    })
}

fn dependency_label(d: &DependencyEntry) -> String {
    if d.optional {
        format!("{}, optional", d.kind.as_str())
    } else {
        d.kind.as_str().to_string()
    }
}

/// The report as text for people.
pub fn render_human(report: &ServicesReport) -> String {
    let mut out = String::new();
    if report.services.is_empty() {
        out.push_str("no services: define them in .gantry/services/*.yml\n");
        return out;
    }
    let plural = if report.services.len() == 1 { "" } else { "s" };
    let _ = writeln!(out, "{} service{plural}", report.services.len());
    for s in &report.services {
        let _ = writeln!(
            out,
            "\n{}  ({}, api {}, {})",
            s.name,
            s.compliance_mode.as_str(),
            s.api_version,
            s.location.file
        );
        if s.dependencies.is_empty() {
            out.push_str("  depends on: nothing\n");
        } else {
            let deps: Vec<String> = s
                .dependencies
                .iter()
                .map(|d| format!("{} ({})", d.name, dependency_label(d)))
                .collect();
            let _ = writeln!(out, "  depends on: {}", deps.join(", "));
        }
        let width = s.states.iter().map(|st| st.state.len()).max().unwrap_or(0);
        for st in &s.states {
            let versions = if st.versions.is_empty() {
                "-".to_string()
            } else {
                st.versions.join(", ")
            };
            let _ = writeln!(out, "  {:<width$}  {versions}", st.state);
        }
    }
    let _ = writeln!(out, "\npromotion order: {}", report.order.join(" → "));
    out
}

/// A DOT string literal.
fn dot_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The dependency graph as Graphviz DOT: an edge from each service to what
/// it depends on, dashed when optional.
pub fn render_dot(report: &ServicesReport) -> String {
    let mut out = String::from("digraph services {\n  rankdir=LR;\n  node [shape=box];\n");
    for s in &report.services {
        let style = match s.compliance_mode {
            ComplianceMode::Sandbox => ", style=dashed",
            ComplianceMode::Compliant => "",
        };
        let _ = writeln!(
            out,
            "  {} [label={}{style}];",
            dot_quote(&s.name),
            dot_quote(&format!("{}\n{}", s.name, s.compliance_mode.as_str()))
        );
    }
    for s in &report.services {
        for d in &s.dependencies {
            let style = if d.optional { ", style=dashed" } else { "" };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}{style}];",
                dot_quote(&s.name),
                dot_quote(&d.name),
                dot_quote(d.kind.as_str())
            );
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid label text: quotes become `#quot;`.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// The dependency graph as a Mermaid flowchart (`graph TD`). Node ids are
/// `s0`, `s1`, ... in name order, since names may hold characters Mermaid
/// ids cannot.
pub fn render_mermaid(report: &ServicesReport) -> String {
    let mut out = String::from("graph TD\n");
    let id = |name: &str| {
        report
            .services
            .iter()
            .position(|s| s.name == name)
            .map(|i| format!("s{i}"))
    };
    for (i, s) in report.services.iter().enumerate() {
        let _ = writeln!(
            out,
            "  s{i}[\"{}<br/>{}\"]",
            mermaid_text(&s.name),
            s.compliance_mode.as_str()
        );
    }
    for s in &report.services {
        for d in &s.dependencies {
            let (Some(from), Some(to)) = (id(&s.name), id(&d.name)) else {
                continue;
            };
            let arrow = if d.optional { "-.->" } else { "-->" };
            let _ = writeln!(out, "  {from} {arrow}|{}| {to}", dependency_label(d));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::version_key;

    #[test]
    fn versions_in_a_state_are_ordered_by_semver_then_text() {
        let mut versions = vec![
            "1.10.0",
            "build-7",
            "1.9.0",
            "1.10.0-rc.1",
            "1.2.3",
            "alpha",
        ];
        versions.sort_by(|a, b| version_key(a).cmp(&version_key(b)));
        assert_eq!(
            versions,
            [
                "1.2.3",
                "1.9.0",
                "1.10.0-rc.1",
                "1.10.0",
                "alpha",
                "build-7"
            ]
        );
    }
}
