//! Security-Policy: a `SECURITY.md` (or `.markdown`, `.adoc`, `.rst`) at
//! the top, in `.github/` or in `docs/`, scored on its content as
//! Scorecard documents: a link to report through (an e-mail address or an
//! http(s) URL): 6; free text beyond the links: 3; at least two hints of
//! vulnerability handling (`vuln`, `disclos`, numbers such as "90 days"):
//! 1. No file: 0.

use std::collections::BTreeSet;

use regex::Regex;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Security-Policy",
    risk: Risk::Medium,
    description: "Whether the project publishes a security policy saying how to report a vulnerability privately and what happens next.",
    remediation: "add SECURITY.md at the top folder with a private contact (e-mail or advisory URL), what counts as a vulnerability and the disclosure timeline",
    note: None,
};

const FILES: &[&str] = &[
    "SECURITY.md",
    ".github/SECURITY.md",
    "docs/SECURITY.md",
    "SECURITY.markdown",
    ".github/SECURITY.markdown",
    "docs/SECURITY.markdown",
    "SECURITY.adoc",
    ".github/SECURITY.adoc",
    "docs/SECURITY.adoc",
    "SECURITY.rst",
    ".github/SECURITY.rst",
    "doc/SECURITY.rst",
    "docs/SECURITY.rst",
];

/// What a policy's text earns: (links, text, disclosure) points.
pub fn content_score(text: &str) -> (u8, u8, u8) {
    let (Ok(url), Ok(email), Ok(hint)) = (
        Regex::new(r"(http|https)://[a-zA-Z0-9./?=_%:-]*"),
        Regex::new(r"\b[A-Za-z0-9._%+-]+(@|\\?\[at\\?\])[A-Za-z0-9.-]+\.[A-Za-z]{2,6}\b"),
        Regex::new(r"(?i)\b[0-9]{1,4}\b|disclos|vuln"),
    ) else {
        return (0, 0, 0);
    };
    let mut links = BTreeSet::new();
    let mut hints = 0usize;
    for line in text.lines() {
        for m in url.find_iter(line).chain(email.find_iter(line)) {
            links.insert(m.as_str());
        }
        hints += hint.find_iter(line).count();
    }
    let linked: usize = links.iter().map(|l| l.len()).sum();
    let size = text.len();
    let link_points = if links.is_empty() { 0 } else { 6 };
    let text_points = if size > 1 && size > linked + links.len() * 2 {
        3
    } else {
        0
    };
    let hint_points = if hints > 1 { 1 } else { 0 };
    (link_points, text_points, hint_points)
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let Some(file) = FILES
            .iter()
            .find_map(|want| checkout.files.iter().find(|f| f.eq_ignore_ascii_case(want)))
        else {
            return CheckResult::scored(&META, 0, "security policy file not detected").with(vec![
                Reason::warn("no security policy found")
                    .at("SECURITY.md", None)
                    .fix("add SECURITY.md with a private way to report vulnerabilities (an e-mail address or the advisory URL), what counts as one and how soon you respond"),
            ]);
        };
        let text = checkout.read_text(file).unwrap_or_default();
        let (links, prose, hints) = content_score(&text);
        let mut reasons = vec![Reason::info("security policy found").at(file, None)];
        if links == 0 {
            reasons.push(
                Reason::warn("no e-mail address or URL to report vulnerabilities to (6 points)")
                    .at(file, None)
                    .fix("add a private contact: a security e-mail address or the repository's security advisory URL"),
            );
        }
        if prose == 0 {
            reasons.push(
                Reason::warn("no text besides links (3 points)")
                    .at(file, None)
                    .fix("describe how to report a vulnerability and what reporters can expect"),
            );
        }
        if hints == 0 {
            reasons.push(
                Reason::warn("nothing about vulnerability disclosure or timelines (1 point)")
                    .at(file, None)
                    .fix("say what counts as a vulnerability and the disclosure timeline, e.g. \"we disclose within 90 days\""),
            );
        }
        CheckResult::scored(
            &META,
            links + prose + hints,
            "security policy file detected",
        )
        .with(reasons)
    }
}
