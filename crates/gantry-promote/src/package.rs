//! Packages: the immutable unit a promotion moves. A package names
//! services at a version (the `PackageRequest` of `POST /v1/packages`:
//! `services` and `version`), the artifacts it ships and the digests of the
//! evidence envelopes it was made with. Its id is the hex SHA-256 of the
//! RFC 8785 canonical JSON of that content, so the same package always has
//! the same id, and a package file whose content no longer hashes to its
//! name is refused.
//!
//! Packages live in one folder (`$GANTRY_HOME/packages/<id>.json`); a file
//! is written once (temporary file, fsync, then a hard link that fails if
//! the name exists) and never rewritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The version of a package file.
pub const PACKAGE_FILE_VERSION: u32 = 1;

/// Most bytes of a package file or an evidence envelope read for one.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// A service of a package, at its version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageService {
    pub name: String,
    pub version: String,
}

/// A file the package ships, by name and SHA-256, and the service it
/// belongs to (none: every service of the package).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub name: String,
    pub sha256: String,
}

/// An evidence envelope the package was made with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRef {
    /// SHA-256 of the envelope file's bytes.
    pub sha256: String,
    pub predicate_type: String,
}

/// What a package is: the part its id is the hash of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageContent {
    /// Sorted by name.
    pub services: Vec<PackageService>,
    pub version: String,
    /// Sorted by name.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Sorted by digest.
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
}

impl PackageContent {
    /// The id: hex SHA-256 of the canonical JSON.
    pub fn id(&self) -> Result<String, PackageError> {
        let bytes = serde_json_canonicalizer::to_vec(self)
            .map_err(|e| PackageError::Canonical(e.to_string()))?;
        Ok(hex(&sha2::Sha256::digest(&bytes)))
    }

    /// The artifacts `service` ships: its own and the package's.
    pub fn artifacts_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Artifact> + 'a {
        self.artifacts
            .iter()
            .filter(move |a| a.service.as_deref().is_none_or(|s| s == service))
    }

    /// The version of `service` in this package.
    pub fn version_of(&self, service: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|s| s.name == service)
            .map(|s| s.version.as_str())
    }
}

/// A package as stored: its content, its id, who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub version: u32,
    pub id: String,
    pub content: PackageContent,
    pub created_by: String,
    pub created_at: String,
}

impl Package {
    /// The services' names, in the package's (name) order.
    pub fn service_names(&self) -> Vec<String> {
        self.content
            .services
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }
}

/// What `gantry package create` asks for.
#[derive(Debug, Clone, Default)]
pub struct PackageRequest {
    /// Service names; `NAME@VERSION` gives one service its own version.
    pub services: Vec<String>,
    pub version: String,
    /// DSSE envelope files.
    pub evidence: Vec<PathBuf>,
    /// Files the package ships: `(Some(service), path)` for one service's,
    /// `(None, path)` for every service's.
    pub artifacts: Vec<(Option<String>, PathBuf)>,
    pub created_by: String,
    /// RFC 3339.
    pub time: String,
}

/// What `gantry package create` did.
#[derive(Debug, Clone, Serialize)]
pub struct CreateReport {
    pub version: u32,
    /// False when the same package existed already (it is left as it was).
    pub created: bool,
    pub package: Package,
}

/// `gantry packages`.
#[derive(Debug, Clone, Serialize)]
pub struct PackagesReport {
    pub version: u32,
    pub packages: Vec<Package>,
}

