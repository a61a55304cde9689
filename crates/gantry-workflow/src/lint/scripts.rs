//! `run:` scripts handed to an external checker (shellcheck), with each
//! finding placed back at its line and column in the workflow file.
//!
//! The script of a step is its `run:` value with every `${{ }}`
//! expression replaced by underscores of the same length, so the shell
//! sees a plain word and every column stays where it was. Only `bash` and
//! `sh` scripts are checked: the step's `shell:`, else the job's or the
//! workflow's `defaults.run.shell`, else bash (a job on a Windows runner
//! defaults to PowerShell and is left alone). This module spawns nothing:
//! a [`ScriptChecker`] does (`gantry_audit::shellcheck`).

use std::sync::{Mutex, OnceLock};

use crate::diagnostic::Diagnostic;
use crate::model::{Defaults, JobKind, RunsOn, Step, StepAction, Workflow};
use crate::scalar::ValueMap;
use crate::source::Span;
use crate::yaml::{Node, NodeKind};

/// The shell a script is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptShell {
    Bash,
    Sh,
}

impl ScriptShell {
    pub fn name(self) -> &'static str {
        match self {
            ScriptShell::Bash => "bash",
            ScriptShell::Sh => "sh",
        }
    }
}

/// One `run:` script to check.
#[derive(Debug, Clone)]
pub struct Script {
    pub shell: ScriptShell,
    /// The script with expressions replaced by underscores.
    pub text: String,
    /// The value as written (for byte offsets: the character columns of
    /// `text` are the same, its bytes need not be).
    value: String,
    /// Where each value line starts, in bytes of the value.
    line_starts: Vec<usize>,
    map: Option<ValueMap>,
    /// The `run:` value's span, for findings that cannot be placed.
    span: Span,
}

/// How bad a checker finds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptLevel {
    Error,
    Warning,
    Info,
    Style,
}

/// A finding in one script: 1-based line and character column in the
/// script, the checker's rule (`SC2086`) and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFinding {
    /// Index of the script in the list given to the checker.
    pub script: usize,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The rule number (`2086` for SC2086).
    pub code: u32,
    pub level: ScriptLevel,
    pub message: String,
}

/// What a checker made of a batch of scripts.
#[derive(Debug, Clone)]
pub enum ScriptReport {
    Findings(Vec<ScriptFinding>),
    /// The checker could not run (timed out, crashed); said once per file.
    Failed(String),
}

/// Checks scripts, all of one file at once.
pub trait ScriptChecker: Send + Sync {
    /// The checker's name for messages (`shellcheck`).
    fn name(&self) -> &str;
    fn check(&self, scripts: &[Script]) -> ScriptReport;
}

impl Script {
    /// The script of a `run:` value, or `None` for an empty one.
    fn new(file: &str, node: &Node, shell: ScriptShell) -> Option<Script> {
        let NodeKind::String(value) = &node.kind else {
            return None;
        };
        if value.trim().is_empty() {
            return None;
        }
        let mut line_starts = vec![0];
        line_starts.extend(value.match_indices('\n').map(|(i, _)| i + 1));
        Some(Script {
            shell,
            text: placeholders(value),
            value: value.clone(),
            line_starts,
            map: ValueMap::new(file, node, value),
            span: node.span,
        })
    }

    /// The value byte of a 1-based line and character column.
    fn value_offset(&self, line: usize, column: usize) -> Option<usize> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let rest = self.value.get(start..)?;
        let line_text = rest.split('\n').next().unwrap_or("");
        let col = column.saturating_sub(1);
        Some(
            start
                + line_text
                    .char_indices()
                    .nth(col)
                    .map_or(line_text.len(), |(i, _)| i),
        )
    }

    /// The file span of a finding.
    fn span_of(&self, finding: &ScriptFinding) -> Span {
        let Some(map) = &self.map else {
            return self.span;
        };
        let Some(start) = self.value_offset(finding.line, finding.column) else {
            return self.span;
        };
        let end = self
            .value_offset(finding.end_line, finding.end_column)
            .filter(|e| *e > start)
            .unwrap_or(start + 1);
        map.span(start..end)
    }
}

