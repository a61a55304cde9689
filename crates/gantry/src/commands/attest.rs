//! `gantry attest`: sign an in-toto Statement about files into a DSSE
//! envelope.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use gantry_attest::provenance::{
    DEFAULT_BUILDER_ID, PROVENANCE_V1, RunFacts, provenance_predicate,
};
use gantry_attest::{Statement, predicate, statement, time};
use gantry_engine::provenance::{self, Builder, CheckoutBuild};

use super::key::load_private;
use super::user_path;
use super::{CliError, display_path};
use crate::Outcome;

/// Most bytes of a predicate file.
const MAX_PREDICATE_BYTES: u64 = 256 << 20;

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The predicate type: a URI, or one of slsa-provenance, cyclonedx,
    /// spdx, vulns, audit, test-result, vsa.
    #[arg(long, short = 't', value_name = "URI")]
    pub predicate_type: String,

    /// The predicate: JSON (JUnit XML for test-result). For
    /// slsa-provenance, omit it to describe this checkout (see --workflow).
    #[arg(long, short = 'p', value_name = "FILE")]
    pub predicate: Option<PathBuf>,

    /// test-result: state the test results recorded for this run (as
    /// `gantry tests RUN` shows them) instead of a report file. Failures
    /// that are not quarantined and flaky tests (in the run, or on one
    /// commit over the last 30 days) that are not quarantined are failed
    /// tests; skipped and quarantined ones are warned.
    #[arg(long, value_name = "RUN", conflicts_with = "predicate")]
    pub run: Option<gantry_store::RunId>,

    /// A file or folder the statement is about (repeatable); a folder gives
    /// one subject per file.
    #[arg(
        long,
        short = 's',
        value_name = "PATH",
        required_unless_present = "image"
    )]
    pub subject: Vec<PathBuf>,

    /// A container image the statement is about, by its manifest digest
    /// (repeatable): an OCI image layout folder, an oci-archive or a
    /// `docker save` tarball.
    #[arg(long, value_name = "DIR|TAR")]
    pub image: Vec<PathBuf>,

    /// A private key to sign with (repeatable for several signatures).
    #[arg(long, short = 'k', value_name = "KEY", required = true)]
    pub key: Vec<PathBuf>,

    /// Write the envelope here instead of to stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Provenance: the workflow file that built the subjects.
    #[arg(long, value_name = "FILE", help_heading = "Provenance")]
    pub workflow: Option<PathBuf>,
    /// Provenance: the triggering event.
    #[arg(long, default_value = "workflow_dispatch", help_heading = "Provenance")]
    pub event: String,
    /// Provenance: the branch or tag [default: the checked-out branch].
    #[arg(long = "ref", value_name = "REF", help_heading = "Provenance")]
    pub git_ref: Option<String>,
    /// Provenance: a workflow input, NAME=VALUE (repeatable).
    #[arg(long = "input", value_name = "NAME=VALUE", help_heading = "Provenance")]
    pub inputs: Vec<String>,
    /// Provenance: the run id (`invocationId`) [default: random].
    #[arg(long, value_name = "ID", help_heading = "Provenance")]
    pub run_id: Option<String>,
    /// Provenance: the builder id.
    #[arg(long, value_name = "URI", env = "GANTRY_BUILDER_ID", default_value = DEFAULT_BUILDER_ID, help_heading = "Provenance")]
    pub builder_id: String,
    /// Provenance: a log file of the build, recorded as a byproduct (repeatable).
    #[arg(long, value_name = "FILE", help_heading = "Provenance")]
    pub log: Vec<PathBuf>,
}

