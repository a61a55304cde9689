//! `unpinned-uses`: actions and reusable workflows not pinned as the
//! configured policy requires.

use gantry_workflow::model::{CallJob, Job, Text};
use indexmap::IndexMap;

use super::RuleMeta;
use crate::context::{Ctx, StepRef};
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "unpinned-uses",
    title: "`uses:` not pinned to a full commit SHA",
    severity: Severity::Medium,
    pedantic: false,
    why: "Tags and branches can be moved. Whoever controls the action's repository (or steals its maintainer's credentials) can point `@v4` at new code, which your workflow then runs with your secrets. A 40-character commit SHA cannot be changed.",
    example: "steps:\n  - uses: actions/checkout@v4\n  - uses: docker://alpine:3.20",
    fix: "pin to the full commit SHA the tag points at, keeping the tag as a comment (`uses: owner/action@<40-hex commit> # v4.2.0`); for `docker://` add an `@sha256:` digest",
};

/// How strictly an action must be pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Policy {
    /// A 40-hex commit SHA.
    HashPin,
    /// Any `@ref`.
    RefPin,
    /// Anything.
    Any,
}

/// The policy for `owner/repo/path`: the most specific matching pattern
/// (`owner/repo`, `owner/*`, `*`); hash-pin when none matches, except for
/// gantry's own built-in actions (`gantry/*`, such as `gantry/test-report`),
/// whose code is gantry's and is never fetched: any `@ref` will do.
fn policy_for(policies: &IndexMap<String, Policy>, action: &str) -> Policy {
    let default = if action.to_ascii_lowercase().starts_with("gantry/") {
        Policy::RefPin
    } else {
        Policy::HashPin
    };
    let lower = action.to_ascii_lowercase();
    let mut parts = lower.split('/');
    let owner = parts.next().unwrap_or("");
    let repo = parts.next().unwrap_or("");
    let candidates = [
        format!("{owner}/{repo}"),
        format!("{owner}/*"),
        "*".to_string(),
    ];
    candidates
        .iter()
        .find_map(|c| {
            policies
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase() == *c)
                .map(|(_, p)| *p)
        })
        .unwrap_or(default)
}

fn is_sha(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reports a `uses:` that is not pinned as the policy for its action asks.
fn check_uses(ctx: &Ctx<'_>, uses: &Text, out: &mut Vec<Finding>) {
    let policies: IndexMap<String, Policy> = ctx.config.setting("policies").unwrap_or_default();

    let value = uses.value.as_str();
    if value.starts_with("./") || value.starts_with("$/") || value.contains("${{") {
        return;
    }
    if let Some(image) = value.strip_prefix("docker://") {
        if !image.contains("@sha256:") {
            out.push(ctx.finding(
                &META,
                uses.span,
                Confidence::High,
                format!("the container `{image}` is not pinned to a digest"),
                "mutable image reference",
            ));
        }
        return;
    }
    let Some((action, reference)) = value.split_once('@') else {
        return;
    };
    let policy = policy_for(&policies, action);
    let (bad, why) = match policy {
        Policy::HashPin if !is_sha(reference) => (true, "a full commit SHA"),
        Policy::RefPin if reference.is_empty() => (true, "a ref"),
        _ => (false, ""),
    };
    if bad {
        out.push(ctx.finding(
            &META,
            uses.span,
            Confidence::High,
            format!("`{action}` is pinned to `{reference}`, not to {why}"),
            "mutable reference",
        ));
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_step(&self, ctx: &Ctx<'_>, step: StepRef<'_>, out: &mut Vec<Finding>) {
        if let gantry_workflow::model::StepAction::Uses { uses, .. } = &step.step.action {
            check_uses(ctx, uses, out);
        }
    }

    fn audit_reusable_job(
        &self,
        ctx: &Ctx<'_>,
        _job: &Job,
        call: &CallJob,
        out: &mut Vec<Finding>,
    ) {
        check_uses(ctx, &call.uses, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gantry_built_ins_need_a_ref_but_no_sha_unless_configured() {
        let mut policies = IndexMap::new();
        assert_eq!(policy_for(&policies, "gantry/test-report"), Policy::RefPin);
        assert_eq!(policy_for(&policies, "gantryx/tool"), Policy::HashPin);
        policies.insert("gantry/*".to_string(), Policy::HashPin);
        assert_eq!(policy_for(&policies, "gantry/test-report"), Policy::HashPin);
    }

    #[test]
    fn the_most_specific_policy_wins() {
        let mut policies = IndexMap::new();
        policies.insert("*".to_string(), Policy::HashPin);
        policies.insert("actions/*".to_string(), Policy::RefPin);
        policies.insert("actions/cache".to_string(), Policy::Any);
        assert_eq!(policy_for(&policies, "actions/checkout"), Policy::RefPin);
        assert_eq!(policy_for(&policies, "actions/cache/restore"), Policy::Any);
        assert_eq!(
            policy_for(&policies, "docker/login-action"),
            Policy::HashPin
        );
        assert_eq!(policy_for(&IndexMap::new(), "x/y"), Policy::HashPin);
    }
}
