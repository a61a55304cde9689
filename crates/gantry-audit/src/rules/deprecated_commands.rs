//! `deprecated-commands`: workflow commands GitHub disabled or deprecated.

use gantry_workflow::Span;
use gantry_workflow::model::StepAction;

use super::RuleMeta;
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "deprecated-commands",
    title: "deprecated workflow commands (`::set-output`, `::save-state`, `::set-env`, `::add-path`)",
    severity: Severity::Medium,
    pedantic: false,
    why: "Commands printed to the log can be forged by anything else that prints (test output, a commit message); that is why `set-env` and `add-path` were disabled and `set-output` and `save-state` deprecated in favour of files the runner provides.",
    example: "- run: echo \"::set-output name=version::1.2.3\"",
    fix: "append to the files instead: `echo \"version=1.2.3\" >> \"$GITHUB_OUTPUT\"` (and `$GITHUB_STATE`, `$GITHUB_ENV`, `$GITHUB_PATH`)",
};

const COMMANDS: &[(&str, &str, Severity)] = &[
    ("::set-output", "$GITHUB_OUTPUT", Severity::Medium),
    ("::save-state", "$GITHUB_STATE", Severity::Medium),
    ("::set-env", "$GITHUB_ENV", Severity::High),
    ("::add-path", "$GITHUB_PATH", Severity::High),
];

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        let StepAction::Run { run, .. } = &step.step.action else {
            return;
        };
        let written = ctx.source.slice(run.span);
        for (command, file, severity) in COMMANDS {
            let mut from = 0;
            let mut written_from = 0;
            while let Some(at) = run
                .value
                .get(from..)
                .and_then(|v| v.find(command))
                .map(|i| i + from)
            {
                from = at + command.len();
                let found = written
                    .get(written_from..)
                    .and_then(|w| w.find(command))
                    .map(|w| w + written_from);
                let span = match found {
                    Some(w) => {
                        written_from = w + command.len();
                        Span::new(run.span.start + w, run.span.start + w + command.len())
                    }
                    None => run.span,
                };
                let mut finding = ctx.finding(
                    &META,
                    span,
                    Confidence::High,
                    format!("`{command}` is deprecated; write to `{file}` instead"),
                    "deprecated command",
                );
                if ctx.config.severity.is_none() {
                    finding.severity = *severity;
                }
                out.push(finding);
            }
        }
    }
}
