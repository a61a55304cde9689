//! An image's SBOM: gantry-sbom's CycloneDX and SPDX writers over the
//! image's components, with the image itself as the described component
//! (CycloneDX `container`, an `oci` purl carrying the manifest digest)
//! and its layers as properties.

use gantry_sbom::cyclonedx::{self, DocumentInfo, SpecVersion};
use serde_json::{Value, json};

use crate::catalog::ImageInventory;

/// The `pkg:oci` purl of the image: its repository's last part as name,
/// the manifest digest as version, the rest of the reference as
/// `repository_url` and `tag` qualifiers.
pub fn image_purl(inv: &ImageInventory) -> String {
    let reference = inv.image.name.as_str();
    // A path (not a reference) names nothing in a registry.
    let (repo, tag) = if reference.contains(std::path::MAIN_SEPARATOR) && !reference.contains(':') {
        (None, None)
    } else {
        let (r, t) = match reference.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (reference, None),
        };
        (Some(r), t)
    };
    let name = repo
        .and_then(|r| r.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("image")
        .to_ascii_lowercase();
    let mut qualifiers = Vec::new();
    if let Some(p) = inv.image.platform.as_deref()
        && let Some(arch) = p.split('/').nth(1)
    {
        qualifiers.push(("arch".to_string(), arch.to_string()));
    }
    if let Some(r) = repo.filter(|r| r.contains('/')) {
        qualifiers.push(("repository_url".to_string(), r.to_string()));
    }
    if let Some(t) = tag {
        qualifiers.push(("tag".to_string(), t.to_string()));
    }
    qualifiers.sort();
    gantry_sbom::purl::Purl {
        purl_type: "oci".into(),
        namespace: None,
        name,
        version: Some(inv.image.digest.clone()),
        qualifiers,
        subpath: None,
    }
    .to_string()
}

/// CycloneDX JSON of an image.
pub fn cyclonedx(inv: &ImageInventory, info: &DocumentInfo, spec: SpecVersion) -> Value {
    let mut doc = cyclonedx::write(&inv.inventory, info, spec);
    let mut properties = vec![
        json!({"name": "gantry:image-digest", "value": inv.image.digest}),
        json!({"name": "gantry:image-config-digest", "value": inv.image.config_digest}),
        json!({"name": "gantry:image-kind", "value": inv.image.kind.as_str()}),
    ];
    if let Some(os) = &inv.os {
        properties.push(
            json!({"name": "gantry:distro", "value": format!("{}-{}", os.id, os.version_id)}),
        );
    }
    for (i, l) in inv.image.layers.iter().enumerate() {
        properties.push(json!({"name": format!("gantry:layer:{i}"), "value": l.digest}));
    }
    if let Some(component) = doc.pointer_mut("/metadata/component") {
        component["type"] = json!("container");
        component["name"] = json!(inv.image.name);
        component["version"] = json!(inv.image.digest);
        component["purl"] = json!(image_purl(inv));
        component["hashes"] =
            json!([{"alg": "SHA-256", "content": inv.image.digest.trim_start_matches("sha256:")}]);
        component["properties"] = Value::Array(properties);
    }
    doc
}

/// SPDX 2.3 JSON of an image.
pub fn spdx(inv: &ImageInventory, info: &DocumentInfo) -> Value {
    gantry_sbom::spdx::write(&inv.inventory, info)
}
