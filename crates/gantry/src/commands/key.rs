//! `gantry key`: signing keys for attestations.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use gantry_attest::{Algorithm, PrivateKey, PublicKey};
use serde_json::json;

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

fn resolve(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

/// Reads a private key, decrypting it with $GANTRY_KEY_PASSWORD.
pub fn load_private(root: &Path, path: &Path) -> Result<PrivateKey, CliError> {
    let path = resolve(root, path);
    let text = read_text(&path)?;
    PrivateKey::from_pem(&text, password().as_deref()).map_err(|e| {
        let hint = match e {
            gantry_attest::AttestError::PasswordNeeded => {
                Some(format!("export {PASSWORD_ENV}=..."))
            }
            _ => Some(
                "give the private key written by `gantry key generate` (PREFIX.key)".to_string(),
            ),
        };
        CliError::usage(format!("{}: {e}", path.display()), hint)
    })
}

/// Reads a public key.
pub fn load_public(root: &Path, path: &Path) -> Result<PublicKey, CliError> {
    let path = resolve(root, path);
    let text = read_text(&path)?;
    PublicKey::from_pem(&text).map_err(|e| {
        CliError::usage(
            format!("{}: {e}", path.display()),
            Some("give the public key written by `gantry key generate` (PREFIX.pub)".to_string()),
        )
    })
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn write_file(path: &Path, text: &str, mode: u32, force: bool) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::usage(
                format!("{} already exists", path.display()),
                Some("choose another --out PREFIX, or pass --force to overwrite".to_string()),
            )
        } else {
            CliError::Read {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::Read {
            path: path.to_path_buf(),
            source: e,
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
    let key = PrivateKey::generate(algorithm).map_err(|e| CliError::usage(e.to_string(), None))?;
    let password = password();
    let pem = key
        .to_pem(password.as_deref())
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let prefix = resolve(root, &args.out);
    let private_path = with_suffix(&prefix, ".key");
    let public_path = with_suffix(&prefix, ".pub");
    if !args.force {
        for p in [&private_path, &public_path] {
            if p.exists() {
                return Err(CliError::usage(
                    format!("{} already exists", p.display()),
                    Some("choose another --out PREFIX, or pass --force to overwrite".to_string()),
                ));
            }
        }
    }
    write_file(&private_path, &pem, 0o600, args.force)?;
    write_file(&public_path, &key.public_key().to_pem(), 0o644, args.force)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            writeln!(out, "generated {} key {}", algorithm.name(), key.key_id())?;
            writeln!(
                out,
                "  private key: {}{}",
                private_path.display(),
                if password.is_some() {
                    " (encrypted with $GANTRY_KEY_PASSWORD)"
                } else {
                    " (not encrypted: set GANTRY_KEY_PASSWORD to encrypt)"
                }
            )?;
            writeln!(out, "  public key:  {}", public_path.display())?;
        }
        Format::Json => {
            let v = json!({
                "algorithm": algorithm.name(),
                "keyid": key.key_id(),
                "private_key": private_path.display().to_string(),
                "public_key": public_path.display().to_string(),
                "encrypted": password.is_some(),
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).map_err(std::io::Error::from)?
            )?;
        }
    }
    Ok(Outcome::Success)
}

fn show(root: &Path, args: ShowArgs) -> Result<Outcome, CliError> {
    let path = resolve(root, &args.key);
    let text = read_text(&path)?;
    let (public, private) = if text.contains("PRIVATE KEY-----") {
        (load_private(root, &args.key)?.public_key().clone(), true)
    } else {
        (load_public(root, &args.key)?, false)
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => writeln!(
            out,
            "{} {} key {}",
            if private { "private" } else { "public" },
            public.algorithm().name(),
            public.key_id()
        )?,
        Format::Json => {
            let v = json!({ "algorithm": public.algorithm().name(), "keyid": public.key_id(), "private": private });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).map_err(std::io::Error::from)?
            )?;
        }
    }
    Ok(Outcome::Success)
}
