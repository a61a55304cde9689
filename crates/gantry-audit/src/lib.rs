//! `gantry audit`: static security analysis of GitHub Actions workflows and
//! actions.
//!
//! Each rule (one module under [`rules`]) looks at the typed model and the
//! YAML of one file and reports [`Finding`]s at the exact span of the key
//! or value at fault. [`audit`] runs the enabled rules, applies the
//! configured severities, the persona's confidence filter and inline
//! `# gantry: ignore[rule]` comments. Mechanical findings carry a [`Fix`];
//! [`apply_fixes`] applies them as text edits that keep comments and
//! formatting.
//!
//! ```
//! use gantry_audit::{Config, Target, audit};
//! use gantry_workflow::{ReadOptions, SourceFile, read_workflow};
//!
//! let source = SourceFile::new("ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.event.head_commit.message }}\"\n");
//! let workflow = read_workflow(source.clone(), &ReadOptions::default()).value.unwrap();
//! let findings = audit(Target::Workflow(&workflow), &source, &Config::default());
//! assert!(findings.iter().any(|f| f.rule == "template-injection"));
//! ```

pub mod config;
mod context;
pub mod edit;
mod expr;
mod finding;
mod report;
pub mod rules;
pub mod shellcheck;
mod suppress;

pub use config::{Config, ConfigError, Persona};
pub use context::{Ctx, StepRef, Target};
pub use finding::{Confidence, Edit, Finding, Fix, Severity, report_location};
pub use report::{
    AUDIT_DOCUMENT_VERSION, AuditDocument, AuditOptions, AuditReport, AuditSummary, AuditedFile,
    FindingDocument, FindingLocation, FixDocument, FixRefused, RelatedDocument, audit_files,
    finding_location,
};
pub use rules::{RULES, Rule, RuleMeta};

use gantry_workflow::SourceFile;

use crate::suppress::Suppressions;

/// The ids of every rule.
pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.meta().id).collect()
}

/// Runs the enabled rules over one file and returns what the persona
/// shows, minus suppressed findings, in file order.
pub fn audit(target: Target<'_>, source: &SourceFile, config: &Config) -> Vec<Finding> {
    let yaml = match target {
        Target::Workflow(w) => &w.yaml,
        Target::Action(a) => &a.yaml,
    };
    let suppressions = Suppressions::scan(source);
    let mut findings = Vec::new();
    for rule in RULES {
        let meta = rule.meta();
        let rule_config = config.rule(meta.id);
        if rule_config.disable {
            continue;
        }
        let ctx = Ctx {
            target,
            source,
            yaml,
            config: rule_config,
        };
        let mut found = Vec::new();
        rule.check(&ctx, &mut found);
        findings.extend(found.into_iter().filter(|f| {
            config.persona.shows(f.confidence, meta.pedantic)
                && !suppressions.ignores(source.position(f.span.start).line, meta.id)
        }));
    }
    findings.sort_by_key(|f| (f.span.start, f.rule));
    findings.dedup_by(|a, b| a.rule == b.rule && a.span == b.span && a.message == b.message);
    findings
}

/// Applies the fixes of `findings` to `text`. Returns the new text and the
/// number of edits applied; overlapping edits are skipped (run again to
/// apply them).
pub fn apply_fixes(text: &str, findings: &[Finding]) -> (String, usize) {
    let edits: Vec<Edit> = findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .flat_map(|fix| fix.edits.iter().cloned())
        .collect();
    edit::apply(text, &edits)
}

/// Every rule as SARIF describes it: title, why, an example and the fix
/// as help, and GitHub's `security-severity` for its default severity.
pub fn sarif_rules() -> Vec<gantry_report::sarif::Rule> {
    RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            gantry_report::sarif::Rule {
                id: m.id.to_string(),
                name: None,
                title: m.title.to_string(),
                description: m.why.to_string(),
                help_text: None,
                help_markdown: Some(format!(
                    "{}\n\n**Example**\n\n```yaml\n{}\n```\n\n**Fix**: {}",
                    m.why, m.example, m.fix
                )),
                help_uri: None,
                default_severity: m.severity.into(),
                security_severity: match m.severity {
                    Severity::High => 8.0,
                    Severity::Medium => 5.5,
                    Severity::Low => 3.0,
                    Severity::Info => 0.0,
                },
                tags: vec!["security".to_string()],
            }
        })
        .collect()
}
