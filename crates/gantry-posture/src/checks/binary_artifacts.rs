//! Binary-Artifacts: executables and compiled code checked in. Each
//! binary costs a point (10 minus their number, at least 0).
//!
//! A file is binary when its first bytes are an executable or package
//! format's magic (ELF, PE, Mach-O, Java class, DEX, WebAssembly, ar, RPM,
//! CRX) or when its extension is one of Scorecard's binary extensions and
//! its content is not text. A `gradle-wrapper.jar` counts as verified when
//! a workflow validates the wrapper.

use std::io::Read;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Binary-Artifacts",
    risk: Risk::High,
    description: "Whether generated executables (compiled binaries, class files, wheels, jars) are checked into the repository, where nobody can review them.",
    remediation: "remove the generated executables from the repository and build them from source",
    note: None,
};

/// Scorecard's extensions of binary files.
const EXTENSIONS: &[&str] = &[
    "crx", "deb", "dex", "dey", "elf", "o", "a", "so", "macho", "iso", "class", "jar", "bundle",
    "dylib", "lib", "msi", "dll", "drv", "efi", "exe", "ocx", "pyc", "pyo", "par", "rpm", "wasm",
    "whl",
];

/// How many leading bytes are looked at.
const HEAD: usize = 1024;

/// Whether the first bytes are a binary format's magic.
fn magic(head: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"\x7fELF", "ELF executable"),
        (b"\xca\xfe\xba\xbe", "Java class or Mach-O universal binary"),
        (b"\xfe\xed\xfa\xce", "Mach-O binary"),
        (b"\xfe\xed\xfa\xcf", "Mach-O binary"),
        (b"\xce\xfa\xed\xfe", "Mach-O binary"),
        (b"\xcf\xfa\xed\xfe", "Mach-O binary"),
        (b"dex\n", "Android DEX"),
        (b"dey\n", "Android DEY"),
        (b"\0asm", "WebAssembly module"),
        (b"!<arch>\n", "ar archive (static library or .deb)"),
        (b"\xed\xab\xee\xdb", "RPM package"),
        (b"Cr24", "Chrome extension"),
    ];
    if let Some((_, what)) = MAGICS.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(what);
    }
    // PE: `MZ` and a plausible `PE\0\0` header offset.
    if head.starts_with(b"MZ") && head.len() >= 0x40 {
        let at = u32::from_le_bytes([head[0x3c], head[0x3d], head[0x3e], head[0x3f]]) as usize;
        if head.get(at..at + 4) == Some(b"PE\0\0") || at >= head.len() {
            return Some("Windows executable");
        }
    }
    None
}

/// Scorecard's text test: no control characters but tab, CR and LF in
/// the UTF-8 prefix (an incomplete last character is allowed).
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| c >= ' ' || matches!(c, '\n' | '\t' | '\r'))
}

fn head_of(checkout: &Checkout<'_>, rel: &str) -> Option<Vec<u8>> {
    let path = checkout.path(rel);
    // Never through a link: a tracked link is not a checked-in binary.
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.file_type().is_file() || meta.len() == 0 {
        return None;
    }
    let file = gantry_fs::open_regular(&path).ok()?;
    let mut head = Vec::with_capacity(HEAD);
    file.take(HEAD as u64).read_to_end(&mut head).ok()?;
    Some(head)
}

/// Why `rel` is a binary, if it is.
fn binary(checkout: &Checkout<'_>, rel: &str) -> Option<&'static str> {
    let head = head_of(checkout, rel)?;
    if let Some(what) = magic(&head) {
        return Some(what);
    }
    let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    if rel
        .rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with('.') && !n[1..].contains('.'))
    {
        return None;
    }
    (EXTENSIONS.contains(&ext.as_str()) && !is_text(&head)).then_some("binary file")
}

/// The binaries among `files`, on every core.
fn binaries<'a>(checkout: &Checkout<'_>, files: &'a [String]) -> Vec<(&'a str, &'static str)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = files.len().div_ceil(threads).max(1);
    let mut found: Vec<(&str, &str)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|f| binary(checkout, f).map(|why| (f.as_str(), why)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    found.sort();
    found
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let found = binaries(checkout, &checkout.files);
        let gradle_validated = super::find_in_workflows(
            checkout,
            &[
                "gradle/wrapper-validation-action",
                "gradle/actions/wrapper-validation",
            ],
            None,
        )
        .is_some();
        let mut reasons = Vec::new();
        let mut count = 0u8;
        for (file, why) in found {
            let name = file.rsplit('/').next().unwrap_or(file);
            if name == "gradle-wrapper.jar" && gradle_validated {
                reasons.push(Reason::info("Gradle wrapper validated by a workflow").at(file, None));
                continue;
            }
            count = count.saturating_add(1);
            reasons.push(
                Reason::warn(format!("binary detected: {why}"))
                    .at(file, None)
                    .fix("remove it from the repository and build it from source in CI"),
            );
        }
        if count == 0 {
            return CheckResult::scored(&META, MAX_SCORE, "no binaries found in the repo")
                .with(reasons);
        }
        CheckResult::scored(
            &META,
            MAX_SCORE.saturating_sub(count),
            format!("{count} binaries present in source code"),
        )
        .with(reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_and_text() {
        assert!(magic(b"\x7fELF\x02\x01").is_some());
        assert!(magic(b"#!/bin/sh\n").is_none());
        assert!(is_text(b"hello\n\tworld\r\n"));
        assert!(!is_text(b"PK\x03\x04\x00\x00"));
        // A character cut at the end of the prefix is still text.
        assert!(is_text(&"é".as_bytes()[..1]));
    }
}
