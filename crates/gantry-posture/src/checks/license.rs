//! License: a licence file (`LICENSE`, `LICENCE`, `COPYING`, `COPYRIGHT`,
//! with an extension or an SPDX identifier around the name, or any file in
//! `LICENSES/`): 6 points; at the top folder (or REUSE's top `LICENSES/`):
//! 3 more; an FSF- or OSI-approved licence named by its SPDX identifier in
//! the file name or recognised from the text: 1 more.

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "License",
    risk: Risk::Low,
    description: "Whether the project publishes a licence in a file at the top of the repository.",
    remediation: "add a LICENSE file at the top folder (or REUSE's LICENSES/<SPDX-id>.txt) with an FSF- or OSI-approved licence",
    note: None,
};

const NAMES: &[&str] = &["license", "licence", "copying", "copyright"];

const EXTENSIONS: &[&str] = &[
    "", "adoc", "asc", "docx", "doc", "ext", "html", "markdown", "md", "rst", "txt", "xml",
];

/// FSF- or OSI-approved SPDX identifiers, and a phrase of each licence's
/// text that names it.
const APPROVED: &[(&str, &str)] = &[
    ("Apache-2.0", "apache license, version 2.0"),
    ("Apache-2.0", "apache license\nversion 2.0"),
    ("MIT", "permission is hereby granted, free of charge"),
    ("BSD-3-Clause", "neither the name of"),
    (
        "BSD-2-Clause",
        "redistributions in binary form must reproduce",
    ),
    (
        "ISC",
        "permission to use, copy, modify, and/or distribute this software",
    ),
    ("MPL-2.0", "mozilla public license version 2.0"),
    ("MPL-2.0", "mozilla public license, version 2.0"),
    ("GPL-3.0", "gnu general public license\n"),
    ("GPL-3.0", "gnu general public license version 3"),
    ("GPL-2.0", "gnu general public license version 2"),
    ("LGPL-3.0", "gnu lesser general public license"),
    ("AGPL-3.0", "gnu affero general public license"),
    (
        "Unlicense",
        "this is free and unencumbered software released into the public domain",
    ),
    ("BSL-1.0", "boost software license"),
    ("EPL-2.0", "eclipse public license - v 2.0"),
    (
        "Zlib",
        "this software is provided 'as-is', without any express or implied",
    ),
    (
        "0BSD",
        "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted.",
    ),
];

/// SPDX identifiers that may appear in a file name.
const APPROVED_IDS: &[&str] = &[
    "apache-2.0",
    "mit",
    "bsd-3-clause",
    "bsd-2-clause",
    "isc",
    "mpl-2.0",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl-2.1",
    "lgpl-3.0",
    "agpl-3.0",
    "unlicense",
    "bsl-1.0",
    "epl-2.0",
    "zlib",
    "0bsd",
    "cc0-1.0",
    "artistic-2.0",
    "gpl-2.0-only",
    "gpl-3.0-only",
    "gpl-2.0-or-later",
    "gpl-3.0-or-later",
    "lgpl-2.1-only",
    "lgpl-3.0-only",
    "agpl-3.0-only",
    "eupl-1.2",
];

/// Whether `name` (no folder) names a licence file, and the SPDX id in it.
fn licence_name(name: &str) -> Option<Option<String>> {
    let lower = name.to_ascii_lowercase();
    let stem = match lower.rsplit_once('.') {
        Some((s, e)) if EXTENSIONS.contains(&e) => s.to_string(),
        _ => lower.clone(),
    };
    for base in NAMES {
        if stem == *base {
            return Some(None);
        }
        // `LICENSE-MIT`, `LICENSE_APACHE-2.0`, `MIT-LICENSE`.
        if let Some(rest) = stem
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix(['-', '_', '.']))
        {
            return Some(Some(rest.to_string()));
        }
        if let Some(rest) = stem
            .strip_suffix(base)
            .and_then(|r| r.strip_suffix(['-', '_', '.']))
        {
            return Some(Some(rest.to_string()));
        }
    }
    None
}

fn approved_id(id: &str) -> Option<&'static str> {
    let id = id.to_ascii_lowercase();
    APPROVED_IDS.iter().copied().find(|a| *a == id)
}

fn approved_from_text(text: &str) -> Option<&'static str> {
    let lower: String = text
        .chars()
        .take(8000)
        .collect::<String>()
        .to_ascii_lowercase();
    let squeezed: String = lower
        .split([' ', '\t'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    APPROVED.iter().find_map(|(id, phrase)| {
        (squeezed.contains(phrase)
            || squeezed
                .replace(" \n", "\n")
                .replace("\n ", "\n")
                .contains(phrase))
        .then_some(*id)
    })
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        // (file, top level, SPDX id from the name)
        let mut found: Vec<(&String, bool, Option<String>)> = Vec::new();
        for f in &checkout.files {
            let (dir, name) = f.rsplit_once('/').unwrap_or(("", f));
            if dir.eq_ignore_ascii_case("LICENSES") {
                let id = name.rsplit_once('.').map_or(name, |(s, _)| s).to_string();
                found.push((f, true, Some(id)));
            } else if let Some(id) = licence_name(name) {
                let depth = f.matches('/').count();
                if depth == 0 {
                    found.push((f, true, id));
                }
            }
        }
        let Some(&(first, top, _)) = found.first() else {
            return CheckResult::scored(&META, 0, "license file not detected").with(vec![
                Reason::warn("no licence file found")
                    .at("LICENSE", None)
                    .fix("add a LICENSE file at the top folder with the project's licence (an SPDX identifier in the name, e.g. LICENSE-MIT, also names it)"),
            ]);
        };
        let mut score = 6u8;
        let mut reasons = vec![Reason::info("licence file found").at(first, None)];
        if top {
            score += 3;
        }
        let approved = found.iter().find_map(|(f, _, id)| {
            id.as_deref()
                .and_then(approved_id)
                .or_else(|| {
                    checkout
                        .read_text(f)
                        .as_deref()
                        .and_then(approved_from_text)
                })
                .map(|id| (*f, id))
        });
        match approved {
            Some((f, id)) => {
                score += 1;
                reasons.push(Reason::info(format!("FSF/OSI-approved licence: {id}")).at(f, None));
            }
            None => reasons.push(
                Reason::warn("the licence is not recognised as FSF- or OSI-approved")
                    .at(first, None)
                    .fix("use an FSF- or OSI-approved licence and name it by its SPDX identifier, e.g. LICENSE-Apache-2.0 or LICENSES/MIT.txt"),
            ),
        }
        CheckResult::scored(&META, score, "license file detected").with(reasons)
    }
}
