//! `gantry verify`: check an attestation's signatures, types and subjects.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use gantry_attest::time;
use gantry_attest::verify::{Policy, verify};

use super::key::{load_private, load_public};
use super::user_path;
use super::{CliError, display_path};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A trusted public key (repeatable).
    #[arg(long, short = 'k', value_name = "PUB", required = true)]
    pub key: Vec<PathBuf>,

    /// The DSSE envelope to check.
    #[arg(long, short = 'a', value_name = "FILE")]
    pub attestation: PathBuf,

    /// A file or folder on disk that must match the subjects (repeatable).
    #[arg(long, short = 's', value_name = "PATH")]
    pub subject: Vec<PathBuf>,

    /// A container image that must match a subject by its manifest digest
    /// (repeatable): an OCI image layout folder, an oci-archive or a
    /// `docker save` tarball.
    #[arg(long, value_name = "DIR|TAR")]
    pub image: Vec<PathBuf>,

    /// The predicate type required: a URI or an alias (cyclonedx, slsa-provenance, ...).
    #[arg(long, short = 't', value_name = "URI")]
    pub predicate_type: Option<String>,

    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub threshold: u32,

    /// Also write a signed SLSA verification summary (VSA) of the result here.
    #[arg(long, value_name = "FILE", requires = "vsa_key")]
    pub vsa: Option<PathBuf>,

    /// The private key that signs the VSA.
    #[arg(long, value_name = "KEY")]
    pub vsa_key: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(root: &Path, args: VerifyArgs) -> Result<Outcome, CliError> {
    let keys = args
        .key
        .iter()
        .map(|k| load_public(root, k))
        .collect::<Result<Vec<_>, _>>()?;
    if (args.threshold as usize) > keys.len() {
        return Err(CliError::usage(
            format!(
                "--threshold {} needs at least that many --key",
                args.threshold
            ),
            None,
        ));
    }
    let path = user_path(root, &args.attestation);
    let bytes = gantry_attest::read_limited(&path, gantry_attest::dsse::MAX_ENVELOPE_BYTES)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let mut files = Policy::files_from_paths(root, &super::repo_paths(root, &args.subject))
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    for image in &args.image {
        let (name, digest) = super::sbom::image_subject(root, image)?;
        files.push((
            name,
            gantry_attest::digest::FileDigests::sha256_only(digest),
        ));
    }
    let policy = Policy {
        keys,
        threshold: args.threshold as usize,
        predicate_type: args.predicate_type.clone(),
        files,
    };
    let report = verify(&bytes, &policy);
    let shown = display_path(root, &path);

    if let Some(vsa_path) = &args.vsa {
        let key_path = args
            .vsa_key
            .as_ref()
            .ok_or_else(|| CliError::usage("--vsa needs --vsa-key", None))?;
        let key = load_private(root, key_path)?;
        let statement = report
            .summary_statement(
                &policy,
                (&shown, &bytes),
                env!("CARGO_PKG_VERSION"),
                time::now_or_source_date_epoch(),
            )
            .map_err(|e| CliError::usage(e.to_string(), Some("give --subject".to_string())))?;
        let env = gantry_attest::attest(&statement, &[&key])
            .map_err(|e| CliError::usage(e.to_string(), None))?;
        let out = user_path(root, vsa_path);
        std::fs::write(&out, env.to_json_pretty() + "\n")
            .map_err(|source| CliError::Read { path: out, source })?;
    }

    let passed = report.passed();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            for c in &report.checks {
                writeln!(
                    out,
                    "{} {}: {}",
                    if c.passed { "ok  " } else { "FAIL" },
                    c.check,
                    c.detail
                )?;
            }
            writeln!(
                out,
                "{shown}: {}",
                if passed { "verified" } else { "NOT verified" }
            )?;
        }
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report.document(&shown)).map_err(std::io::Error::from)?
        )?,
    }
    Ok(if passed {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}
