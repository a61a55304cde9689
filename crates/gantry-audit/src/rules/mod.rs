//! The rules, one module each, registered in [`RULES`].
//!
//! Adding a rule: copy a neighbour, give it an id, a default severity, the
//! four documentation sections and a `check`, add it to [`RULES`], and add a
//! positive and a negative fixture under `tests/fixtures/`.

use crate::context::Ctx;
use crate::finding::{Finding, Severity};

mod cache_poisoning;
mod continue_on_error_security;
mod credential_persistence;
mod dangerous_triggers;
mod deploy_without_concurrency;
mod deprecated_commands;
mod download_and_execute;
mod excessive_permissions;
mod excessive_timeout;
mod hardcoded_container_credentials;
mod insecure_commands;
mod missing_permissions;
mod missing_timeout;
mod overprivileged_id_token;
mod secrets_in_workflow_env;
mod secrets_inherit;
mod secrets_outside_environment;
mod secrets_tojson;
mod self_hosted_runner;
mod template_injection;
mod unpinned_images;
mod unpinned_uses;
mod unsound_condition;
mod weak_shell;

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// The stable id used in output, configuration and suppressions.
    pub id: &'static str,
    /// One line: what the rule finds.
    pub title: &'static str,
    pub severity: Severity,
    /// Shown to the `pedantic` and `auditor` personas only.
    pub pedantic: bool,
    /// Why it matters.
    pub why: &'static str,
    /// A workflow fragment the rule reports.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// A check over one workflow or action file.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, ctx: &Ctx<'_>, out: &mut Vec<Finding>);
}

/// Every rule, in the order their findings are reported.
pub static RULES: &[&dyn Rule] = &[
    &missing_permissions::Rule,
    &excessive_permissions::Rule,
    &overprivileged_id_token::Rule,
    &missing_timeout::Rule,
    &excessive_timeout::Rule,
    &unpinned_uses::Rule,
    &unpinned_images::Rule,
    &dangerous_triggers::Rule,
    &template_injection::Rule,
    &credential_persistence::Rule,
    &secrets_inherit::Rule,
    &secrets_tojson::Rule,
    &secrets_in_workflow_env::Rule,
    &secrets_outside_environment::Rule,
    &hardcoded_container_credentials::Rule,
    &weak_shell::Rule,
    &download_and_execute::Rule,
    &cache_poisoning::Rule,
    &self_hosted_runner::Rule,
    &insecure_commands::Rule,
    &unsound_condition::Rule,
    &continue_on_error_security::Rule,
    &deploy_without_concurrency::Rule,
    &deprecated_commands::Rule,
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().id == id)
}
