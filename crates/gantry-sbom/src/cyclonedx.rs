//! CycloneDX JSON (1.6 by default, 1.5 on request) with the dependency
//! graph. Deterministic: components and edges sorted by purl, the serial
//! number derived from the content, the timestamp given by the caller
//! (`SOURCE_DATE_EPOCH` in the binary).

use serde_json::{Value, json};

use crate::inventory::Inventory;
use crate::model::{Component, Ecosystem, Location, Scope};
use crate::purl::Purl;

/// The CycloneDX specification versions gantry writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SpecVersion {
    V1_5,
    #[default]
    V1_6,
}

impl SpecVersion {
    pub fn parse(text: &str) -> Option<SpecVersion> {
        match text {
            "1.5" => Some(SpecVersion::V1_5),
            "1.6" => Some(SpecVersion::V1_6),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V1_5 => "1.5",
            SpecVersion::V1_6 => "1.6",
        }
    }
}

/// What describes the document rather than its components.
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    /// The project: the scanned folder's name.
    pub name: String,
    /// Seconds since the epoch.
    pub timestamp: i64,
    /// The writing tool's version.
    pub tool_version: String,
}

/// The bom-ref of the described project.
pub const ROOT_REF: &str = "root";

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Runtime => "required",
        Scope::Optional => "optional",
        Scope::Dev => "excluded",
    }
}

/// CycloneDX's group and name: the purl's namespace where the ecosystem
/// has one that users see (npm scope, Maven group, Composer vendor).
pub(crate) fn group_and_name(c: &Component) -> (Option<String>, String) {
    match c.ecosystem {
        Ecosystem::Npm | Ecosystem::Maven | Ecosystem::Packagist => {
            let separator = if c.ecosystem == Ecosystem::Maven {
                ':'
            } else {
                '/'
            };
            match c.name.rsplit_once(separator) {
                Some((g, n)) => (Some(g.to_string()), n.to_string()),
                None => (None, c.name.clone()),
            }
        }
        _ => (None, c.name.clone()),
    }
}

fn component_json(c: &Component, locations: &[Location], spec: SpecVersion) -> Value {
    let (group, name) = group_and_name(c);
    let mut obj = serde_json::Map::new();
    obj.insert("type".into(), json!("library"));
    obj.insert("bom-ref".into(), json!(c.purl));
    if let Some(g) = group {
        obj.insert("group".into(), json!(g));
    }
    obj.insert("name".into(), json!(name));
    if let Some(v) = &c.version {
        obj.insert("version".into(), json!(v));
    }
    obj.insert("scope".into(), json!(scope_name(c.scope)));
    if !c.hashes.is_empty() {
        let mut hashes: Vec<Value> = c
            .hashes
            .iter()
            .map(|h| json!({"alg": h.algorithm.cyclonedx_name(), "content": h.hex}))
            .collect();
        hashes.dedup();
        obj.insert("hashes".into(), Value::Array(hashes));
    }
    obj.insert("purl".into(), json!(c.purl));
    let mut properties = vec![
        json!({"name": "gantry:ecosystem", "value": c.ecosystem.osv_name()}),
        json!({"name": "gantry:dependency", "value": if c.direct { "direct" } else { "transitive" }}),
    ];
    if let Some(r) = &c.requirement {
        properties.push(json!({"name": "gantry:requirement", "value": r}));
    }
    for (k, v) in &c.properties {
        properties.push(json!({"name": format!("gantry:{k}"), "value": v}));
    }
    obj.insert("properties".into(), Value::Array(properties));
    let occurrences: Vec<Value> = locations
        .iter()
        .map(|l| match spec {
            SpecVersion::V1_6 => json!({"location": l.file, "line": l.line}),
            SpecVersion::V1_5 => json!({"location": l.to_string()}),
        })
        .collect();
    obj.insert("evidence".into(), json!({"occurrences": occurrences}));
    Value::Object(obj)
}

/// The SBOM of an inventory.
pub fn write(inventory: &Inventory, info: &DocumentInfo, spec: SpecVersion) -> Value {
    let unique = inventory.unique_components();
    let refs: std::collections::HashSet<&str> =
        unique.iter().map(|(c, _)| c.purl.as_str()).collect();
    let components: Vec<Value> = unique
        .iter()
        .map(|(c, l)| component_json(c, l, spec))
        .collect();
    let mut direct: Vec<&str> = unique
        .iter()
        .filter(|(c, _)| c.direct)
        .map(|(c, _)| c.purl.as_str())
        .collect();
    direct.sort_unstable();
    let mut dependencies = vec![json!({"ref": ROOT_REF, "dependsOn": direct})];
    for (c, _) in &unique {
        let mut deps: Vec<&str> = c
            .dependencies
            .iter()
            .map(String::as_str)
            .filter(|d| refs.contains(d) && *d != c.purl)
            .collect();
        deps.sort_unstable();
        deps.dedup();
        dependencies.push(json!({"ref": c.purl, "dependsOn": deps}));
    }
    let serial = crate::spdx::content_uuid(
        std::iter::once(info.name.as_str())
            .chain(std::iter::once(spec.as_str()))
            .chain(unique.iter().map(|(c, _)| c.purl.as_str())),
    );
    let root_purl = Purl {
        purl_type: "generic".into(),
        namespace: None,
        name: info.name.clone(),
        version: None,
        qualifiers: Vec::new(),
        subpath: None,
    };
    json!({
        "$schema": format!("http://cyclonedx.org/schema/bom-{}.schema.json", spec.as_str()),
        "bomFormat": "CycloneDX",
        "specVersion": spec.as_str(),
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": crate::time::format_rfc3339(info.timestamp),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "gantry",
                    "version": info.tool_version,
                }]
            },
            "component": {
                "type": "application",
                "bom-ref": ROOT_REF,
                "name": info.name,
                "purl": root_purl.to_string(),
            }
        },
        "components": components,
        "dependencies": dependencies,
    })
}