/// Why a package could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    #[error("a package needs at least one service")]
    NoServices,
    #[error("unknown service `{name}`{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownService { name: String, hint: Option<String> },
    #[error("artifact {} is for `{service}`, which is not a service of the package", path.display())]
    ArtifactService { service: String, path: PathBuf },
    #[error("service `{0}` is named twice")]
    DuplicateService(String),
    #[error("version `{0}` may hold only letters, digits and - _ . + @")]
    BadVersion(String),
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: gantry_fs::ReadError,
    },
    #[error("{}: {source}", path.display())]
    Evidence {
        path: PathBuf,
        source: gantry_attest::AttestError,
    },
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no package `{0}`; `gantry packages` lists them")]
    NotFound(String),
    #[error("`{prefix}` matches {count} packages; give more of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error("`{0}` is not a package id (hex digits, at least 8)")]
    BadId(String),
    #[error("{}: {reason}", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error("failed to make canonical JSON: {0}")]
    Canonical(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The packages in one folder.
#[derive(Debug, Clone)]
pub struct PackageStore {
    dir: PathBuf,
}

impl PackageStore {
    pub fn new(dir: impl Into<PathBuf>) -> PackageStore {
        PackageStore { dir: dir.into() }
    }

    /// Makes the package `request` describes; services must be among
    /// `known` (the catalog's names). The same content again returns the
    /// existing package, unchanged.
    pub fn create(
        &self,
        request: &PackageRequest,
        known: &[String],
    ) -> Result<CreateReport, PackageError> {
        let content = content_of(request, known)?;
        let id = content.id()?;
        if let Some(existing) = self.read(&id)? {
            return Ok(CreateReport {
                version: PACKAGE_FILE_VERSION,
                created: false,
                package: existing,
            });
        }
        let package = Package {
            version: PACKAGE_FILE_VERSION,
            id: id.clone(),
            content,
            created_by: request.created_by.clone(),
            created_at: request.time.clone(),
        };
        let created = self.write_new(&package)?;
        let package = if created {
            package
        } else {
            // Another process made it first: theirs stands.
            self.read(&id)?
                .ok_or_else(|| PackageError::NotFound(id.clone()))?
        };
        Ok(CreateReport {
            version: PACKAGE_FILE_VERSION,
            created,
            package,
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn write_new(&self, package: &Package) -> Result<bool, PackageError> {
        let io = |action, path: &Path, source| PackageError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io("create", &self.dir, e))?;
        let mut text = serde_json::to_vec_pretty(package)
            .map_err(|e| PackageError::Canonical(e.to_string()))?;
        text.push(b'\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", package.id))
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| io("create", &self.dir, e))?;
        tmp.write_all(&text)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io("write", tmp.path(), e))?;
        let target = self.path(&package.id);
        // A hard link never replaces what is there: of two creators, the
        // first one's file stands. The temporary file goes when `tmp` drops.
        let linked = match std::fs::hard_link(tmp.path(), &target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io("write", &target, e)),
        };
        let linked = linked?;
        if linked && let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(linked)
    }

    /// The package with this id, checked against its content.
    fn read(&self, id: &str) -> Result<Option<Package>, PackageError> {
        let path = self.path(id);
        if !path.exists() && std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let bytes = gantry_fs::read_bounded(&path, MAX_FILE_BYTES).map_err(|source| {
            PackageError::Read {
                path: path.clone(),
                source,
            }
        })?;
        let damaged = |reason: String| PackageError::Damaged {
            path: path.clone(),
            reason,
        };
        let package: Package = serde_json::from_slice(&bytes)
            .map_err(|e| damaged(format!("not a gantry package: {e}")))?;
        if package.version != PACKAGE_FILE_VERSION {
            return Err(damaged(format!(
                "package file version {} is not {PACKAGE_FILE_VERSION}",
                package.version
            )));
        }
        let actual = package.content.id()?;
        if actual != id || package.id != id {
            return Err(damaged(format!(
                "the package was changed: its content hashes to {actual}, not {id}"
            )));
        }
        Ok(Some(package))
    }

    /// The package whose id is or starts with `id` (at least 8 hex digits).
    pub fn get(&self, id: &str) -> Result<Package, PackageError> {
        let id = id.strip_prefix("sha256:").unwrap_or(id);
        if id.len() < 8 || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PackageError::BadId(id.to_string()));
        }
        let id = id.to_ascii_lowercase();
        if id.len() == 64 {
            return self.read(&id)?.ok_or(PackageError::NotFound(id));
        }
        let matches: Vec<String> = self
            .ids()?
            .into_iter()
            .filter(|known| known.starts_with(&id))
            .collect();
        match matches.as_slice() {
            [one] => self
                .read(one)?
                .ok_or_else(|| PackageError::NotFound(one.clone())),
            [] => Err(PackageError::NotFound(id)),
            many => Err(PackageError::Ambiguous {
                prefix: id,
                count: many.len(),
            }),
        }
    }

    fn ids(&self) -> Result<Vec<String>, PackageError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(PackageError::Io {
                    action: "read",
                    path: self.dir.clone(),
                    source: e,
                });
            }
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?;
                (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| id.to_string())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Every package, oldest first (then by id).
    pub fn list(&self) -> Result<PackagesReport, PackageError> {
        let mut packages = Vec::new();
        for id in self.ids()? {
            if let Some(p) = self.read(&id)? {
                packages.push(p);
            }
        }
        packages.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(PackagesReport {
            version: PACKAGE_FILE_VERSION,
            packages,
        })
    }
}

