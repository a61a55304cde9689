//! The OSV schema, as much of it as matching and reporting need. Unknown
//! fields are ignored; what is kept is stored in the index.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One advisory.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub severity: Vec<SeverityEntry>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub affected: Vec<Affected>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub severity: Vec<SeverityEntry>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub ranges: Vec<Range>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Package {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, deserialize_with = "null_vec")]
    pub events: Vec<Event>,
}

/// One range event; exactly one field is set in valid records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

impl Record {
    /// The record's id and aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The kind of a RustSec informational advisory (`unmaintained`,
    /// `unsound`, `notice`), `None` for a vulnerability.
    pub fn informational(&self) -> Option<String> {
        self.affected.iter().find_map(|a| {
            a.database_specific
                .as_ref()?
                .get("informational")?
                .as_str()
                .map(str::to_string)
        })
    }

    /// When the record last changed: `modified`, or `published` where
    /// `modified` is the zero date (the Go database's exports).
    pub fn freshness(&self) -> &str {
        if self.modified.is_empty() || self.modified.starts_with("0001-") {
            self.published.as_deref().unwrap_or(&self.modified)
        } else {
            &self.modified
        }
    }

    /// The advisory's web page: its `ADVISORY` reference, else the first.
    pub fn advisory_url(&self) -> Option<&str> {
        self.references
            .iter()
            .find(|r| r.kind == "ADVISORY")
            .or_else(|| self.references.first())
            .map(|r| r.url.as_str())
    }

    /// Drops what matching and reports never read, to keep the index
    /// small: `GIT` ranges (commits cannot be compared with package
    /// versions; the record's other ranges and `versions` still apply),
    /// long details, and database-specific fields other than severity,
    /// CVSS and the informational kind.
    pub fn compact(mut self) -> Record {
        const MAX_DETAILS: usize = 2000;
        if let Some(d) = &mut self.details
            && d.len() > MAX_DETAILS
        {
            let mut cut = MAX_DETAILS;
            while !d.is_char_boundary(cut) {
                cut -= 1;
            }
            d.truncate(cut);
            d.push('…');
        }
        self.database_specific = keep_fields(self.database_specific.take(), &["severity", "cvss"]);
        for a in &mut self.affected {
            a.ranges.retain(|r| r.kind != "GIT");
            a.database_specific = keep_fields(
                a.database_specific.take(),
                &["severity", "cvss", "informational"],
            );
            a.ecosystem_specific = keep_fields(a.ecosystem_specific.take(), &["severity"]);
            if let Some(p) = &mut a.package {
                p.purl = None;
            }
        }
        self
    }
}

fn keep_fields(value: Option<Value>, keep: &[&str]) -> Option<Value> {
    let Value::Object(map) = value? else {
        return None;
    };
    let kept: serde_json::Map<String, Value> = map
        .into_iter()
        .filter(|(k, v)| keep.contains(&k.as_str()) && !v.is_null())
        .collect();
    (!kept.is_empty()).then_some(Value::Object(kept))
}

/// `null` or a missing list as empty. Scalars stay as typed in the
/// file: deserialising YAML into `String` keeps `1.10` as written.
fn null_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
