//! The service catalog: one file per service under `.gantry/services/`
//! (`*.yml` or `*.yaml`), in the seed's template.
//!
//! ```yaml
//! service:
//!   name: service-a
//!   spec:
//!     api_version: v1
//!     compliance_mode: compliant        # sandbox | compliant
//!     dependencies:                     # optional, as are its three lists
//!       runtime: [service-b]
//!       data: []
//!       security:
//!         - service-c                   # a name, or
//!         - { name: service-d, optional: true }
//! ```
//!
//! [`Catalog::load`] reads every file and reports every problem of every
//! file at file:line:col (unknown keys with a "did you mean", wrong types,
//! missing keys, bad `compliance_mode`, invalid names, duplicate services
//! and list entries, unknown and self dependencies). Only a catalog free
//! of those is checked for cycles, so a cycle is always between known
//! services. A service may name the same dependency in two lists (runtime
//! and data, say); within one list a name is written once.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use gantry_ledger::record::valid_segment;
use gantry_workflow::yaml::{Node, NodeKind};
use gantry_workflow::{SourceFile, Span};

use crate::located::{Doc, suggest};
pub use crate::located::{Location, Problem, ProblemKind, Problems};
use crate::order::{CycleError, find_cycle};

/// Where the service files are, relative to the repository root.
pub const SERVICES_DIR: &str = ".gantry/services";

/// The most one service file may hold.
pub const MAX_SERVICE_BYTES: usize = 1 << 20;

/// Whether a service is promoted out of the first state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceMode {
    /// The service stays in the first state.
    Sandbox,
    /// The service goes through the whole state machine.
    Compliant,
}

impl ComplianceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceMode::Sandbox => "sandbox",
            ComplianceMode::Compliant => "compliant",
        }
    }

    pub fn parse(s: &str) -> Option<ComplianceMode> {
        match s {
            "sandbox" => Some(ComplianceMode::Sandbox),
            "compliant" => Some(ComplianceMode::Compliant),
            _ => None,
        }
    }
}

/// The list a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyKind {
    Runtime,
    Data,
    Security,
}

impl DependencyKind {
    pub const ALL: [DependencyKind; 3] = [
        DependencyKind::Runtime,
        DependencyKind::Data,
        DependencyKind::Security,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Runtime => "runtime",
            DependencyKind::Data => "data",
            DependencyKind::Security => "security",
        }
    }
}

/// One dependency of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub name: String,
    pub kind: DependencyKind,
    /// An optional dependency orders promotion like any other, but its
    /// state does not block.
    pub optional: bool,
    /// Where the dependency's name is written.
    pub location: Location,
}

/// One service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    pub api_version: String,
    pub compliance_mode: ComplianceMode,
    /// In declaration order: runtime, data, then security.
    pub dependencies: Vec<Dependency>,
    /// Where the service's name is written.
    pub location: Location,
}

impl Service {
    /// The names this service depends on, sorted, each once.
    pub fn dependency_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.dependencies.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Every service of a repository, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub services: Vec<Service>,
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error("failed to list {}: {source}", path.display())]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} leads out of the repository: {source}", path.display())]
    Escape {
        path: PathBuf,
        source: gantry_fs::Escape,
    },
    /// Problems in the service files, every one of them.
    #[error(transparent)]
    Invalid(Problems),
    #[error(transparent)]
    Cycle(CycleError),
}

