//! Rego policies: every `.gantry/policies/*.rego`, parsed once with
//! `regorus` (Rego v1) and evaluated in process.
//!
//! A policy gate names a file by its stem (`policy: compliance` is
//! `.gantry/policies/compliance.rego`). The query is the `deny` rule of
//! that file's package, `data.<package>.deny`, and must be a set (or an
//! array) of strings: empty passes, and each string is a reason the gate
//! fails. Everything else fails closed, with the reason: a file that could
//! not be read or parsed, an unknown policy name, an evaluation error
//! (builtin errors are strict: a failing builtin is an error, not a
//! silently undefined `deny`), an undefined `deny`, a `deny` of another
//! shape, or an evaluation that runs out of its time budget.
//!
//! # Limits
//!
//! A file is read through `gantry_fs` (no FIFOs or devices, at most
//! [`MAX_POLICY_BYTES`]); regorus' own policy length limits apply when
//! parsing (1 MiB, 20,000 lines, 1,024 columns); text whose brackets nest
//! deeper than [`MAX_NESTING`] is refused before parsing (the parser is
//! exponential in some such input and has no timer); an evaluation is stopped
//! after [`EVAL_TIME_LIMIT`] by regorus' cooperative execution timer, and a
//! panic inside the evaluator is caught and fails the gate. regorus'
//! memory budgets need its mimalloc allocator feature, which gantry does
//! not use, so a policy can still allocate a lot before the timer stops it.
//! `opa.runtime()` does not expose the environment, and the `http`
//! builtins are not compiled in.
//!
//! # The input document
//!
//! `input` is one JSON object, built by the promotion for each service and
//! transition:
//!
//! ```json
//! { "package": {"id": "…", "version": "1.2.0", "services": ["service-a"], "created_by": "alice"},
//!   "service": {"name": "service-a", "version": "1.2.0", "compliance_mode": "compliant",
//!               "dependencies": ["service-b"]},
//!   "transition": {"from": "sandbox", "to": "compliance_ready"},
//!   "evidence": [{"kind": "sbom", "predicate_type": "https://cyclonedx.org/bom", "index": 12,
//!                 "verified": true, "signed_by": ["keyid…"], "time": "2026-12-06T21:00:00Z",
//!                 "summary": {}}],
//!   "approvals": [{"approver": "alice", "time": "…", "comment": "…"}],
//!   "dependencies": [{"name": "service-b", "optional": false, "state": "compliant"}],
//!   "time": "2026-12-06T22:00:00Z" }
//! ```
//!
//! `evidence` is [`crate::evidence::summaries`]: each record of the service
//! and version, oldest first, with its ledger `index`, whether it verifies
//! against the trusted keys (and, when not, the `reason`), the key ids that
//! signed it, and a summary of its predicate: `{result, passed, warned,
//! failed}` for test results, `{findings, by_severity}` for audits,
//! `{vulnerabilities, by_severity}` for vulns, `{build_type, builder,
//! subjects: [{name, sha256}]}` for provenance, `{components}` for SBOMs.
//!
//! ```rego
//! package compliance
//!
//! deny contains msg if {
//!     input.transition.to == "compliant"
//!     not sbom_present
//!     msg := sprintf("%s %s has no verified SBOM", [input.service.name, input.service.version])
//! }
//!
//! sbom_present if {
//!     some e in input.evidence
//!     e.kind == "sbom"
//!     e.verified
//! }
//! ```

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;

use crate::outcome::Outcome;

/// The largest policy file read.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;
/// How long one evaluation may run.
pub const EVAL_TIME_LIMIT: Duration = Duration::from_secs(2);

/// How deeply brackets, braces and parentheses may nest in a policy.
/// regorus' parser takes time exponential in the nesting of some broken
/// expressions (20 levels take seconds), and parsing has no timer, so
/// deeper text is refused before it reaches the parser. Real policies nest
/// a handful of levels.
pub const MAX_NESTING: usize = 16;

/// The deepest nesting of `[`, `{` and `(` in Rego source, outside string
/// literals and comments.
fn nesting(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
            }
            '[' | '{' | '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}