fn content_of(request: &PackageRequest, known: &[String]) -> Result<PackageContent, PackageError> {
    if request.services.is_empty() {
        return Err(PackageError::NoServices);
    }
    let valid = gantry_ledger::record::valid_segment;
    if !valid(&request.version) {
        return Err(PackageError::BadVersion(request.version.clone()));
    }
    let mut services = Vec::new();
    for given in &request.services {
        let (name, version) = match given.split_once('@') {
            Some((name, version)) => (name, version),
            None => (given.as_str(), request.version.as_str()),
        };
        if !valid(version) {
            return Err(PackageError::BadVersion(version.to_string()));
        }
        if !known.iter().any(|k| k == name) {
            return Err(PackageError::UnknownService {
                name: name.to_string(),
                hint: gantry_workflow::did_you_mean(name, known.iter().map(String::as_str))
                    .map(str::to_string),
            });
        }
        if services.iter().any(|s: &PackageService| s.name == name) {
            return Err(PackageError::DuplicateService(name.to_string()));
        }
        services.push(PackageService {
            name: name.to_string(),
            version: version.to_string(),
        });
    }
    services.sort();
    let mut artifacts = Vec::new();
    for (service, path) in &request.artifacts {
        if let Some(service) = service
            && !services.iter().any(|s| &s.name == service)
        {
            return Err(PackageError::ArtifactService {
                service: service.clone(),
                path: path.clone(),
            });
        }
        let sha256 =
            gantry_attest::digest::sha256_file(path).map_err(|source| PackageError::Evidence {
                path: path.clone(),
                source,
            })?;
        artifacts.push(Artifact {
            service: service.clone(),
            name: gantry_attest::statement::subject_name(path),
            sha256,
        });
    }
    artifacts.sort();
    artifacts.dedup();
    let mut evidence = Vec::new();
    for path in &request.evidence {
        let bytes =
            gantry_fs::read_bounded(path, MAX_FILE_BYTES).map_err(|source| PackageError::Read {
                path: path.clone(),
                source,
            })?;
        let evidence_error = |source| PackageError::Evidence {
            path: path.clone(),
            source,
        };
        let envelope = gantry_attest::dsse::Envelope::from_json(&bytes).map_err(evidence_error)?;
        let statement = gantry_attest::statement::Statement::from_payload(&envelope.payload)
            .map_err(evidence_error)?;
        evidence.push(EvidenceRef {
            sha256: hex(&sha2::Sha256::digest(&bytes)),
            predicate_type: statement.predicate_type,
        });
    }
    evidence.sort();
    evidence.dedup();
    Ok(PackageContent {
        services,
        version: request.version.clone(),
        artifacts,
        evidence,
    })
}
