//! Reading an SBOM back into components: CycloneDX JSON (any 1.x) and
//! SPDX 2.x JSON, by the purls they list. What `gantry scan SBOM` reads.

use serde_json::Value;

use crate::formats::Parsed;
use crate::model::{Component, Location, Scope, Warning};
use crate::purl::Purl;
use crate::text::Lines;

/// Whether a JSON document is an SBOM this module reads.
pub fn is_sbom(doc: &Value) -> bool {
    doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX")
        || doc.get("spdxVersion").is_some()
}

/// The components of an SBOM document whose text is `text`, shown as
/// `display`. Entries without a purl of a known ecosystem are warnings.
pub fn read_sbom(display: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.warnings.push(Warning {
                file: display.to_string(),
                line: Some(e.line()),
                message: format!("failed to parse JSON: {e}"),
            });
            return out;
        }
    };
    let mut lines = Lines::new(text);
    let mut purls: Vec<(String, Option<Scope>, Option<String>)> = Vec::new();
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        fn walk(
            list: &Value,
            purls: &mut Vec<(String, Option<Scope>, Option<String>)>,
            depth: usize,
        ) {
            if depth > 64 {
                return;
            }
            for c in list.as_array().into_iter().flatten() {
                let scope = match c.get("scope").and_then(Value::as_str) {
                    Some("optional") => Some(Scope::Optional),
                    Some("excluded") => Some(Scope::Dev),
                    Some(_) => Some(Scope::Runtime),
                    None => None,
                };
                let name = c.get("name").and_then(Value::as_str).map(str::to_string);
                match c.get("purl").and_then(Value::as_str) {
                    Some(p) => purls.push((p.to_string(), scope, name)),
                    None => purls.push((String::new(), scope, name)),
                }
                if let Some(nested) = c.get("components") {
                    walk(nested, purls, depth + 1);
                }
            }
        }
        if let Some(list) = doc.get("components") {
            walk(list, &mut purls, 0);
        }
    } else if doc.get("spdxVersion").is_some() {
        for p in doc
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = p.get("name").and_then(Value::as_str).map(str::to_string);
            let purl = p
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator").and_then(Value::as_str));
            if p.get("primaryPackagePurpose").and_then(Value::as_str) == Some("APPLICATION")
                && purl.is_none()
            {
                continue;
            }
            purls.push((purl.unwrap_or("").to_string(), None, name));
        }
    } else {
        out.warnings.push(Warning {
            file: display.to_string(),
            line: Some(1),
            message: "not a CycloneDX or SPDX JSON document".into(),
        });
        return out;
    }
    for (text_purl, scope, name) in purls {
        let needle = if text_purl.is_empty() {
            name.clone().unwrap_or_default()
        } else {
            text_purl.clone()
        };
        let line = lines.find_line(&needle).unwrap_or(1);
        let at = Location {
            file: display.to_string(),
            line,
        };
        let warn = |out: &mut Parsed, message: String| {
            out.warnings.push(Warning {
                file: display.to_string(),
                line: Some(line),
                message,
            });
        };
        if text_purl.is_empty() {
            warn(
                &mut out,
                format!(
                    "component {} has no purl and cannot be matched",
                    name.unwrap_or_default()
                ),
            );
            continue;
        }
        let purl = match Purl::parse(&text_purl) {
            Ok(p) => p,
            Err(e) => {
                warn(&mut out, format!("invalid purl `{text_purl}`: {e}"));
                continue;
            }
        };
        let Some(ecosystem) = purl.ecosystem() else {
            warn(
                &mut out,
                format!(
                    "purl type `{}` is not an ecosystem gantry matches",
                    purl.purl_type
                ),
            );
            continue;
        };
        let name = purl.package_name();
        let mut c = match &purl.version {
            Some(v) => Component::new(ecosystem, &name, Some(v), at),
            None => Component::unpinned(ecosystem, &name, "no version in the SBOM", at),
        };
        // Keep the document's purl: it is what the SBOM says.
        c.purl = text_purl;
        if let Some(s) = scope {
            c.scope = s;
        }
        out.components.push(c);
    }
    out
}
