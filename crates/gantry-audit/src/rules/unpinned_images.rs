//! `unpinned-images`: job and service containers on `latest`, without a
//! tag, or tagged without a digest.

use gantry_workflow::model::{Container, Job, StepsJob};

use super::RuleMeta;
use crate::context::Ctx;
use crate::finding::{Confidence, Finding, Severity};

pub(crate) struct Rule;

static META: RuleMeta = RuleMeta {
    id: "unpinned-images",
    title: "container images that are `latest`, untagged, or tagged without a digest",
    severity: Severity::Medium,
    pedantic: false,
    why: "An image tag is a pointer its publisher can move; `latest` and untagged images change with every push. The job then runs code nobody reviewed, and results cannot be reproduced.",
    example: "container: node:latest\nservices:\n  db:\n    image: postgres",
    fix: "pin the image by digest, keeping the tag for readers: `image: postgres:16@sha256:...`",
};

/// Splits `registry/name:tag@digest` into its tag and digest.
fn tag_and_digest(image: &str) -> (Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // The tag follows the last `:` after the last `/` (a registry port
    // comes before a `/`).
    let name_start = rest.rfind('/').map_or(0, |i| i + 1);
    let tag = rest[name_start..].split_once(':').map(|(_, t)| t);
    (tag, digest)
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn audit_normal_job(&self, ctx: &Ctx<'_>, job: &Job, steps: &StepsJob, out: &mut Vec<Finding>) {
        let mut check = |container: &Container, what: String| {
            let Some(image) = &container.image else {
                return;
            };
            if image.value.contains("${{") {
                return;
            }
            let (tag, digest) = tag_and_digest(&image.value);
            let finding = match (tag, digest) {
                (_, Some(_)) => return,
                (Some("latest"), None) => (
                    Severity::High,
                    format!("{what} uses `{}`, which moves with every push", image.value),
                    "`latest` tag",
                ),
                (None, None) => (
                    Severity::High,
                    format!(
                        "{what} uses `{}` without a tag, which means `latest`",
                        image.value
                    ),
                    "untagged image",
                ),
                (Some(_), None) => (
                    Severity::Low,
                    format!("{what} uses `{}`, a tag without a digest", image.value),
                    "tag without digest",
                ),
            };
            let mut f = ctx.finding(&META, image.span, Confidence::High, finding.1, finding.2);
            if ctx.config.severity.is_none() {
                f.severity = finding.0;
            }
            out.push(f);
        };
        {
            if let Some(c) = &steps.container {
                check(c, format!("the container of job '{}'", job.id.value));
            }
            for (name, service) in &steps.services {
                check(
                    service,
                    format!("service '{name}' of job '{}'", job.id.value),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tag_and_digest;

    #[test]
    fn reads_tags_past_registry_ports() {
        assert_eq!(tag_and_digest("postgres"), (None, None));
        assert_eq!(tag_and_digest("postgres:16"), (Some("16"), None));
        assert_eq!(tag_and_digest("localhost:5000/app"), (None, None));
        assert_eq!(
            tag_and_digest("ghcr.io/a/b:1@sha256:ab"),
            (Some("1"), Some("sha256:ab"))
        );
    }
}