/// Where policies live, under the repository root.
pub const POLICIES_DIR: &str = ".gantry/policies";

/// Every policy of a repository, parsed once.
pub struct Policies {
    by_name: BTreeMap<String, Loaded>,
}

enum Loaded {
    Ready {
        /// `.gantry/policies/NAME.rego`.
        file: String,
        /// `data.<package>.deny`.
        rule: String,
        engine: Box<Mutex<regorus::Engine>>,
    },
    /// Unusable: every gate naming it fails with this reason.
    Broken { file: String, reason: String },
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_map();
        for (name, loaded) in &self.by_name {
            match loaded {
                Loaded::Ready { rule, .. } => list.entry(name, rule),
                Loaded::Broken { reason, .. } => list.entry(name, reason),
            };
        }
        list.finish()
    }
}

/// Why the policies could not be listed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("failed to list policies in {}: {source}", path.display())]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} leads out of the repository: {source}", path.display())]
    Escapes {
        path: PathBuf,
        source: gantry_fs::Escape,
    },
}

impl Policies {
    /// Every `<root>/.gantry/policies/*.rego`. No folder = no policies. A
    /// file that cannot be read or parsed is kept as a failure, so that
    /// a gate naming it fails closed with the reason.
    pub fn load(root: &Path) -> Result<Policies, PolicyError> {
        let dir = root.join(POLICIES_DIR);
        if let Err(source) = gantry_fs::confine(root, Path::new(POLICIES_DIR)) {
            return Err(PolicyError::Escapes { path: dir, source });
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Policies {
                    by_name: BTreeMap::new(),
                });
            }
            Err(source) => return Err(PolicyError::List { path: dir, source }),
        };
        let mut by_name = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(|source| PolicyError::List {
                path: dir.clone(),
                source,
            })?;
            let file_name = entry.file_name();
            let Some(stem) = file_name
                .to_str()
                .and_then(|n| n.strip_suffix(".rego"))
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let shown = format!("{POLICIES_DIR}/{stem}.rego");
            let loaded = load_one(root, &shown);
            by_name.insert(stem.to_string(), loaded);
        }
        Ok(Policies { by_name })
    }

    /// Policies from texts (name → Rego source), as if each were
    /// `.gantry/policies/NAME.rego`.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Policies {
        let by_name = sources
            .into_iter()
            .map(|(name, text)| {
                let file = format!("{POLICIES_DIR}/{name}.rego");
                (name.to_string(), compile(file, text.to_string()))
            })
            .collect();
        Policies { by_name }
    }

    /// The policy names (file stems), sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Evaluates `data.<package>.deny` of policy `policy` over `input`:
    /// pass when it is empty, fail with the messages joined by "; ", and
    /// fail closed on anything else.
    pub fn evaluate(&self, policy: &str, input: &serde_json::Value) -> Outcome {
        let Some(loaded) = self.by_name.get(policy) else {
            return Outcome::fail(self.unknown(policy));
        };
        let (file, rule, engine) = match loaded {
            Loaded::Broken { file, reason } => {
                return Outcome::fail(format!("policy {file} cannot be used: {reason}"));
            }
            Loaded::Ready { file, rule, engine } => (file, rule, engine),
        };
        let mut engine = match engine.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        engine.set_input(regorus::Value::from(input.clone()));
        let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.eval_rule(rule.clone())
        }));
        let value = match evaluated {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => {
                return Outcome::fail(format!(
                    "policy {file} failed to evaluate {rule}: {}",
                    one_line(&format!("{e:#}"))
                ));
            }
            Err(_) => {
                return Outcome::fail(format!(
                    "policy {file} failed to evaluate {rule}: the evaluator panicked"
                ));
            }
        };
        match deny_messages(&value) {
            Ok(messages) if messages.is_empty() => {
                Outcome::pass(format!("policy {file}: {rule} is empty"))
            }
            Ok(messages) => Outcome::fail(messages.join("; ")),
            Err(why) => Outcome::fail(format!("policy {file}: {rule} {why}")),
        }
    }

    fn unknown(&self, policy: &str) -> String {
        let mut reason = format!("no policy `{policy}`: there is no {POLICIES_DIR}/{policy}.rego");
        if let Some(near) = gantry_workflow::did_you_mean(policy, self.names()) {
            reason.push_str(&format!(" (did you mean `{near}`?)"));
        } else if self.by_name.is_empty() {
            reason.push_str(&format!(" (the folder {POLICIES_DIR} holds no policy)"));
        } else {
            let names: Vec<&str> = self.names().collect();
            reason.push_str(&format!(" (policies: {})", names.join(", ")));
        }
        reason
    }
}

