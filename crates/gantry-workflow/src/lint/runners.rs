//! `runs-on` labels: GitHub-hosted runner labels, the labels every
//! self-hosted runner has, larger-runner names, and the labels a project
//! declares (`runner-labels:` in `.gantry/config.yml`). Any other label is
//! a warning with the nearest known one: a typo there leaves a job queued
//! forever on GitHub.
//!
//! A label given as `${{ matrix.KEY }}` is checked at each value of that
//! matrix axis (and its `include` entries) that is written out.

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::model::{Job, JobKind, RunsOn, Workflow};
use crate::source::Span;
use crate::yaml::{Node, NodeKind};

/// GitHub-hosted runner labels (2026).
pub const GITHUB_HOSTED: &[&str] = &[
    "ubuntu-latest",
    "ubuntu-24.04",
    "ubuntu-22.04",
    "ubuntu-24.04-arm",
    "ubuntu-22.04-arm",
    "ubuntu-slim",
    "windows-latest",
    "windows-2025",
    "windows-2022",
    "windows-11-arm",
    "macos-latest",
    "macos-26",
    "macos-15",
    "macos-15-intel",
    "macos-14",
    "macos-13",
];

/// Labels every self-hosted runner has, by kind, OS and architecture.
pub const SELF_HOSTED: &[&str] = &[
    "self-hosted",
    "linux",
    "windows",
    "macos",
    "x64",
    "arm",
    "arm64",
];

/// Whether `label` is a larger GitHub-hosted runner's name:
/// `ubuntu-latest-8-cores`, `windows-2022-16-cores`, `macos-14-xlarge`,
/// `macos-latest-large`.
fn larger_runner(label: &str) -> bool {
    let hosted_base = |base: &str| GITHUB_HOSTED.iter().any(|h| h.eq_ignore_ascii_case(base));
    if let Some(base) = label.strip_suffix("-cores")
        && let Some((base, cores)) = base.rsplit_once('-')
    {
        return !cores.is_empty() && cores.bytes().all(|b| b.is_ascii_digit()) && hosted_base(base);
    }
    for size in ["-xlarge", "-large", "-xl"] {
        if let Some(base) = label.strip_suffix(size) {
            return base.starts_with("macos-") && hosted_base(base);
        }
    }
    false
}

fn known(label: &str, extra: &[String]) -> bool {
    GITHUB_HOSTED
        .iter()
        .chain(SELF_HOSTED)
        .any(|k| k.eq_ignore_ascii_case(label))
        || extra.iter().any(|k| k.eq_ignore_ascii_case(label))
        || larger_runner(&label.to_ascii_lowercase())
}

/// Checks the `runs-on` of every job.
pub(crate) fn check(workflow: &Workflow, extra: &[String], out: &mut Vec<Diagnostic>) {
    for job in workflow.jobs.values() {
        let JobKind::Steps(steps) = &job.kind else {
            continue;
        };
        // Runner groups name their own labels.
        let Some(RunsOn::Labels(labels)) = &steps.runs_on else {
            continue;
        };
        // A job runs on one runner: two GitHub-hosted images cannot both apply.
        let mut hosted: Option<&crate::model::Text> = None;
        for label in labels {
            let text = label.value.trim();
            if GITHUB_HOSTED.iter().any(|h| h.eq_ignore_ascii_case(text)) {
                match hosted {
                    Some(first) if !first.value.trim().eq_ignore_ascii_case(text) => {
                        out.push(
                            Diagnostic::warning(
                                "runner-label-conflict",
                                label.span,
                                format!(
                                    "runner label \"{text}\" conflicts with \"{}\": a job runs on one runner, which has only one of them",
                                    first.value.trim()
                                ),
                            )
                            .with_label("conflicting label")
                            .with_hint("to run the job on each, use a matrix: `runs-on: ${{ matrix.os }}`"),
                        );
                    }
                    Some(_) => {}
                    None => hosted = Some(label),
                }
            }
            if let Some(key) = matrix_reference(text) {
                for (value, span) in matrix_values(job, key) {
                    check_label(&value, span, extra, out);
                }
            } else if !text.contains("${{") {
                check_label(text, label.span, extra, out);
            }
        }
    }
}

fn check_label(label: &str, span: Span, extra: &[String], out: &mut Vec<Diagnostic>) {
    if label.is_empty() || known(label, extra) {
        return;
    }
    let candidates = GITHUB_HOSTED
        .iter()
        .chain(SELF_HOSTED)
        .copied()
        .chain(extra.iter().map(String::as_str));
    let declare = "a self-hosted runner's own labels are declared under `runner-labels:` in .gantry/config.yml";
    let hint = match did_you_mean(label, candidates) {
        Some(near) => format!("did you mean `{near}`? {declare}"),
        None => format!(
            "GitHub-hosted labels are {}; {declare}",
            GITHUB_HOSTED.join(", ")
        ),
    };
    out.push(
        Diagnostic::warning(
            "unknown-runner-label",
            span,
            format!("runner label \"{label}\" is not a known label"),
        )
        .with_label("unknown label")
        .with_hint(hint),
    );
}

/// `KEY` of a label that is exactly `${{ matrix.KEY }}`.
fn matrix_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let (root, key) = inner.split_once('.')?;
    (root.eq_ignore_ascii_case("matrix")
        && !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    .then_some(key)
}

/// The written-out string values of matrix axis `key`, with their spans.
fn matrix_values(job: &Job, key: &str) -> Vec<(String, Span)> {
    let mut values = Vec::new();
    let Some(NodeKind::Map(pairs)) = job
        .strategy
        .as_ref()
        .and_then(|s| s.matrix.as_ref())
        .map(|m| &m.kind)
    else {
        return values;
    };
    let mut push = |node: &Node| {
        if let Some(s) = node.as_str()
            && !s.contains("${{")
        {
            values.push((s.to_string(), node.span));
        }
    };
    for (k, v) in pairs {
        match k.as_str() {
            Some("include") => {
                if let NodeKind::Seq(items) = &v.kind {
                    for item in items {
                        if let Some((_, value)) = item.entry(key) {
                            push(value);
                        }
                    }
                }
            }
            Some(name) if name.eq_ignore_ascii_case(key) => {
                if let NodeKind::Seq(items) = &v.kind {
                    for item in items {
                        push(item);
                    }
                }
            }
            _ => {}
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn larger_runners_and_self_hosted_labels_are_known() {
        for label in [
            "ubuntu-latest-16-cores",
            "windows-2022-8-cores",
            "macos-14-xlarge",
            "macos-latest-large",
            "Ubuntu-Latest",
            "self-hosted",
            "ARM64",
        ] {
            assert!(known(label, &[]), "{label}");
        }
        for label in [
            "linux-latest",
            "ubuntu-20.04-x-cores",
            "ubuntu-latest-large",
            "gpu",
        ] {
            assert!(!known(label, &[]), "{label}");
        }
        assert!(known("gpu", &["GPU".to_string()]));
    }
}