impl Catalog {
    /// Reads `<root>/.gantry/services/*.yml|*.yaml`, in file name order. No
    /// such folder is an empty catalog.
    pub fn load(root: &Path) -> Result<Catalog, CatalogError> {
        let relative = Path::new(SERVICES_DIR);
        let dir = gantry_fs::confine(root, relative).map_err(|source| CatalogError::Escape {
            path: relative.to_path_buf(),
            source,
        })?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
            Err(source) => return Err(CatalogError::List { path: dir, source }),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CatalogError::List {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_yaml && !is_dir && !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        for name in names {
            let shown = format!("{SERVICES_DIR}/{name}");
            let read = gantry_fs::confine(root, Path::new(&shown))
                .map_err(|e| e.to_string())
                .and_then(|path| {
                    gantry_workflow::read_source(&path, shown.clone(), MAX_SERVICE_BYTES)
                        .map_err(|e| e.to_string())
                });
            match read {
                Ok(source) => files.push(source),
                Err(message) => {
                    let mut doc = Doc::new(SourceFile::new(shown, ""));
                    doc.report(Span::point(0), ProblemKind::Read { message }, None);
                    unreadable.extend(doc.problems);
                }
            }
        }
        Catalog::build(&files, unreadable)
    }

    /// Reads service files already in memory (each named as it should be
    /// reported, e.g. `.gantry/services/service-a.yml`).
    pub fn parse(files: &[Arc<SourceFile>]) -> Result<Catalog, CatalogError> {
        Catalog::build(files, Vec::new())
    }

    fn build(
        files: &[Arc<SourceFile>],
        mut problems: Vec<Problem>,
    ) -> Result<Catalog, CatalogError> {
        let mut services: Vec<Read> = Vec::new();
        // Every name written, also in files with other problems, so that a
        // dependency on such a service is not reported as unknown.
        let mut names: Vec<String> = Vec::new();
        for file in files {
            let mut doc = Doc::new(file.clone());
            let mut name = None;
            let service = read_service(&mut doc, &mut name);
            problems.append(&mut doc.problems);
            names.extend(name);
            if let Some(service) = service {
                services.push(service);
            }
        }
        names.sort();
        names.dedup();
        // Duplicate names: the first file (in name order) keeps it.
        let mut kept: Vec<Read> = Vec::new();
        for read in services {
            let (service, file) = (&read.service, &read.file);
            if let Some(first) = kept.iter().find(|k| k.service.name == service.name) {
                problems.push(problem(
                    file,
                    read.name_span,
                    ProblemKind::DuplicateService {
                        name: service.name.clone(),
                        first: first.service.location.clone(),
                    },
                    None,
                ));
                continue;
            }
            kept.push(read);
        }
        for Read {
            service,
            file,
            dependency_spans,
            ..
        } in &kept
        {
            for (dep, &span) in service.dependencies.iter().zip(dependency_spans) {
                let list = format!("dependencies.{}", dep.kind.as_str());
                if dep.name == service.name {
                    problems.push(problem(
                        file,
                        span,
                        ProblemKind::SelfDependency {
                            name: dep.name.clone(),
                        },
                        None,
                    ));
                } else if !names.contains(&dep.name) {
                    let hint = suggest(&dep.name, names.iter().map(String::as_str)).or_else(|| {
                        Some(format!(
                            "services are defined in {SERVICES_DIR}/*.yml; known: {}",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ))
                    });
                    problems.push(problem(
                        file,
                        span,
                        ProblemKind::UnknownDependency {
                            name: dep.name.clone(),
                            list,
                        },
                        hint,
                    ));
                }
            }
        }
        if !problems.is_empty() {
            problems.sort_by(|a, b| a.location.cmp(&b.location));
            return Err(CatalogError::Invalid(Problems(problems)));
        }
        let mut services: Vec<Service> = kept.into_iter().map(|k| k.service).collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        let catalog = Catalog { services };
        match find_cycle(&catalog) {
            Some(cycle) => Err(CatalogError::Cycle(cycle)),
            None => Ok(catalog),
        }
    }

    /// The service called `name`.
    pub fn get(&self, name: &str) -> Option<&Service> {
        self.services
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.services.get(i))
    }

    /// The names of every service, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.name.as_str())
    }
}

impl fmt::Display for ComplianceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for DependencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn problem(file: &Arc<SourceFile>, span: Span, kind: ProblemKind, hint: Option<String>) -> Problem {
    Problem {
        location: Location::of(file, span),
        kind,
        span,
        hint,
        text: file.clone(),
    }
}

const SERVICE_KEYS: &[&str] = &["name", "spec"];
const SPEC_KEYS: &[&str] = &["api_version", "compliance_mode", "dependencies"];
const DEPENDENCY_LISTS: &[&str] = &["runtime", "data", "security"];
const DEPENDENCY_KEYS: &[&str] = &["name", "optional"];

/// A service name: a string that is a valid ledger path segment.
fn read_name(doc: &mut Doc, node: &Node, what: &str, kind: &'static str) -> Option<String> {
    let name = doc.string(node, what)?;
    if !valid_segment(name) {
        doc.report(
            node.span,
            ProblemKind::InvalidName {
                what: kind,
                name: name.to_string(),
            },
            None,
        );
        return None;
    }
    Some(name.to_string())
}

/// A service as read from its file, with the spans later checks point at.
struct Read {
    service: Service,
    file: Arc<SourceFile>,
    name_span: Span,
    /// One per dependency, in the same order.
    dependency_spans: Vec<Span>,
}

