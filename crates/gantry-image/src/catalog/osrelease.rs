//! `os-release`: which distribution and release the image is.

use serde::Serialize;

use crate::view::FileView;

/// The distribution of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsRelease {
    /// `ID`: `debian`, `ubuntu`, `alpine`, `rocky`, ...
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.19.1`.
    pub version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// Where it was read.
    pub path: String,
}

/// A shell-style value: quotes removed, backslash escapes resolved.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses `os-release` text.
pub(crate) fn parse(text: &str, path: &str) -> Option<OsRelease> {
    let mut id = None;
    let mut version_id = None;
    let mut pretty = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim() {
            "ID" => id = Some(unquote(v).to_ascii_lowercase()),
            "VERSION_ID" => version_id = Some(unquote(v)),
            "PRETTY_NAME" => pretty = Some(unquote(v)),
            _ => {}
        }
    }
    Some(OsRelease {
        id: id.filter(|s| !s.is_empty())?,
        version_id: version_id.unwrap_or_default(),
        pretty_name: pretty,
        path: path.to_string(),
    })
}

/// The image's `os-release` (`etc/os-release`, else `usr/lib/os-release`),
/// with `etc/alpine-release` or `etc/debian_version` filling in a missing
/// `VERSION_ID`.
pub(crate) fn read(view: &FileView) -> Option<OsRelease> {
    let mut found = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| {
            let (real, _, bytes) = view.bytes(p)?;
            parse(&String::from_utf8_lossy(bytes), real)
        });
    if let Some(os) = &mut found
        && os.version_id.is_empty()
        && os.id == "alpine"
        && let Some((_, _, b)) = view.bytes("etc/alpine-release")
    {
        os.version_id = String::from_utf8_lossy(b).trim().to_string();
    }
    if found.is_none()
        && let Some((real, _, b)) = view.bytes("etc/alpine-release")
    {
        found = Some(OsRelease {
            id: "alpine".into(),
            version_id: String::from_utf8_lossy(b).trim().to_string(),
            pretty_name: None,
            path: real.to_string(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_quoted_values() {
        let os = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
            "etc/os-release",
        )
        .unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert!(parse("NAME=x\n", "p").is_none());
    }
}