/// `value` with each `${{ }}` expression's characters (but line breaks)
/// replaced by `_`; the byte length may change, the character columns do
/// not. An unclosed `${{` is left as written.
fn placeholders(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find("${{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let expression = &rest[open..open + close + 2];
        out.extend(
            expression
                .chars()
                .map(|c| if c == '\n' { '\n' } else { '_' }),
        );
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// The shell of a `shell:` value, when it is bash or sh.
fn shell_of(text: &str) -> Option<ScriptShell> {
    match text.split_whitespace().next()? {
        "bash" => Some(ScriptShell::Bash),
        "sh" => Some(ScriptShell::Sh),
        _ => None,
    }
}

fn default_shell(defaults: Option<&Defaults>) -> Option<&str> {
    defaults
        .and_then(|d| d.shell.as_ref())
        .map(|s| s.value.as_str())
}

/// Every bash or sh script of a workflow's steps.
pub(crate) fn collect(workflow: &Workflow) -> Vec<Script> {
    let file = workflow.source.text();
    let mut scripts = Vec::new();
    let Some((_, jobs)) = workflow.yaml.entry("jobs") else {
        return scripts;
    };
    for job in workflow.jobs.values() {
        let JobKind::Steps(steps) = &job.kind else {
            continue;
        };
        let windows = match &steps.runs_on {
            Some(RunsOn::Labels(labels)) => labels
                .iter()
                .any(|l| l.value.to_ascii_lowercase().contains("windows")),
            _ => false,
        };
        let inherited = default_shell(steps.defaults.as_ref())
            .or_else(|| default_shell(workflow.defaults.as_ref()));
        let Some(step_nodes) = jobs
            .entry(&job.id.value)
            .and_then(|(_, j)| j.entry("steps"))
            .map(|(_, s)| s)
        else {
            continue;
        };
        collect_steps(
            file,
            &steps.steps,
            step_nodes,
            inherited,
            windows,
            &mut scripts,
        );
    }
    scripts
}

fn collect_steps(
    file: &str,
    steps: &[Step],
    nodes: &Node,
    inherited: Option<&str>,
    windows: bool,
    out: &mut Vec<Script>,
) {
    let NodeKind::Seq(items) = &nodes.kind else {
        return;
    };
    for (step, node) in steps.iter().zip(items) {
        match &step.action {
            StepAction::Run { shell, .. } => {
                let chosen = shell.as_ref().map(|s| s.value.as_str()).or(inherited);
                let kind = match chosen {
                    Some(text) if text.contains("${{") => None,
                    Some(text) => shell_of(text),
                    None if windows => None,
                    None => Some(ScriptShell::Bash),
                };
                if let Some(kind) = kind
                    && let Some((_, run)) = node.entry("run")
                    && let Some(script) = Script::new(file, run, kind)
                {
                    out.push(script);
                }
            }
            StepAction::Parallel(inner) => {
                if let Some((_, nested)) = node.entry("parallel") {
                    collect_steps(file, inner, nested, inherited, windows, out);
                }
            }
            _ => {}
        }
    }
}

/// `SC2086` as a `&'static str`, made once per rule number.
fn rule_code(code: u32) -> &'static str {
    static CODES: OnceLock<Mutex<std::collections::HashMap<u32, &'static str>>> = OnceLock::new();
    let codes = CODES.get_or_init(Default::default);
    let mut codes = match codes.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    codes
        .entry(code)
        .or_insert_with(|| Box::leak(format!("SC{code:04}").into_boxed_str()))
}

/// Runs `checker` over the scripts of `workflow`: one diagnostic per
/// finding, at its place in the file, warnings all (GitHub runs the
/// script as it is).
pub(crate) fn check(workflow: &Workflow, checker: &dyn ScriptChecker, out: &mut Vec<Diagnostic>) {
    run_checker(collect(workflow), checker, out);
}

/// Runs `checker` over the scripts of a composite action's steps (each
/// names its `shell:`); `yaml` is the action file's tree.
pub(crate) fn check_steps(
    file: &str,
    yaml: &Node,
    steps: &[Step],
    checker: &dyn ScriptChecker,
    out: &mut Vec<Diagnostic>,
) {
    let Some((_, nodes)) = yaml.entry("runs").and_then(|(_, r)| r.entry("steps")) else {
        return;
    };
    let mut scripts = Vec::new();
    collect_steps(file, steps, nodes, None, false, &mut scripts);
    run_checker(scripts, checker, out);
}

fn run_checker(scripts: Vec<Script>, checker: &dyn ScriptChecker, out: &mut Vec<Diagnostic>) {
    if scripts.is_empty() {
        return;
    }
    match checker.check(&scripts) {
        ScriptReport::Findings(findings) => {
            for finding in findings {
                let Some(script) = scripts.get(finding.script) else {
                    continue;
                };
                let level = match finding.level {
                    ScriptLevel::Error => "error",
                    ScriptLevel::Warning => "warning",
                    ScriptLevel::Info => "info",
                    ScriptLevel::Style => "style",
                };
                out.push(
                    Diagnostic::warning(
                        rule_code(finding.code),
                        script.span_of(&finding),
                        format!("{}: {}", checker.name(), finding.message),
                    )
                    .with_label(format!("{} ({level})", script.shell.name()))
                    .with_hint(format!(
                        "see https://www.shellcheck.net/wiki/SC{:04}",
                        finding.code
                    )),
                );
            }
        }
        ScriptReport::Failed(why) => {
            out.push(Diagnostic::warning(
                "script-check",
                None,
                format!("{} did not check the run: scripts: {why}", checker.name()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_columns_and_lines() {
        let value = "echo ${{ matrix.os }} $X\n${{ a\n}} y";
        let text = placeholders(value);
        assert_eq!(text, "echo ________________ $X\n_____\n__ y");
        assert_eq!(placeholders("echo ${{ unclosed"), "echo ${{ unclosed");
    }

    #[test]
    fn shells_by_first_word() {
        assert_eq!(shell_of("bash -e {0}"), Some(ScriptShell::Bash));
        assert_eq!(shell_of("sh"), Some(ScriptShell::Sh));
        assert_eq!(shell_of("pwsh"), None);
        assert_eq!(shell_of("python"), None);
        assert_eq!(rule_code(2086), "SC2086");
        assert_eq!(rule_code(1000), "SC1000");
    }
}