fn load_one(root: &Path, shown: &str) -> Loaded {
    let broken = |reason: String| Loaded::Broken {
        file: shown.to_string(),
        reason,
    };
    let path = match gantry_fs::confine(root, Path::new(shown)) {
        Ok(path) => path,
        Err(escape) => return broken(format!("it leads out of the repository: {escape}")),
    };
    match gantry_fs::read_text_bounded(&path, MAX_POLICY_BYTES) {
        Ok(text) => compile(shown.to_string(), text),
        Err(e) => broken(e.to_string()),
    }
}

/// Parses one policy into its own engine.
fn compile(file: String, text: String) -> Loaded {
    let depth = nesting(&text);
    if depth > MAX_NESTING {
        return Loaded::Broken {
            file,
            reason: format!("brackets nest {depth} levels deep; at most {MAX_NESTING} are read"),
        };
    }
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: EVAL_TIME_LIMIT,
        check_interval: NonZeroU32::MIN.saturating_add(31),
    });
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.add_policy(file.clone(), text)
    }));
    let broken = |reason: String| Loaded::Broken {
        file: file.clone(),
        reason,
    };
    match parsed {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return broken(format!("failed to parse: {}", one_line(&format!("{e:#}")))),
        Err(_) => return broken("failed to parse: the parser panicked".into()),
    }
    let components = match engine.get_policy_package_components() {
        Ok(mut packages) if packages.len() == 1 => packages.remove(0).components,
        Ok(_) => return broken("it does not declare one package".into()),
        Err(e) => return broken(format!("failed to read its package: {e}")),
    };
    match engine.has_declared_rule_rooted_at(&file, "deny") {
        Ok(true) => {}
        Ok(false) => {
            return broken(format!(
                "it declares no `deny` rule in package {}",
                components.join(".")
            ));
        }
        Err(e) => return broken(format!("failed to look for its `deny` rule: {e}")),
    }
    let mut rule = String::from("data");
    for c in &components {
        if is_identifier(c) {
            rule.push('.');
            rule.push_str(c);
        } else {
            rule.push('[');
            rule.push_str(&serde_json::Value::from(c.as_str()).to_string());
            rule.push(']');
        }
    }
    rule.push_str(".deny");
    Loaded::Ready {
        file,
        rule,
        engine: Box::new(Mutex::new(engine)),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// regorus' errors show the source line and a caret over several lines;
/// a gate's reason is one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The strings of a `deny` value, or why it is not a set of strings.
fn deny_messages(value: &regorus::Value) -> Result<Vec<String>, String> {
    let items: Vec<&regorus::Value> = match value {
        regorus::Value::Undefined => {
            return Err("is undefined: the policy must define `deny` (a set of messages)".into());
        }
        regorus::Value::Set(set) => set.iter().collect(),
        regorus::Value::Array(array) => array.iter().collect(),
        other => {
            return Err(format!(
                "is not a set of strings but {}",
                serde_json::to_string(other).unwrap_or_else(|_| "a value".into())
            ));
        }
    };
    items
        .into_iter()
        .map(|item| match item {
            regorus::Value::String(s) => Ok(s.to_string()),
            other => Err(format!(
                "holds {} where a message string belongs",
                serde_json::to_string(other).unwrap_or_else(|_| "a value".into())
            )),
        })
        .collect()
}

#[cfg(test)]
mod nesting_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn brackets_are_counted_outside_strings_and_comments() {
        assert_eq!(nesting("a[b{c(d)}]"), 3);
        assert_eq!(nesting("x := \"[[[[\" # {{{{\ny := `((((` "), 0);
        assert_eq!(nesting("s := \"a\\\"[\" [1]"), 1);
    }

    #[test]
    fn deeply_nested_text_is_refused_before_parsing() {
        // Found by fuzzing: 47 open brackets in a broken expression kept
        // the parser busy for minutes.
        let text = format!(
            "package fuzz\nimport rego.v1\ndeny contains msg if {{ inpu{}t.x == 1 }}\n",
            "[".repeat(47)
        );
        let policies = Policies::from_sources([("fuzz", text.as_str())]);
        let outcome = policies.evaluate("fuzz", &serde_json::json!({}));
        assert_eq!(outcome.result, crate::GateResult::Fail);
        assert!(
            outcome.reason.contains("nest 48 levels deep"),
            "{}",
            outcome.reason
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::GateResult;
    use serde_json::json;

    const COMPLIANCE: &str = r#"
package gantry.compliance

deny contains msg if {
    input.transition.to == "compliant"
    not verified("sbom")
    msg := sprintf("%s %s has no verified SBOM", [input.service.name, input.service.version])
}

deny contains msg if {
    some d in input.dependencies
    not d.optional
    d.state != "compliant"
    msg := sprintf("dependency %s is %s", [d.name, d.state])
}

verified(kind) if {
    some e in input.evidence
    e.kind == kind
    e.verified
}
"#;

    fn input(evidence: serde_json::Value, dep_state: &str) -> serde_json::Value {
        json!({
            "package": {"id": "p1", "version": "1.2.0", "services": ["service-a"], "created_by": "alice"},
            "service": {"name": "service-a", "version": "1.2.0", "compliance_mode": "compliant", "dependencies": ["service-b"]},
            "transition": {"from": "compliance_ready", "to": "compliant"},
            "evidence": evidence,
            "approvals": [],
            "dependencies": [{"name": "service-b", "optional": false, "state": dep_state}],
            "time": "2026-12-06T22:00:00Z"
        })
    }

    #[test]
    fn deny_messages_are_the_reasons_and_empty_deny_passes() {
        let p = Policies::from_sources([("compliance", COMPLIANCE)]);
        let o = p.evaluate("compliance", &input(json!([]), "sandbox"));
        assert_eq!(o.result, GateResult::Fail);
        assert_eq!(
            o.reason,
            "dependency service-b is sandbox; service-a 1.2.0 has no verified SBOM"
        );
        let good = input(json!([{"kind": "sbom", "verified": true}]), "compliant");
        let o = p.evaluate("compliance", &good);
        assert_eq!(o.result, GateResult::Pass, "{o:?}");
        assert!(
            o.reason.contains("data.gantry.compliance.deny is empty"),
            "{o:?}"
        );
        // The same policy evaluates again with another input.
        let unverified = input(json!([{"kind": "sbom", "verified": false}]), "compliant");
        assert_eq!(
            p.evaluate("compliance", &unverified).reason,
            "service-a 1.2.0 has no verified SBOM"
        );
    }

    #[test]
    fn policies_load_from_the_repository_and_broken_files_fail_closed() {
        let dir = tempfile::tempdir().unwrap();
        let policies = dir.path().join(".gantry/policies");
        std::fs::create_dir_all(&policies).unwrap();
        std::fs::write(policies.join("compliance.rego"), COMPLIANCE).unwrap();
        std::fs::write(
            policies.join("broken.rego"),
            "package broken\n\ndeny contains msg if {\n  msg := \n}\n",
        )
        .unwrap();
        std::fs::write(policies.join("notes.txt"), "not a policy").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("x.rego"), COMPLIANCE).unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path().join("x.rego"),
            policies.join("outside.rego"),
        )
        .unwrap();
        let p = Policies::load(dir.path()).unwrap();
        assert_eq!(
            p.names().collect::<Vec<_>>(),
            ["broken", "compliance", "outside"]
        );
        let o = p.evaluate("outside", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert!(o.reason.contains("leads out of the repository"), "{o:?}");
        let o = p.evaluate("broken", &input(json!([]), "compliant"));
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.starts_with(
                "policy .gantry/policies/broken.rego cannot be used: failed to parse:"
            ),
            "{o:?}"
        );
        assert!(!o.reason.contains('\n'), "{o:?}");
        assert_eq!(
            p.evaluate(
                "compliance",
                &input(json!([{"kind": "sbom", "verified": true}]), "compliant")
            )
            .result,
            GateResult::Pass
        );
    }

    #[test]
    fn policies_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Policies>();
    }

    #[test]
    fn unknown_policy_fails_with_did_you_mean() {
        let p = Policies::from_sources([("compliance", COMPLIANCE)]);
        let o = p.evaluate("complaince", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert_eq!(
            o.reason,
            "no policy `complaince`: there is no .gantry/policies/complaince.rego (did you mean `compliance`?)"
        );
        let none = Policies::load(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(none.is_empty());
        assert!(
            none.evaluate("x", &json!({}))
                .reason
                .contains("holds no policy")
        );
    }

    #[test]
    fn deny_of_the_wrong_shape_or_undefined_fails_closed() {
        let p = Policies::from_sources([
            (
                "numbers",
                "package numbers\n\ndeny contains 3 if { true }\n",
            ),
            ("scalar", "package scalar\n\ndeny := \"no\"\n"),
            ("nodeny", "package nodeny\n\nallow := true\n"),
            ("array", "package array\n\ndeny := [\"a\", \"b\"]\n"),
            ("cond", "package cond\n\ndeny := [\"x\"] if { false }\n"),
        ]);
        let o = p.evaluate("cond", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.ends_with(
                "data.cond.deny is undefined: the policy must define `deny` (a set of messages)"
            ),
            "{o:?}"
        );
        let o = p.evaluate("numbers", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.contains("holds 3 where a message string belongs"),
            "{o:?}"
        );
        let o = p.evaluate("scalar", &json!({}));
        assert!(
            o.reason.contains("is not a set of strings but \"no\""),
            "{o:?}"
        );
        let o = p.evaluate("nodeny", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason
                .ends_with("cannot be used: it declares no `deny` rule in package nodeny"),
            "{o:?}"
        );
        assert_eq!(p.evaluate("array", &json!({})).reason, "a; b");
    }

    #[test]
    fn evaluation_errors_fail_closed() {
        // A conflict between two complete definitions, and a builtin error
        // that non-strict Rego would silently turn into "no deny".
        let p = Policies::from_sources([
            (
                "conflict",
                "package conflict\n\nx := 1 if { true }\nx := 2 if { true }\n\ndeny contains \"x\" if { x == 1 }\n",
            ),
            (
                "builtin",
                "package builtin\n\ndeny contains msg if {\n  to_number(input.count) > 3\n  msg := \"too many\"\n}\n",
            ),
        ]);
        let o = p.evaluate("conflict", &json!({}));
        assert_eq!(o.result, GateResult::Fail);
        assert!(
            o.reason.contains("failed to evaluate data.conflict.deny"),
            "{o:?}"
        );
        let o = p.evaluate("builtin", &json!({"count": "many"}));
        assert_eq!(o.result, GateResult::Fail, "{o:?}");
        assert!(o.reason.contains("failed to evaluate"), "{o:?}");
    }

    #[test]
    fn runaway_policy_is_stopped_by_the_time_limit() {
        // About 10^12 steps: stopped by the execution timer, not finished.
        let p = Policies::from_sources([(
            "slow",
            "package slow\n\ndeny contains \"never\" if {\n  some i in numbers.range(1, 1000000)\n  some j in numbers.range(1, 1000000)\n  i == j + 1000000\n}\n",
        )]);
        let o = p.evaluate("slow", &json!({}));
        assert_eq!(o.result, GateResult::Fail, "{o:?}");
        assert!(o.reason.contains("failed to evaluate"), "{o:?}");
        assert!(o.reason.contains("time limit"), "{o:?}");
    }

    #[test]
    fn quoted_package_names_are_queried_by_their_components() {
        let p = Policies::from_sources([(
            "quoted",
            "package org[\"team-a\"]\n\ndeny contains \"from team-a\" if { true }\n",
        )]);
        let o = p.evaluate("quoted", &json!({}));
        assert_eq!(o.reason, "from team-a", "{o:?}");
    }
}