pub fn run(root: &Path, home: &gantry_store::Home, args: AttestArgs) -> Result<Outcome, CliError> {
    let uri = predicate::resolve(&args.predicate_type).to_string();
    let keys = args
        .key
        .iter()
        .map(|k| load_private(root, k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut subjects =
        statement::subjects_from_paths(root, &super::repo_paths(root, &args.subject)).map_err(
            |e| {
                CliError::usage(
                    e.to_string(),
                    Some("give existing files or folders with --subject".to_string()),
                )
            },
        )?;
    for image in &args.image {
        let (name, digest) = super::sbom::image_subject(root, image)?;
        subjects.push(gantry_attest::Subject::sha256(name, digest));
    }

    let predicate = match &args.predicate {
        Some(path) => {
            let full = user_path(root, path);
            let bytes = gantry_attest::read_limited(&full, MAX_PREDICATE_BYTES)
                .map_err(|e| CliError::usage(e.to_string(), None))?;
            predicate::read_predicate(&uri, &display_path(root, &full), &bytes).map_err(|e| {
                CliError::usage(
                    format!("{}: {e}", full.display()),
                    Some(format!("built-in predicate types: {}", aliases())),
                )
            })?
        }
        None if uri == PROVENANCE_V1 => provenance_predicate(&run_facts(root, &args)?),
        None if let Some(run) = args.run => {
            if uri != predicate::resolve("test-result") {
                return Err(CliError::usage(
                    "--run states recorded test results: it goes with -t test-result",
                    None,
                ));
            }
            stored_test_result(root, home, run)?
        }
        None => {
            return Err(CliError::usage(
                "--predicate is required for this predicate type",
                Some("only slsa-provenance can be built without one (from --workflow and the checkout)".to_string()),
            ));
        }
    };
    let statement = Statement::new(subjects, &uri, predicate);
    let refs: Vec<_> = keys.iter().collect();
    let envelope = gantry_attest::attest(&statement, &refs)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let mut text = envelope.to_json_pretty();
    text.push('\n');
    match &args.out {
        Some(path) => {
            let full = user_path(root, path);
            std::fs::write(&full, &text).map_err(|source| CliError::Read {
                path: full.clone(),
                source,
            })?;
            eprintln!(
                "attested {} subject(s) as {uri}, signed by {}: {}",
                statement.subject.len(),
                keys.iter()
                    .map(|k| &k.key_id()[..16])
                    .collect::<Vec<_>>()
                    .join(", "),
                full.display()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Outcome::Success)
}

/// The test-result predicate of a run's recorded tests.
fn stored_test_result(
    root: &Path,
    home: &gantry_store::Home,
    run: gantry_store::RunId,
) -> Result<serde_json::Value, CliError> {
    const FLAKY_WINDOW_MS: i64 = 30 * 86_400 * 1000;
    let quarantine =
        gantry_tests::load_quarantine(root).map_err(|e| CliError::usage(e.to_string(), None))?;
    let since = gantry_store::Timestamp(gantry_store::Timestamp::now().millis() - FLAKY_WINDOW_MS);
    let evidence = match super::runs::open_existing(home)? {
        Some(store) => store
            .test_evidence(run, &quarantine, Some(since))
            .map_err(super::runs::store_error)?,
        None => gantry_store::TestEvidence::default(),
    };
    if evidence.run.is_none() {
        return Err(CliError::usage(
            format!("run {run} has no recorded test results"),
            Some("`gantry tests` shows what was recorded; jobs record tests with `uses: gantry/test-report`".to_string()),
        ));
    }
    let reports: Vec<&str> = evidence.reports.iter().map(String::as_str).collect();
    Ok(gantry_attest::junit::test_result_predicate(
        &evidence.passed,
        &evidence.warned,
        &evidence.failed,
        &reports,
    ))
}

fn aliases() -> String {
    predicate::PREDICATES
        .iter()
        .map(|p| p.alias)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What this checkout says about a build: the workflow, the commit, local
/// actions, lockfiles and logs.
fn run_facts(root: &Path, args: &AttestArgs) -> Result<RunFacts, CliError> {
    let Some(workflow) = &args.workflow else {
        return Err(CliError::usage(
            "slsa-provenance without --predicate needs --workflow",
            Some(
                "e.g. --workflow .github/workflows/release.yml --event push --ref refs/tags/v1.0"
                    .to_string(),
            ),
        ));
    };
    let workflow_full = user_path(root, workflow);
    let (read, invalid) = super::read_workflows(root, std::slice::from_ref(&workflow_full))?;
    let (false, Some(parsed)) = (invalid, read.first()) else {
        return Err(CliError::usage(
            format!("{} has errors (shown above)", workflow_full.display()),
            Some("check it with `gantry validate`".to_string()),
        ));
    };
    let logs: Vec<PathBuf> = args.log.iter().map(|l| user_path(root, l)).collect();
    let builder = Builder {
        id: args.builder_id.clone(),
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
    };
    provenance::checkout_facts(&CheckoutBuild {
        root,
        workflow_path: &workflow_full,
        workflow: parsed,
        event: &args.event,
        git_ref: args.git_ref.as_deref(),
        inputs: &args.inputs,
        run_id: args.run_id.as_deref(),
        logs: &logs,
        time: time::now_or_source_date_epoch(),
        builder: &builder,
    })
    .map_err(|e| CliError::usage(e.to_string(), None))
}
