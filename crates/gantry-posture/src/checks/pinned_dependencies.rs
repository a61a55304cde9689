//! Pinned-Dependencies: dependencies of the build pinned by hash.
//!
//! What is counted, as Scorecard counts it: `uses:` of workflows
//! (GitHub-owned actions, `actions/*` and `github/*`, apart from
//! third-party ones; pinned means a full commit SHA, as gantry audit's
//! `unpinned-uses` decides), `FROM` images of Dockerfiles (pinned:
//! `@sha256:`), and in workflow scripts, shell scripts and Dockerfile
//! `RUN`s: downloads piped into an interpreter (never pinned), `pip
//! install` (pinned with `--require-hashes` or a local path), `npm
//! install` (unpinned; `npm ci` is pinned) and `go install`/`go get`
//! (pinned at a full version or a commit).
//!
//! The score is Scorecard's weighted proportion: each kind found weighs
//! 10, split 2 for GitHub-owned and 8 for third-party actions when both
//! are used; `10 × pinned weight / total weight`, rounded down. Nothing
//! found: inconclusive.

use std::collections::BTreeMap;

use gantry_workflow::model::{JobKind, StepAction};
use regex::Regex;

use crate::checkout::{Checkout, WorkflowFile};
use crate::model::{CheckMeta, CheckResult, MAX_SCORE, Reason, Risk};

pub struct Check;

static META: CheckMeta = CheckMeta {
    name: "Pinned-Dependencies",
    risk: Risk::Medium,
    description: "Whether the dependencies used to build and release (actions, container images, packages installed by scripts) are pinned to a hash.",
    remediation: "pin actions to full commit SHAs (`gantry audit --fix` names them), images to `@sha256:` digests and installs to lockfiles with hashes",
    note: None,
};

/// A kind of dependency, as Scorecard groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    GitHubOwnedAction,
    ThirdPartyAction,
    ContainerImage,
    DownloadThenRun,
    PipCommand,
    NpmCommand,
    GoCommand,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::GitHubOwnedAction => "GitHub-owned GitHubAction",
            Kind::ThirdPartyAction => "third-party GitHubAction",
            Kind::ContainerImage => "containerImage",
            Kind::DownloadThenRun => "downloadThenRun",
            Kind::PipCommand => "pipCommand",
            Kind::NpmCommand => "npmCommand",
            Kind::GoCommand => "goCommand",
        }
    }

    fn remediation(self) -> &'static str {
        match self {
            Kind::GitHubOwnedAction | Kind::ThirdPartyAction => {
                "pin the action to the full commit SHA of the tag, keeping the tag as a comment (`gantry audit --fix` does it)"
            }
            Kind::ContainerImage => "pin the image by digest: `FROM image:tag@sha256:<digest>`",
            Kind::DownloadThenRun => {
                "download the script to a file, check its SHA-256 against a known value, then run it"
            }
            Kind::PipCommand => {
                "install from a requirements file with hashes: `pip install --require-hashes -r requirements.txt`"
            }
            Kind::NpmCommand => "install from the lockfile with `npm ci`",
            Kind::GoCommand => {
                "install at a full version or commit: `go install example.com/tool@v1.2.3`"
            }
        }
    }
}

/// One dependency found.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub kind: Kind,
    pub file: String,
    pub line: usize,
    pub text: String,
    pub pinned: bool,
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `uses:` of one workflow; unpinned are those gantry audit flags.
fn workflow_uses(file: &WorkflowFile, out: &mut Vec<Dependency>) {
    let Some(workflow) = &file.workflow else {
        return;
    };
    let flagged: Vec<usize> = file
        .findings
        .iter()
        .filter(|f| f.rule == "unpinned-uses")
        .map(|f| f.span.start)
        .collect();
    let mut uses = Vec::new();
    for job in workflow.jobs.values() {
        if let JobKind::Call(call) = &job.kind {
            uses.push(&call.uses);
        }
    }
    for step in super::steps(workflow) {
        if let StepAction::Uses { uses: u, .. } = &step.action {
            uses.push(u);
        }
    }
    for u in uses {
        let value = u.value.as_str();
        if value.starts_with("./") || value.starts_with("$/") || value.contains("${{") {
            continue;
        }
        let name = super::action_name(value);
        let owner = name.split('/').next().unwrap_or("");
        let kind = if matches!(owner, "actions" | "github") {
            Kind::GitHubOwnedAction
        } else {
            Kind::ThirdPartyAction
        };
        let pinned = !flagged.contains(&u.span.start)
            && (value.starts_with("docker://")
                || value.split_once('@').is_some_and(|(_, r)| is_sha(r))
                || owner == "gantry");
        out.push(Dependency {
            kind,
            file: file.path.clone(),
            line: file.line(u.span.start),
            text: value.to_string(),
            pinned,
        });
    }
}

