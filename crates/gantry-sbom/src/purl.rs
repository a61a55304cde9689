//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`) as
//! the purl specification builds and parses them, with each type's
//! namespace and name rules.

use std::fmt;

use crate::model::{Ecosystem, pep503};

/// A parsed or built package URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub purl_type: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Sorted by key, as the specification's canonical form wants.
    pub qualifiers: Vec<(String, String)>,
    pub subpath: Option<String>,
}

/// Why a string is not a purl.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    #[error("a purl starts with `pkg:`")]
    Scheme,
    #[error("the purl has no type")]
    Type,
    #[error("the purl has no name")]
    Name,
    #[error("the purl has an invalid percent-encoding")]
    Encoding,
}

impl Purl {
    /// The purl of a package name (as [`Ecosystem::canonical_name`] gives
    /// it) and version, applying the type's rules: npm scopes become the
    /// namespace, Maven `group:artifact` and Packagist `vendor/name` split
    /// into namespace and name, Go module paths split at the last `/`, and
    /// the types that ignore case are lower-cased.
    pub fn for_package(ecosystem: Ecosystem, name: &str, version: Option<&str>) -> Purl {
        let (namespace, name) = match ecosystem {
            Ecosystem::Npm => match name.rsplit_once('/') {
                Some((scope, n)) if scope.starts_with('@') => {
                    (Some(scope.to_lowercase()), n.to_lowercase())
                }
                _ => (None, name.to_lowercase()),
            },
            Ecosystem::Maven => match name.split_once(':') {
                Some((group, artifact)) => (Some(group.to_string()), artifact.to_string()),
                None => (None, name.to_string()),
            },
            Ecosystem::Packagist => match name.split_once('/') {
                Some((vendor, n)) => (Some(vendor.to_lowercase()), n.to_lowercase()),
                None => (None, name.to_lowercase()),
            },
            Ecosystem::Go => match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns.to_lowercase()), n.to_lowercase()),
                None => (None, name.to_lowercase()),
            },
            Ecosystem::PyPI => (None, pep503(name)),
            _ => (None, name.to_string()),
        };
        Purl {
            purl_type: ecosystem.purl_type().to_string(),
            namespace,
            name,
            version: version.map(str::to_string),
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    /// The ecosystem of this purl's type, if gantry knows it.
    pub fn ecosystem(&self) -> Option<Ecosystem> {
        Ecosystem::from_purl_type(&self.purl_type)
    }

    /// The package name as the ecosystem writes it: the inverse of
    /// [`Purl::for_package`] (`@scope/name`, `group:artifact`,
    /// `vendor/name`, a Go module path).
    pub fn package_name(&self) -> String {
        let Some(ns) = &self.namespace else {
            return self.name.clone();
        };
        match self.ecosystem() {
            Some(Ecosystem::Maven) => format!("{ns}:{}", self.name),
            _ => format!("{ns}/{}", self.name),
        }
    }

    /// Parses a purl string.
    pub fn parse(text: &str) -> Result<Purl, PurlError> {
        let rest = text
            .trim()
            .strip_prefix("pkg:")
            .ok_or(PurlError::Scheme)?
            .trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, s)) => (r, Some(s)),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (purl_type, rest) = rest.split_once('/').ok_or(PurlError::Type)?;
        if purl_type.is_empty() {
            return Err(PurlError::Type);
        }
        let rest = rest.trim_end_matches('/');
        let (path, version) = match rest.rfind('@') {
            Some(at) if rest[..at].contains('/') || at > 0 => {
                (&rest[..at], Some(decode(&rest[at + 1..])?))
            }
            _ => (rest, None),
        };
        let mut segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect::<Result<_, _>>()?;
        let name = segments.pop().ok_or(PurlError::Name)?;
        let namespace = (!segments.is_empty()).then(|| segments.join("/"));
        let mut qs = Vec::new();
        for pair in qualifiers
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
        {
            if let Some((k, v)) = pair.split_once('=') {
                qs.push((k.to_ascii_lowercase(), decode(v)?));
            }
        }
        qs.sort();
        let subpath = match subpath {
            Some(s) if !s.is_empty() => Some(decode(s)?),
            _ => None,
        };
        Ok(Purl {
            purl_type: purl_type.to_ascii_lowercase(),
            namespace,
            name,
            version,
            qualifiers: qs,
            subpath,
        })
    }
}

/// Percent-encodes everything but the unreserved characters (and `:` which
/// the specification leaves as is).
fn encode(out: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            write!(out, "{}", b as char)?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

fn decode(text: &str) -> Result<String, PurlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or(PurlError::Encoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PurlError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError::Encoding)
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.purl_type)?;
        if let Some(ns) = &self.namespace {
            for segment in ns.split('/').filter(|s| !s.is_empty()) {
                encode(f, segment)?;
                f.write_str("/")?;
            }
        }
        encode(f, &self.name)?;
        if let Some(v) = &self.version {
            f.write_str("@")?;
            encode(f, v)?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{k}=")?;
            encode(f, v)?;
        }
        if let Some(s) = &self.subpath {
            f.write_str("#")?;
            for (i, segment) in s.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    f.write_str("/")?;
                }
                encode(f, segment)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn build(e: Ecosystem, name: &str, v: &str) -> String {
        Purl::for_package(e, &e.canonical_name(name), Some(v)).to_string()
    }

    #[test]
    fn builds_each_type_by_its_rules() {
        assert_eq!(
            build(Ecosystem::Npm, "@Angular/core", "12.0.0"),
            "pkg:npm/%40angular/core@12.0.0"
        );
        assert_eq!(
            build(Ecosystem::PyPI, "Zope.Interface", "5.0"),
            "pkg:pypi/zope-interface@5.0"
        );
        assert_eq!(
            build(
                Ecosystem::Maven,
                "org.apache.commons:commons-lang3",
                "3.12.0"
            ),
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
        );
        assert_eq!(
            build(Ecosystem::Go, "github.com/BurntSushi/toml", "v1.2.0"),
            "pkg:golang/github.com/burntsushi/toml@v1.2.0"
        );
        assert_eq!(
            build(Ecosystem::Packagist, "Laravel/Framework", "v9.0.0"),
            "pkg:composer/laravel/framework@v9.0.0"
        );
        assert_eq!(
            build(Ecosystem::Cargo, "serde", "1.0.0+build.1"),
            "pkg:cargo/serde@1.0.0%2Bbuild.1"
        );
        assert_eq!(
            build(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1"),
            "pkg:nuget/Newtonsoft.Json@13.0.1"
        );
    }

    #[test]
    fn parses_what_it_prints() {
        for text in [
            "pkg:npm/%40angular/core@12.0.0",
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0?type=jar",
            "pkg:golang/github.com/gorilla/context@v1.1.1#api",
            "pkg:cargo/serde@1.0.0%2Bbuild.1",
            "pkg:pypi/django",
        ] {
            assert_eq!(Purl::parse(text).unwrap().to_string(), text);
        }
        let p = Purl::parse("pkg:npm/%40angular/core@12.0.0").unwrap();
        assert_eq!(p.package_name(), "@angular/core");
        assert_eq!(p.version.as_deref(), Some("12.0.0"));
        let p = Purl::parse("pkg:maven/org.apache/x@1").unwrap();
        assert_eq!(p.package_name(), "org.apache:x");
        assert!(Purl::parse("npm/x").is_err());
        assert!(Purl::parse("pkg:npm/x%zz").is_err());
    }
}
