//! NuGet: `Major.Minor.Patch[.Revision][-prerelease][+metadata]`, missing
//! parts are zero, a pre-release sorts before its release, pre-release
//! labels compare as SemVer 2.0 but without regard to case; metadata is
//! ignored.

use std::cmp::Ordering;

use super::VersionOrder;

/// NuGet.
pub struct NuGet;

fn parse(text: &str) -> Option<([u64; 4], Vec<String>)> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    if t.len() > super::MAX_VERSION_LEN {
        return None;
    }
    let t = t.split('+').next().unwrap_or(t);
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (t, None),
    };
    let mut numbers = [0u64; 4];
    let mut count = 0;
    for (i, part) in core.split('.').enumerate() {
        if i >= 4 {
            return None;
        }
        numbers[i] = part.parse().ok()?;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    let labels = match pre {
        Some("") => return None,
        Some(p) => p.split('.').map(str::to_ascii_lowercase).collect(),
        None => Vec::new(),
    };
    Some((numbers, labels))
}

fn compare_labels(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

impl VersionOrder for NuGet {
    fn name(&self) -> &'static str {
        "NuGet"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let (na, la) = parse(a)?;
        let (nb, lb) = parse(b)?;
        Some(na.cmp(&nb).then_with(|| compare_labels(&la, &lb)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_like_nuget_version() {
        assert_ascending(
            &NuGet,
            &[
                "1.0.0-alpha",
                "1.0.0-Beta",
                "1.0.0-beta.2",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.0.1",
                "12.0.1",
                "13.0.1",
            ],
        );
        assert_eq!(NuGet.compare("1.0", "1.0.0.0"), Some(Ordering::Equal));
        assert_eq!(
            NuGet.compare("1.0.0-BETA", "1.0.0-beta"),
            Some(Ordering::Equal)
        );
        assert_eq!(NuGet.compare("1.0.0+abc", "1.0.0"), Some(Ordering::Equal));
    }
}