/// The service of a file; `name` is set as soon as the name is read.
fn read_service(doc: &mut Doc, name_read: &mut Option<String>) -> Option<Read> {
    let root = doc.parse()?;
    let top = doc.mapping(&root, "the file", &["service"], &["service"])?;
    let service = top.get("service")?;
    let fields = doc.mapping(service, "service", SERVICE_KEYS, SERVICE_KEYS)?;
    let name_node = fields.get("name");
    let name = name_node.and_then(|n| read_name(doc, n, "service.name", "service name"));
    name_read.clone_from(&name);
    let spec = fields
        .get("spec")
        .and_then(|spec| doc.mapping(spec, "service.spec", SPEC_KEYS, &SPEC_KEYS[..2]));
    let spec = spec?;
    let api_version = spec
        .get("api_version")
        .and_then(|n| doc.string(n, "service.spec.api_version"))
        .map(str::to_string);
    let mode = spec.get("compliance_mode").and_then(|n| {
        let text = doc.string(n, "service.spec.compliance_mode")?;
        let mode = ComplianceMode::parse(text);
        if mode.is_none() {
            let hint = suggest(text, ["sandbox", "compliant"])
                .or_else(|| Some("`sandbox` or `compliant`".to_string()));
            doc.report(
                n.span,
                ProblemKind::InvalidValue {
                    what: "compliance_mode".into(),
                    value: text.to_string(),
                    expected: "`sandbox` or `compliant`".into(),
                },
                hint,
            );
        }
        mode
    });
    let dependencies = match spec.get("dependencies") {
        None => Some(Vec::new()),
        Some(node) if matches!(node.kind, NodeKind::Null) => Some(Vec::new()),
        Some(node) => read_dependencies(doc, node),
    };
    let name_node = name_node?;
    let (dependencies, dependency_spans) = dependencies?.into_iter().unzip();
    Some(Read {
        service: Service {
            name: name?,
            api_version: api_version?,
            compliance_mode: mode?,
            dependencies,
            location: doc.location(name_node.span),
        },
        file: doc.text.clone(),
        name_span: name_node.span,
        dependency_spans,
    })
}

fn read_dependencies(doc: &mut Doc, node: &Node) -> Option<Vec<(Dependency, Span)>> {
    let fields = doc.mapping(node, "service.spec.dependencies", DEPENDENCY_LISTS, &[])?;
    let mut all = Vec::new();
    let mut ok = true;
    for kind in DependencyKind::ALL {
        let Some(list) = fields.get(kind.as_str()) else {
            continue;
        };
        let place = format!("dependencies.{}", kind.as_str());
        let Some(items) = doc.sequence(list, &format!("service.spec.{place}")) else {
            ok = false;
            continue;
        };
        let mut seen: Vec<(Dependency, Span)> = Vec::new();
        for item in items {
            let Some((name_node, optional)) = read_dependency(doc, item, &place) else {
                ok = false;
                continue;
            };
            let Some(name) = read_name(doc, name_node, &place, "dependency name") else {
                ok = false;
                continue;
            };
            if let Some((first, _)) = seen.iter().find(|(d, _)| d.name == name) {
                let first = first.location.clone();
                doc.report(
                    name_node.span,
                    ProblemKind::DuplicateEntry {
                        name,
                        list: place.clone(),
                        first,
                    },
                    None,
                );
                ok = false;
                continue;
            }
            seen.push((
                Dependency {
                    name,
                    kind,
                    optional,
                    location: doc.location(name_node.span),
                },
                name_node.span,
            ));
        }
        all.extend(seen);
    }
    ok.then_some(all)
}

/// A list entry: a name, or `{ name, optional }`.
fn read_dependency<'n>(doc: &mut Doc, item: &'n Node, place: &str) -> Option<(&'n Node, bool)> {
    match &item.kind {
        NodeKind::Map(_) => {
            let fields = doc.mapping(
                item,
                &format!("an entry of {place}"),
                DEPENDENCY_KEYS,
                &["name"],
            )?;
            let optional = match fields.get("optional") {
                None => Some(false),
                Some(n) => doc.boolean(n, "optional"),
            };
            Some((fields.get("name")?, optional?))
        }
        NodeKind::String(_) => Some((item, false)),
        _ => {
            doc.wrong_type(
                item,
                &format!("an entry of {place}"),
                "a service name or `{ name, optional }`",
            );
            None
        }
    }
}
