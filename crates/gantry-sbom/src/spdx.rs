//! SPDX 2.3 JSON with the dependency graph as relationships.
//! Deterministic like the CycloneDX writer.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::cyclonedx::DocumentInfo;
use crate::inventory::Inventory;
use crate::model::{Component, Location, Scope};

/// The SPDX id of the described project.
pub const ROOT_ID: &str = "SPDXRef-Project";

/// A version-5-shaped UUID derived from the given parts (two FNV-1a
/// hashes), so the same content gets the same document id.
pub(crate) fn content_uuid<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(byte.rotate_left(3))).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::text::hex_encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An SPDX id for a component: readable, `[A-Za-z0-9.-]` only, and unique
/// (a short hash of the purl is appended).
fn spdx_id(c: &Component) -> String {
    let readable: String = format!(
        "{}-{}-{}",
        c.ecosystem.purl_type(),
        c.name,
        c.version.as_deref().unwrap_or("unpinned")
    )
    .chars()
    .map(|ch| {
        if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
            ch
        } else {
            '-'
        }
    })
    .collect();
    let uuid = content_uuid(std::iter::once(c.purl.as_str()));
    format!("SPDXRef-Package-{readable}-{}", &uuid[..8])
}

fn package_json(c: &Component, id: &str, locations: &[Location]) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert("SPDXID".into(), json!(id));
    obj.insert("name".into(), json!(c.name));
    if let Some(v) = &c.version {
        obj.insert("versionInfo".into(), json!(v));
    }
    obj.insert("downloadLocation".into(), json!("NOASSERTION"));
    obj.insert("filesAnalyzed".into(), json!(false));
    if !c.hashes.is_empty() {
        let checksums: Vec<Value> = c
            .hashes
            .iter()
            .map(|h| json!({"algorithm": h.algorithm.spdx_name(), "checksumValue": h.hex}))
            .collect();
        obj.insert("checksums".into(), Value::Array(checksums));
    }
    obj.insert("licenseConcluded".into(), json!("NOASSERTION"));
    obj.insert("licenseDeclared".into(), json!("NOASSERTION"));
    obj.insert("copyrightText".into(), json!("NOASSERTION"));
    let shown: Vec<String> = locations.iter().map(ToString::to_string).collect();
    let mut source = format!("{} package declared in {}", c.ecosystem, shown.join(", "));
    if let Some(r) = &c.requirement {
        source.push_str(&format!("; not pinned: {r}"));
    }
    obj.insert("sourceInfo".into(), json!(source));
    obj.insert(
        "externalRefs".into(),
        json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": c.purl,
        }]),
    );
    obj.insert("primaryPackagePurpose".into(), json!("LIBRARY"));
    Value::Object(obj)
}

/// The SPDX 2.3 document of an inventory.
pub fn write(inventory: &Inventory, info: &DocumentInfo) -> Value {
    let unique = inventory.unique_components();
    let ids: HashMap<&str, String> = unique
        .iter()
        .map(|(c, _)| (c.purl.as_str(), spdx_id(c)))
        .collect();
    let mut packages = vec![json!({
        "SPDXID": ROOT_ID,
        "name": info.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "APPLICATION",
    })];
    let mut relationships: BTreeSet<(String, &'static str, String)> = BTreeSet::new();
    for (c, locations) in &unique {
        let Some(id) = ids.get(c.purl.as_str()) else {
            continue;
        };
        packages.push(package_json(c, id, locations));
        if c.direct {
            match c.scope {
                Scope::Runtime => {
                    relationships.insert((ROOT_ID.into(), "DEPENDS_ON", id.clone()));
                }
                Scope::Optional => {
                    relationships.insert((id.clone(), "OPTIONAL_DEPENDENCY_OF", ROOT_ID.into()));
                }
                Scope::Dev => {
                    relationships.insert((id.clone(), "DEV_DEPENDENCY_OF", ROOT_ID.into()));
                }
            }
        }
        for dep in &c.dependencies {
            if let Some(dep_id) = ids.get(dep.as_str())
                && dep_id != id
            {
                relationships.insert((id.clone(), "DEPENDS_ON", dep_id.clone()));
            }
        }
    }
    let mut rels = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": ROOT_ID,
    })];
    rels.extend(relationships.into_iter().map(
        |(a, t, b)| json!({"spdxElementId": a, "relationshipType": t, "relatedSpdxElement": b}),
    ));
    let uuid = content_uuid(
        std::iter::once(info.name.as_str())
            .chain(std::iter::once("spdx-2.3"))
            .chain(unique.iter().map(|(c, _)| c.purl.as_str())),
    );
    let safe_name: String = info
        .name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' || ch == '_' {
                ch
            } else {
                '-'
            }
        })
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": info.name,
        "documentNamespace": format!("https://spdx.org/spdxdocs/gantry/{safe_name}-{uuid}"),
        "creationInfo": {
            "created": crate::time::format_rfc3339(info.timestamp),
            "creators": [format!("Tool: gantry-{}", info.tool_version)],
        },
        "packages": packages,
        "relationships": rels,
    })
}
