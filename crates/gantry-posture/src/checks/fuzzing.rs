//! Fuzzing: ClusterFuzzLite deployed in the repository, or fuzz and
//! property-based tests in the languages Scorecard knows (Go native
//! fuzzing, Haskell QuickCheck/Hedgehog/validity/SmallCheck, JavaScript and
//! TypeScript fast-check, Erlang PropEr/QuickCheck, C#/F# FsCheck), plus
//! cargo-fuzz targets for Rust. Found: 10; not: 0.
//!
//! Scorecard also looks the repository up in OSS-Fuzz's project list,
//! which needs the network; a checkout cannot tell.

use regex::Regex;

use crate::checkout::Checkout;
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Fuzzing",
    risk: Risk::Medium,
    description: "Whether the project is fuzzed: ClusterFuzzLite, or fuzz and property-based tests in the repository.",
    remediation: "add fuzz targets (Go `func FuzzX(f *testing.F)`, cargo-fuzz, fast-check, ...) and run them in CI, e.g. with ClusterFuzzLite, or join OSS-Fuzz",
    note: Some(
        "offline: OSS-Fuzz's project list is not consulted; cargo-fuzz targets count for Rust",
    ),
};

/// A language's files and what in them shows fuzzing.
struct Pattern {
    what: &'static str,
    suffixes: &'static [&'static str],
    /// Only files whose path contains this (cargo-fuzz targets live in a
    /// `fuzz` folder).
    within: Option<&'static str>,
    regex: &'static str,
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        what: "Go native fuzzing",
        suffixes: &["_test.go"],
        within: None,
        regex: r"func\s+Fuzz\w*\s*\(\s*\w+\s+\*testing\.F\s*\)",
    },
    Pattern {
        what: "cargo-fuzz target",
        suffixes: &[".rs"],
        within: Some("fuzz"),
        regex: r"(?m)^\s*(libfuzzer_sys::)?fuzz_target!\s*\(",
    },
    Pattern {
        what: "Haskell property-based testing",
        suffixes: &[".hs", ".lhs"],
        within: None,
        regex: r"(?m)^\s*import\s+(qualified\s+)?(Test\.QuickCheck|Hedgehog|Test\.Validity|Test\.SmallCheck|Test\.Tasty\.QuickCheck|Test\.Tasty\.SmallCheck|Test\.Hspec\.QuickCheck)",
    },
    Pattern {
        what: "fast-check property-based testing",
        suffixes: &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"],
        within: None,
        regex: r#"(from\s+|require\(\s*|import\s+)["'](@fast-check/[\w-]+|fast-check)["']"#,
    },
    Pattern {
        what: "Erlang property-based testing",
        suffixes: &[".erl", ".hrl"],
        within: None,
        regex: r#"-include(_lib)?\(\s*"(proper|eqc)/include/(proper|eqc)\.hrl"\s*\)"#,
    },
    Pattern {
        what: "FsCheck property-based testing",
        suffixes: &[".cs", ".fs", ".fsx"],
        within: None,
        regex: r"(?m)^\s*(using|open)\s+FsCheck\b",
    },
];

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        if let Some(f) = checkout
            .files
            .iter()
            .find(|f| f.eq_ignore_ascii_case(".clusterfuzzlite/Dockerfile"))
        {
            return CheckResult::scored(&META, MAX_SCORE, "project is fuzzed: ClusterFuzzLite")
                .with(vec![Reason::info("ClusterFuzzLite deployed").at(f, None)]);
        }
        for p in PATTERNS {
            let Ok(re) = Regex::new(p.regex) else {
                continue;
            };
            for file in checkout
                .files
                .iter()
                .filter(|f| p.suffixes.iter().any(|s| f.ends_with(s)))
                .filter(|f| p.within.is_none_or(|w| f.contains(w)))
            {
                let Some(text) = checkout.read_text(file) else {
                    continue;
                };
                if let Some(m) = re.find(&text) {
                    let line = text[..m.start()].matches('\n').count() + 1;
                    return CheckResult::scored(
                        &META,
                        MAX_SCORE,
                        format!("project is fuzzed: {}", p.what),
                    )
                    .with(vec![Reason::info(p.what).at(file, Some(line))]);
                }
            }
        }
        CheckResult::scored(&META, 0, "project is not fuzzed").with(vec![
            Reason::warn("no fuzzing found")
                .fix("add fuzz targets and run them continuously (ClusterFuzzLite in `.clusterfuzzlite/`, or OSS-Fuzz)"),
        ])
    }
}
