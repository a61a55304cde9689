//! `gantry serve` and `gantry token`: parse, make one gantry_server call,
//! render.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use gantry_server::auth::{self, Role};
use gantry_store::Home;

use super::CliError;
use super::ledger::print_json;
use super::runs::{open_at, store_error};
use super::user_path;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; a non-loopback one needs TLS or --insecure.
    #[arg(long, default_value = "127.0.0.1:8420")]
    pub listen: SocketAddr,
    /// The TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address.
    #[arg(long)]
    pub insecure: bool,
    /// NAME=KEYFILE: sign approvals made with the approver token NAME with
    /// this private key (the one `approvers:` in .gantry/promotion.yml
    /// names for NAME); repeatable.
    #[arg(long, value_name = "NAME=KEYFILE")]
    pub approval_key: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Deployer,
    Approver,
    Admin,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for `gantry serve`; it is printed once, only its hash is kept.
    Create {
        /// Who holds it; approvals made with it are recorded under this name.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// How long it is valid: 30d, 12h, 90m [default: until revoked].
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the tokens (names, roles, times; never secrets).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Revoke a token by name.
    Revoke { name: String },
}

fn usage(e: impl std::error::Error) -> CliError {
    CliError::usage(e.to_string(), None)
}

pub fn serve(root: &Path, home: &Home, args: ServeArgs) -> Result<Outcome, CliError> {
    let mut options =
        gantry_server::ServeOptions::new(root.to_path_buf(), home.clone(), args.listen);
    options.insecure = args.insecure;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        options.tls = Some(gantry_server::TlsFiles {
            cert: user_path(root, &cert),
            key: user_path(root, &key),
        });
    }
    for given in &args.approval_key {
        let Some((name, file)) = given.split_once('=') else {
            return Err(CliError::usage(
                format!("--approval-key `{given}`: give NAME=KEYFILE"),
                None,
            ));
        };
        options
            .approval_keys
            .push((name.to_string(), user_path(root, Path::new(file))));
    }
    gantry_server::serve(options, Duration::from_secs(30), |addr, tls| {
        let scheme = if tls { "https" } else { "http" };
        eprintln!("gantry serve: listening on {scheme}://{addr}/ (SIGTERM or Ctrl-C stops)");
    })
    .map_err(usage)?;
    Ok(Outcome::Success)
}

pub fn token(home: &Home, args: TokenArgs) -> Result<Outcome, CliError> {
    let store = open_at(home)?;
    let token_error = |e: auth::TokenError| match e {
        auth::TokenError::Store(e) => store_error(e),
        other => usage(other),
    };
    match args.command {
        TokenCommand::Create {
            name,
            role,
            expires,
            format,
        } => {
            let role = match role {
                RoleArg::Viewer => Role::Viewer,
                RoleArg::Deployer => Role::Deployer,
                RoleArg::Approver => Role::Approver,
                RoleArg::Admin => Role::Admin,
            };
            let expires = expires
                .as_deref()
                .map(auth::parse_duration)
                .transpose()
                .map_err(token_error)?;
            let made = auth::create_token(&store, &name, role, expires).map_err(token_error)?;
            match format {
                Format::Json => print_json(&made)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{}", made.token)?;
                    eprintln!(
                        "token `{}` ({}) made; it is shown only now: keep it secret",
                        made.info.name, made.info.role
                    );
                }
            }
        }
        TokenCommand::List { format } => {
            let report = auth::list_tokens(&store).map_err(token_error)?;
            match format {
                Format::Json => print_json(&report)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    if report.tokens.is_empty() {
                        writeln!(
                            out,
                            "no tokens; `gantry token create --name N --role viewer` makes one"
                        )?;
                    }
                    for t in &report.tokens {
                        let state = match (t.revoked_at, t.expires_at) {
                            (Some(at), _) => format!("revoked {at}"),
                            (None, Some(at)) => format!("expires {at}"),
                            (None, None) => "no expiry".to_string(),
                        };
                        writeln!(
                            out,
                            "{}  {}  created {}  {state}",
                            t.name, t.role, t.created_at
                        )?;
                    }
                }
            }
        }
        TokenCommand::Revoke { name } => {
            let t = auth::revoke_token(&store, &name).map_err(token_error)?;
            writeln!(std::io::stdout().lock(), "revoked token `{}`", t.name)?;
        }
    }
    Ok(Outcome::Success)
}

#[derive(Debug, Args)]
pub struct DashboardsArgs {
    #[command(subcommand)]
    pub command: DashboardsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DashboardsCommand {
    /// Write a Grafana dashboard (JSON) over the `/metrics` series.
    Grafana {
        /// Write it here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub fn dashboards(root: &Path, args: DashboardsArgs) -> Result<Outcome, CliError> {
    match args.command {
        DashboardsCommand::Grafana { out } => {
            let mut text = serde_json::to_string_pretty(&gantry_server::grafana::dashboard())
                .map_err(std::io::Error::from)?;
            text.push('\n');
            match out {
                Some(path) => {
                    let path = user_path(root, &path);
                    std::fs::write(&path, text)?;
                    eprintln!("wrote {}", path.display());
                }
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
        }
    }
    Ok(Outcome::Success)
}
