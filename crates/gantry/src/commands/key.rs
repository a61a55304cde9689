//! `gantry key`: signing keys for attestations.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use gantry_attest::keyfiles::{KeyDescription, generate_key_pair, is_private_pem};
use gantry_attest::{Algorithm, AttestError, PrivateKey, PublicKey};

use super::user_path;
use super::{CliError, read_text};
use crate::Outcome;
use crate::cli::Format;

/// The environment variable holding the passphrase of private keys.
pub const PASSWORD_ENV: &str = "GANTRY_KEY_PASSWORD";

#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair: PREFIX.key (PKCS#8 PEM, encrypted with
    /// $GANTRY_KEY_PASSWORD when set) and PREFIX.pub (SPKI PEM).
    Generate(GenerateArgs),
    /// Show a key's algorithm and key id (SHA-256 of the public key's DER).
    Show(ShowArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    Ed25519,
    EcdsaP256,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long, short = 'a', value_enum, default_value = "ed25519")]
    pub algorithm: AlgorithmArg,
    /// Where to write: PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "gantry")]
    pub out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A private (.key) or public (.pub) PEM key.
    pub key: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The passphrase from the environment, if set and not empty.
pub fn password() -> Option<Vec<u8>> {
    std::env::var_os(PASSWORD_ENV)
        .filter(|v| !v.is_empty())
        .map(|v| v.into_encoded_bytes())
}

/// Reads a private key, decrypting it with $GANTRY_KEY_PASSWORD.
pub fn load_private(root: &Path, path: &Path) -> Result<PrivateKey, CliError> {
    let path = user_path(root, path);
    let text = read_text(&path)?;
    PrivateKey::from_pem(&text, password().as_deref()).map_err(|e| {
        let hint = match e {
            AttestError::PasswordNeeded => Some(format!("export {PASSWORD_ENV}=...")),
            _ => Some(
                "give the private key written by `gantry key generate` (PREFIX.key)".to_string(),
            ),
        };
        CliError::usage(format!("{}: {e}", path.display()), hint)
    })
}

/// Reads a public key.
pub fn load_public(root: &Path, path: &Path) -> Result<PublicKey, CliError> {
    let path = user_path(root, path);
    let text = read_text(&path)?;
    PublicKey::from_pem(&text).map_err(|e| {
        CliError::usage(
            format!("{}: {e}", path.display()),
            Some("give the public key written by `gantry key generate` (PREFIX.pub)".to_string()),
        )
    })
}

pub fn run(root: &Path, args: KeyArgs) -> Result<Outcome, CliError> {
    match args.command {
        KeyCommand::Generate(args) => generate(root, args),
        KeyCommand::Show(args) => show(root, args),
    }
}

fn generate(root: &Path, args: GenerateArgs) -> Result<Outcome, CliError> {
    let algorithm = match args.algorithm {
        AlgorithmArg::Ed25519 => Algorithm::Ed25519,
        AlgorithmArg::EcdsaP256 => Algorithm::EcdsaP256,
    };
    let password = password();
    let g = generate_key_pair(
        &user_path(root, &args.out),
        algorithm,
        password.as_deref(),
        args.force,
    )
    .map_err(|e| {
        let hint = matches!(e, AttestError::Exists { .. })
            .then(|| "choose another --out PREFIX, or pass --force to overwrite".to_string());
        CliError::usage(e.to_string(), hint)
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            writeln!(out, "generated {} key {}", g.algorithm, g.keyid)?;
            writeln!(
                out,
                "  private key: {}{}",
                g.private_key.display(),
                if g.encrypted {
                    " (encrypted with $GANTRY_KEY_PASSWORD)"
                } else {
                    " (not encrypted: set GANTRY_KEY_PASSWORD to encrypt)"
                }
            )?;
            writeln!(out, "  public key:  {}", g.public_key.display())?;
        }
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&g).map_err(std::io::Error::from)?
        )?,
    }
    Ok(Outcome::Success)
}

fn show(root: &Path, args: ShowArgs) -> Result<Outcome, CliError> {
    let path = user_path(root, &args.key);
    let text = read_text(&path)?;
    let key = if is_private_pem(&text) {
        KeyDescription::of_private(&load_private(root, &args.key)?)
    } else {
        KeyDescription::of_public(&load_public(root, &args.key)?)
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => writeln!(
            out,
            "{} {} key {}",
            if key.private { "private" } else { "public" },
            key.algorithm,
            key.keyid
        )?,
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&key).map_err(std::io::Error::from)?
        )?,
    }
    Ok(Outcome::Success)
}
