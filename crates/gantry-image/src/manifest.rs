//! From the index to one manifest: the platform chosen, the config read,
//! every blob checked against the digest that names it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::digest::Digest;
use crate::source::{Container, safe_name};
use crate::{Error, Options, Warning};

/// A platform: `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `linux/amd64` or `linux/arm64/v8`.
    pub fn parse(text: &str) -> Option<Platform> {
        let mut parts = text.trim().split('/');
        let os = parts.next().filter(|s| !s.is_empty())?.to_string();
        let architecture = parts.next().filter(|s| !s.is_empty())?.to_string();
        let variant = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            os,
            architecture,
            variant,
        })
    }

    fn matches(&self, p: &PlatformJson) -> bool {
        self.os == p.os
            && self.architecture == p.architecture
            && (self.variant.is_none() || self.variant == p.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct PlatformJson {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl PlatformJson {
    fn text(&self) -> String {
        let mut s = format!("{}/{}", self.os, self.architecture);
        if let Some(v) = &self.variant {
            s.push('/');
            s.push_str(v);
        }
        s
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    platform: Option<PlatformJson>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Index {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// How a layer blob is checked.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// The blob's own digest (OCI).
    Blob(Digest),
    /// The uncompressed tar's digest (`docker save` without an index).
    DiffId(Digest),
}

/// A layer to read.
#[derive(Debug, Clone)]
pub(crate) struct LayerRef {
    pub(crate) digest: Digest,
    pub(crate) media_type: String,
    pub(crate) entry: String,
    pub(crate) check: Check,
}

/// The chosen manifest.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) name: Option<String>,
    pub(crate) digest: Digest,
    pub(crate) config_digest: Digest,
    pub(crate) platform: Option<String>,
    pub(crate) layers: Vec<LayerRef>,
    pub(crate) warnings: Vec<Warning>,
}

const MAX_INDEX_DEPTH: usize = 4;

fn invalid(c: &Container, what: &str, reason: impl ToString) -> Error {
    Error::Invalid {
        path: c.shown(),
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

fn digest_of(c: &Container, what: &str, text: &str) -> Result<Digest, Error> {
    Digest::parse(text).map_err(|e| invalid(c, what, e))
}

/// Reads a blob named by a descriptor and checks its digest.
fn read_blob(c: &Container, d: &Descriptor, what: &str) -> Result<(Digest, Vec<u8>), Error> {
    let digest = digest_of(c, what, &d.digest)?;
    let bytes = c.read_small(&digest.blob_path(), c.limits.max_json_bytes)?;
    let actual = Digest::of(&bytes);
    if actual != digest {
        return Err(Error::DigestMismatch {
            path: c.shown(),
            what: format!("{what} {}", digest.blob_path()),
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok((digest, bytes))
}

fn name_of(d: &Descriptor) -> Option<String> {
    d.annotations
        .get("io.containerd.image.name")
        .or_else(|| d.annotations.get("org.opencontainers.image.ref.name"))
        .cloned()
}

fn choose<'a>(
    c: &Container,
    manifests: &'a [Descriptor],
    options: &Options,
) -> Result<&'a Descriptor, Error> {
    // Attestation manifests (buildx) say `unknown/unknown`.
    let candidates: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    let available = || {
        let mut v: Vec<String> = candidates
            .iter()
            .map(|d| {
                d.platform
                    .as_ref()
                    .map_or_else(|| "(no platform)".into(), PlatformJson::text)
            })
            .collect();
        v.sort();
        v.dedup();
        v.join(", ")
    };
    if let Some(want) = &options.platform {
        return candidates
            .iter()
            .copied()
            .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
            .or_else(|| {
                // A single-platform layout without platform fields: the
                // config says which; checked after reading it.
                (candidates.len() == 1 && candidates[0].platform.is_none()).then(|| candidates[0])
            })
            .ok_or_else(|| Error::NoPlatform {
                path: c.shown(),
                wanted: want.to_string(),
                available: available(),
            });
    }
    let mut distinct: Vec<&Descriptor> = Vec::new();
    for d in &candidates {
        if !distinct.iter().any(|e| e.digest == d.digest) {
            distinct.push(d);
        }
    }
    match distinct.as_slice() {
        [] => Err(invalid(c, "the index", "it lists no manifests")),
        [only] => Ok(only),
        many => many
            .iter()
            .copied()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
            })
            .ok_or_else(|| Error::AmbiguousPlatform {
                path: c.shown(),
                count: many.len(),
                available: available(),
            }),
    }
}

/// Resolves the container's index to one manifest.
pub(crate) fn resolve(c: &mut Container, options: &Options) -> Result<Resolved, Error> {
    if c.has("index.json") {
        resolve_oci(c, options)
    } else {
        resolve_docker(c)
    }
}

fn resolve_oci(c: &Container, options: &Options) -> Result<Resolved, Error> {
    let bytes = c.read_small("index.json", c.limits.max_json_bytes)?;
    let mut index: Index =
        serde_json::from_slice(&bytes).map_err(|e| invalid(c, "index.json", e))?;
    let mut name = None;
    let mut what = "index.json".to_string();
    for _ in 0..MAX_INDEX_DEPTH {
        let manifests = index
            .manifests
            .take()
            .ok_or_else(|| invalid(c, &what, "it has no `manifests` list"))?;
        let chosen = choose(c, &manifests, options)?.clone();
        if name.is_none() {
            name = name_of(&chosen);
        }
        let (digest, bytes) = read_blob(c, &chosen, "the manifest")?;
        let next: Index =
            serde_json::from_slice(&bytes).map_err(|e| invalid(c, &digest.blob_path(), e))?;
        let is_index = next.manifests.is_some()
            || next
                .media_type
                .as_deref()
                .is_some_and(|m| m.contains("index") || m.contains("manifest.list"));
        if is_index {
            what = digest.blob_path();
            index = next;
            continue;
        }
        return manifest(c, digest, next, name, options);
    }
    Err(invalid(
        c,
        "index.json",
        format!("indexes nest deeper than {MAX_INDEX_DEPTH} levels"),
    ))
}

fn manifest(
    c: &Container,
    digest: Digest,
    m: Index,
    name: Option<String>,
    options: &Options,
) -> Result<Resolved, Error> {
    let at = digest.blob_path();
    let config = m
        .config
        .ok_or_else(|| invalid(c, &at, "the manifest has no config"))?;
    let layers = m
        .layers
        .ok_or_else(|| invalid(c, &at, "the manifest has no layers list"))?;
    let (config_digest, config_bytes) = read_blob(c, &config, "the config")?;
    let cfg: Config = serde_json::from_slice(&config_bytes)
        .map_err(|e| invalid(c, &config_digest.blob_path(), e))?;
    let platform = platform_text(&cfg);
    if let (Some(want), Some(os), Some(arch)) = (&options.platform, &cfg.os, &cfg.architecture)
        && (want.os != *os || want.architecture != *arch)
    {
        return Err(Error::NoPlatform {
            path: c.shown(),
            wanted: want.to_string(),
            available: platform.clone().unwrap_or_default(),
        });
    }
    let mut refs = Vec::with_capacity(layers.len());
    for l in &layers {
        let d = digest_of(c, "a layer", &l.digest)?;
        refs.push(LayerRef {
            entry: d.blob_path(),
            check: Check::Blob(d.clone()),
            digest: d,
            media_type: l.media_type.clone(),
        });
        let _ = l.size;
    }
    Ok(Resolved {
        name,
        digest,
        config_digest,
        platform,
        layers: refs,
        warnings: Vec::new(),
    })
}

fn platform_text(cfg: &Config) -> Option<String> {
    let (os, arch) = (cfg.os.as_deref()?, cfg.architecture.as_deref()?);
    Some(match &cfg.variant {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

fn resolve_docker(c: &Container) -> Result<Resolved, Error> {
    let bytes = c.read_small("manifest.json", c.limits.max_json_bytes)?;
    let entries: Vec<DockerEntry> =
        serde_json::from_slice(&bytes).map_err(|e| invalid(c, "manifest.json", e))?;
    let mut warnings = Vec::new();
    let entry = entries
        .first()
        .ok_or_else(|| invalid(c, "manifest.json", "it lists no images"))?;
    if entries.len() > 1 {
        warnings.push(Warning {
            place: "manifest.json".into(),
            message: format!(
                "the tarball holds {} images; only the first ({}) is read",
                entries.len(),
                entry.config
            ),
        });
    }
    let config_name = safe_name(&entry.config).ok_or_else(|| {
        invalid(
            c,
            "manifest.json",
            format!("config path `{}` leaves the tarball", entry.config),
        )
    })?;
    let config_bytes = c.read_small(&config_name, c.limits.max_json_bytes)?;
    let config_digest = Digest::of(&config_bytes);
    let cfg: Config =
        serde_json::from_slice(&config_bytes).map_err(|e| invalid(c, &config_name, e))?;
    let diff_ids = cfg
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        return Err(invalid(
            c,
            &config_name,
            format!(
                "it lists {} layers (rootfs.diff_ids) but manifest.json lists {}",
                diff_ids.len(),
                entry.layers.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    for (path, diff) in entry.layers.iter().zip(&diff_ids) {
        let name = safe_name(path).ok_or_else(|| {
            invalid(
                c,
                "manifest.json",
                format!("layer path `{path}` leaves the tarball"),
            )
        })?;
        let diff = digest_of(c, "a layer's diff_id", diff)?;
        layers.push(LayerRef {
            digest: diff.clone(),
            media_type: "application/vnd.docker.image.rootfs.diff.tar".into(),
            entry: name,
            check: Check::DiffId(diff),
        });
    }
    Ok(Resolved {
        name: entry.repo_tags.as_ref().and_then(|t| t.first().cloned()),
        digest: config_digest.clone(),
        config_digest,
        platform: platform_text(&cfg),
        layers,
        warnings,
    })
}
