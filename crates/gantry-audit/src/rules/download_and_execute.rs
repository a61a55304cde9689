//! `download-and-execute`: `curl ... | sh` and friends.

use std::sync::OnceLock;

use gantry_workflow::Span;
use gantry_workflow::model::StepAction;
use regex::Regex;

use super::RuleMeta;
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "download-and-execute",
    title: "a script downloaded and run without a pinned checksum",
    severity: Severity::High,
    pedantic: false,
    why: "`curl ... | sh` runs whatever the server returns today, with the job's token and secrets. If the host or the URL's owner is compromised, so is your pipeline, and nothing records what ran.",
    example: "- run: curl -sSfL https://example.com/install.sh | sh",
    fix: "download a versioned file, check its SHA-256 against a value in the workflow (`echo \"<sha>  install.sh\" | sha256sum -c`), then run it; or use a pinned action",
};

// A constant pattern; the unit tests compile and exercise it.
#[allow(clippy::expect_used)]
fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)
            (?:curl|wget|iwr|Invoke-WebRequest)\b[^|\n;]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|k|da)?sh\b
            | (?:curl|wget)\b[^|\n;]*\|\s*(?:sudo\s+)?(?:python3?|perl|ruby|node)\b
            | (?:ba|z)?sh\s+(?:-\S+\s+)*<\(\s*(?:curl|wget)\b
            | (?:ba|z)?sh\s+-c\s+[\x22\x27]\$\(\s*(?:curl|wget)\b
            | \|\s*iex\b
            ",
        )
        .expect("the constant pattern compiles")
    })
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        let StepAction::Run { run, .. } = &step.step.action else {
            return;
        };
        for m in pattern().find_iter(&run.value) {
            // Point at the command when the script is written verbatim.
            let written = ctx.source.slice(run.span);
            let span = written.find(m.as_str()).map_or(run.span, |at| {
                Span::new(run.span.start + at, run.span.start + at + m.len())
            });
            out.push(ctx.finding(
                &META,
                span,
                Confidence::High,
                format!(
                    "step '{}' downloads a script and runs it unverified",
                    step.step.display_name()
                ),
                "download piped into an interpreter",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn matches_common_forms_only() {
        for bad in [
            "curl -sSfL https://x.sh | sh",
            "curl https://x | sudo bash",
            "wget -qO- https://x | bash -s -- --yes",
            "bash <(curl -s https://x)",
            "curl -fsSL https://x | python3 -",
            "iwr https://x | iex",
        ] {
            assert!(pattern().is_match(bad), "{bad}");
        }
        for good in [
            "curl -o install.sh https://x && sha256sum -c sums",
            "echo | sh",
            "cat x | bash",
        ] {
            assert!(!pattern().is_match(good), "{good}");
        }
    }
}