/// The commands of a script: continuation lines joined, with the line
/// each starts at.
fn commands(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, line) in script.lines().enumerate() {
        if current.is_empty() {
            start = i;
        }
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let text = std::mem::take(&mut current);
        let text = text.trim();
        if !text.is_empty() && !text.starts_with('#') {
            out.push((start, text.to_string()));
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

struct Patterns {
    download_pipe: Regex,
    download_subshell: Regex,
    pip: Regex,
    npm: Regex,
    go: Regex,
}

impl Patterns {
    fn new() -> Option<Patterns> {
        Some(Patterns {
            download_pipe: Regex::new(
                r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?(ba|z|da|k|fi)?sh\b|\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(python[0-9.]*|perl|ruby|node)\b",
            )
            .ok()?,
            download_subshell: Regex::new(
                r#"\b(ba|z|da)?sh\s+(-c\s+)?["']?(<\(|\$\()\s*(curl|wget)\b"#,
            )
            .ok()?,
            pip: Regex::new(r"\b(pip[0-9.]*|python[0-9.]*\s+-m\s+pip)\s+install\b([^;&|]*)").ok()?,
            npm: Regex::new(r"\bnpm\s+(install|i|ci|add)\b([^;&|]*)").ok()?,
            go: Regex::new(r"\bgo\s+(install|get)\b([^;&|]*)").ok()?,
        })
    }
}

fn pip_pinned(args: &str) -> Option<bool> {
    if args.contains("--require-hashes") {
        return Some(true);
    }
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut packages = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if matches!(w, "-r" | "--requirement" | "-c" | "--constraint") {
            // A requirements file without --require-hashes is not pinned.
            packages.push("requirements");
            i += 2;
            continue;
        }
        if matches!(w, "-e" | "--editable") {
            i += 1;
            continue;
        }
        if !w.starts_with('-') {
            packages.push(w);
        }
        i += 1;
    }
    if packages.is_empty() {
        return None;
    }
    Some(
        packages
            .iter()
            .all(|p| p.starts_with('.') || p.starts_with('/')),
    )
}

fn go_pinned(args: &str) -> Option<bool> {
    let packages: Vec<&str> = args
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .collect();
    if packages.is_empty()
        || packages
            .iter()
            .all(|p| p.starts_with('.') || p.starts_with('/'))
    {
        return None;
    }
    Some(packages.iter().all(|p| {
        p.split_once('@').is_some_and(|(_, v)| {
            is_sha(v)
                || (v.starts_with('v')
                    && v[1..].split(['-', '+']).next().is_some_and(|core| {
                        core.split('.').count() == 3
                            && core.split('.').all(|n| n.parse::<u64>().is_ok())
                    }))
        })
    }))
}

/// The dependencies of one script, `first_line` being the script's line
/// in its file.
fn script_deps(
    p: &Patterns,
    file: &str,
    first_line: usize,
    script: &str,
    out: &mut Vec<Dependency>,
) {
    for (offset, cmd) in commands(script) {
        let line = first_line + offset;
        let mut push = |kind, pinned, text: &str| {
            out.push(Dependency {
                kind,
                file: file.to_string(),
                line,
                text: text.trim().chars().take(120).collect(),
                pinned,
            });
        };
        if let Some(m) = p
            .download_pipe
            .find(&cmd)
            .or_else(|| p.download_subshell.find(&cmd))
        {
            push(Kind::DownloadThenRun, false, m.as_str());
        }
        for c in p.pip.captures_iter(&cmd) {
            if let Some(pinned) = pip_pinned(c.get(2).map_or("", |m| m.as_str())) {
                push(
                    Kind::PipCommand,
                    pinned,
                    c.get(0).map_or("", |m| m.as_str()),
                );
            }
        }
        for c in p.npm.captures_iter(&cmd) {
            let pinned = c.get(1).is_some_and(|m| m.as_str() == "ci");
            push(
                Kind::NpmCommand,
                pinned,
                c.get(0).map_or("", |m| m.as_str()),
            );
        }
        for c in p.go.captures_iter(&cmd) {
            if let Some(pinned) = go_pinned(c.get(2).map_or("", |m| m.as_str())) {
                push(Kind::GoCommand, pinned, c.get(0).map_or("", |m| m.as_str()));
            }
        }
    }
}

fn is_dockerfile(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    name == "dockerfile"
        || name == "containerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
}

/// `FROM` images and `RUN` scripts of a Dockerfile.
fn dockerfile_deps(p: &Patterns, file: &str, text: &str, out: &mut Vec<Dependency>) {
    let mut stages: Vec<String> = Vec::new();
    for (line, cmd) in commands(text) {
        let mut words = cmd.split_whitespace();
        let Some(instruction) = words.next() else {
            continue;
        };
        if instruction.eq_ignore_ascii_case("FROM") {
            let rest: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
            let Some(image) = rest.first() else { continue };
            if let [_, as_kw, name, ..] = rest.as_slice()
                && as_kw.eq_ignore_ascii_case("as")
            {
                stages.push(name.to_ascii_lowercase());
            }
            let lower = image.to_ascii_lowercase();
            if lower == "scratch" || stages.contains(&lower) || image.contains('$') {
                continue;
            }
            out.push(Dependency {
                kind: Kind::ContainerImage,
                file: file.to_string(),
                line: line + 1,
                text: (*image).to_string(),
                pinned: image.contains("@sha256:"),
            });
        } else if instruction.eq_ignore_ascii_case("RUN") {
            let script = cmd[instruction.len()..].trim();
            script_deps(p, file, line + 1, script, out);
        }
    }
}

/// Every dependency Pinned-Dependencies counts.
pub fn dependencies(checkout: &Checkout<'_>) -> Vec<Dependency> {
    let mut out = Vec::new();
    let Some(p) = Patterns::new() else { return out };
    for file in &checkout.workflows {
        workflow_uses(file, &mut out);
        let Some(workflow) = &file.workflow else {
            continue;
        };
        for step in super::steps(workflow) {
            if let StepAction::Run { run, .. } = &step.action {
                let line = file.line(run.span.start);
                // A block scalar starts on the line after its `|`.
                let first = if file
                    .source
                    .text()
                    .get(run.span.start..)
                    .is_some_and(|t| t.starts_with(['|', '>']))
                {
                    line + 1
                } else {
                    line
                };
                script_deps(&p, &file.path, first, &run.value, &mut out);
            }
        }
    }
    for rel in &checkout.files {
        if is_dockerfile(rel) {
            if let Some(text) = checkout.read_text(rel) {
                dockerfile_deps(&p, rel, &text, &mut out);
            }
        } else if (rel.ends_with(".sh") || rel.ends_with(".bash"))
            && let Some(text) = checkout.read_text(rel)
        {
            script_deps(&p, rel, 1, &text, &mut out);
        }
    }
    out
}

/// Scorecard's weighted proportion over the kinds found, or `None` when
/// nothing was found.
pub fn score(deps: &[Dependency]) -> Option<u8> {
    let mut counts: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    for d in deps {
        let e = counts.entry(d.kind).or_default();
        e.1 += 1;
        if d.pinned {
            e.0 += 1;
        }
    }
    if counts.is_empty() {
        return None;
    }
    let both = counts.contains_key(&Kind::GitHubOwnedAction)
        && counts.contains_key(&Kind::ThirdPartyAction);
    let (mut ws, mut wt) = (0usize, 0usize);
    for (kind, (pinned, total)) in &counts {
        let weight = match kind {
            Kind::GitHubOwnedAction if both => 2,
            Kind::ThirdPartyAction if both => 8,
            _ => 10,
        };
        ws += pinned * weight;
        wt += total * weight;
    }
    Some(u8::try_from((usize::from(MAX_SCORE) * ws / wt).min(10)).unwrap_or(MAX_SCORE))
}

impl super::Check for Check {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, checkout: &Checkout<'_>) -> CheckResult {
        let deps = dependencies(checkout);
        let Some(score) = score(&deps) else {
            return CheckResult::inconclusive(&META, "no dependencies found");
        };
        let mut reasons: Vec<Reason> = deps
            .iter()
            .filter(|d| !d.pinned)
            .map(|d| {
                Reason::warn(format!(
                    "{} not pinned by hash: `{}`",
                    d.kind.name(),
                    d.text
                ))
                .at(&d.file, Some(d.line))
                .fix(d.kind.remediation())
            })
            .collect();
        let mut counts: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
        for d in &deps {
            let e = counts.entry(d.kind).or_default();
            e.1 += 1;
            e.0 += usize::from(d.pinned);
        }
        for (kind, (pinned, total)) in counts {
            reasons.push(Reason::info(format!(
                "{pinned} out of {total} {} dependencies pinned",
                kind.name()
            )));
        }
        let summary = if score == MAX_SCORE {
            "all dependencies are pinned"
        } else {
            "dependency not pinned by hash detected"
        };
        CheckResult::scored(&META, score, summary).with(reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions() {
        assert_eq!(
            go_pinned(" golang.org/x/tools/cmd/goimports@v0.1.2"),
            Some(true)
        );
        assert_eq!(
            go_pinned(" golang.org/x/tools/cmd/goimports@latest"),
            Some(false)
        );
        assert_eq!(go_pinned(" ./..."), None);
    }

    #[test]
    fn pip_arguments() {
        assert_eq!(pip_pinned(" --require-hashes -r r.txt"), Some(true));
        assert_eq!(pip_pinned(" -r requirements.txt"), Some(false));
        assert_eq!(pip_pinned(" ."), Some(true));
        assert_eq!(pip_pinned(" requests"), Some(false));
        assert_eq!(pip_pinned(" --upgrade"), None);
    }
}
