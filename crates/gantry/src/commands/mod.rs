//! One module per command; each returns an [`Outcome`] or a [`CliError`].

mod actions;
mod attest;
mod audit;
mod cache;
mod db;
mod deploy;
mod dora;
mod eval;
mod key;
mod ledger;
mod load;
mod logs;
mod notifications;
mod plan;
mod posture;
mod promote;
mod rollout;
mod run;
mod run_attest;
mod runs;
mod sbom;
mod scan;
mod scan_fix;
mod serve;
mod services;
mod test_results;
mod validate;
mod verify;

use std::path::{Path, PathBuf};

use gantry_store::Home;

use crate::Outcome;
pub use actions::ActionsArgs;
pub use attest::AttestArgs;
pub use audit::AuditArgs;
pub use cache::CacheArgs;
pub use db::DbArgs;
pub use deploy::{DeploymentsArgs, RollbackArgs};
pub use dora::{DoraArgs, IncidentArgs};
pub use key::KeyArgs;
pub use ledger::LedgerArgs;
pub use load::LoadArgs;
pub use logs::LogsArgs;
pub use notifications::NotificationsArgs;
pub use posture::PostureArgs;
pub use promote::{ApproveArgs, PackageArgs, PackagesArgs, PromoteArgs, PromotionsArgs};
pub use rollout::RolloutArgs;
pub use run::RunArgs;
pub use runs::RunsArgs;
pub use sbom::SbomArgs;
pub use scan::ScanArgs;
pub use serve::{DashboardsArgs, ServeArgs, TokenArgs};
pub use services::ServicesArgs;
pub use test_results::TestsArgs;
pub use verify::VerifyArgs;

use crate::cli::{Cli, Command};

/// An error that stops a command before it could check anything.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file given on the command line that is refused: not a regular
    /// file, a system file, larger than [`MAX_TEXT_BYTES`] or not UTF-8.
    #[error(transparent)]
    File(gantry_fs::ReadError),
    #[error("failed to write output: {0}")]
    Write(#[from] std::io::Error),
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        CliError::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Usage { hint, .. } => hint.clone(),
            CliError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("check the path; gantry looks for workflows under .github/workflows".into())
            }
            _ => None,
        }
    }

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub fn run(cli: Cli) -> Result<Outcome, CliError> {
    // `-C DIR` is as if gantry were started in DIR, as with git.
    if let Some(dir) = &cli.directory {
        std::env::set_current_dir(dir).map_err(|e| {
            CliError::usage(
                format!("cannot work in {}: {e}", dir.display()),
                Some("-C takes a folder of the repository".to_string()),
            )
        })?;
    }
    let root = repository_root();
    // `$GANTRY_HOME`, built once; only the commands that keep or read
    // state require it to be usable.
    let home = Home::from_env();
    let state = || usable(&home);
    match cli.command {
        Command::Validate(args) => validate::run(&root, &home, args),
        Command::Plan(args) => plan::run(&root, &home, args),
        Command::Eval(args) => eval::run(&root, args),
        Command::Audit(args) => audit::run(&root, args),
        Command::Run(args) => run::run(&root, state()?, args),
        Command::Runs(args) => runs::run(&root, state()?, args),
        Command::Logs(args) => logs::run(state()?, args),
        Command::Tests(args) => test_results::run(&root, state()?, args),
        Command::Cache(args) => cache::run(state()?, args),
        Command::Actions(args) => actions::run(&root, state()?, args),
        Command::Sbom(args) => sbom::run(&root, args),
        Command::Scan(args) => scan::run(&root, state()?, args),
        Command::Posture(args) => posture::run(&root, &home, args),
        Command::Db(args) => db::run(&root, state()?, args),
        Command::Key(args) => key::run(&root, args),
        Command::Attest(args) => attest::run(&root, &home, args),
        Command::Verify(args) => verify::run(&root, args),
        Command::Ledger(args) => ledger::run(&root, state()?, args),
        Command::Package(args) => promote::package(&root, state()?, args),
        Command::Packages(args) => promote::packages(state()?, args),
        Command::Approve(args) => promote::approve(&root, state()?, args),
        Command::Deployments(args) => deploy::deployments(state()?, args),
        Command::Rollback(args) => deploy::rollback(&root, state()?, args),
        Command::Dora(args) => dora::dora(state()?, args),
        Command::Incident(args) => dora::incident(state()?, args),
        Command::Promote(args) => promote::promote(&root, state()?, args),
        Command::Promotions(args) => promote::promotions(state()?, args),
        Command::Services(args) => services::run(&root, state()?, args),
        Command::Load(args) => load::run(args),
        Command::Notifications(args) => notifications::run(state()?, args),
        Command::Rollout(args) => rollout::run(&root, state()?, args),
        Command::Serve(args) => serve::serve(&root, state()?, args),
        Command::Token(args) => serve::token(state()?, args),
        Command::Dashboards(args) => serve::dashboards(&root, args),
    }
}

/// The repository gantry works on: the nearest of the current folder and its
/// parents with `.git`, `.github` or `.gantry` (`.` when that is the current
/// folder, or when none is).
fn repository_root() -> PathBuf {
    let here = PathBuf::from(".");
    let Ok(start) = std::path::absolute(&here) else {
        return here;
    };
    match gantry_workflow::find_root(&start) {
        Some(found) if found != start => found.to_path_buf(),
        _ => here,
    }
}

/// A path given on the command line (relative to the folder gantry was
/// started in, or `-C`), as a path relative to the root: as given when that
/// folder is the root, else with the folder's place in the repository put
/// in front; absolute when it lies outside.
pub(crate) fn repo_path(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || root == Path::new(".") {
        return path.to_path_buf();
    }
    let Ok(full) = std::path::absolute(path) else {
        return path.to_path_buf();
    };
    match full.strip_prefix(root) {
        Ok(inside) if inside.as_os_str().is_empty() => PathBuf::from("."),
        Ok(inside) => inside.to_path_buf(),
        Err(_) => full,
    }
}

/// A command-line path as a path to open: [`repo_path`] under the root.
pub(crate) fn user_path(root: &Path, path: &Path) -> PathBuf {
    root.join(repo_path(root, path))
}

/// Command-line paths, each as [`repo_path`].
pub(crate) fn repo_paths(root: &Path, paths: &[PathBuf]) -> Vec<PathBuf> {
    paths.iter().map(|p| repo_path(root, p)).collect()
}

/// `home` when it can hold state: a folder, or nothing yet (it is created
/// when something is written). Anything else in its place is an error.
fn usable(home: &Home) -> Result<&Home, CliError> {
    home.exists().map_err(runs::store_error)?;
    Ok(home)
}

/// `path` as shown to the user: relative to `root` when inside it.
pub fn display_path(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown.display().to_string()
}

/// Reads workflow files; the errors of invalid ones are printed to stderr
/// and reported by the returned flag.
pub fn read_workflows(
    root: &Path,
    files: &[PathBuf],
) -> Result<(Vec<gantry_workflow::Workflow>, bool), CliError> {
    use std::io::IsTerminal;
    let colored = crate::render::color(std::io::stderr().is_terminal());
    let mut workflows = Vec::new();
    let mut invalid = false;
    for file in files {
        // Unreadable files (not UTF-8, not a regular file, too large) are
        // reported as `validate` reports them.
        let parsed = gantry_workflow::check::read_workflow_file(
            file,
            display_path(root, file),
            &gantry_workflow::ReadOptions::default(),
        );
        if parsed.has_errors() {
            invalid = true;
            for d in parsed
                .diagnostics
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
            {
                eprint!(
                    "{}",
                    crate::render::diagnostic_human(&parsed.diagnostics.source, d, colored)
                );
            }
            continue;
        }
        workflows.extend(parsed.value);
    }
    Ok((workflows, invalid))
}

/// The most a file given on the command line (a workflow, a key, an
/// envelope, a checkpoint) may hold.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Reads a file as UTF-8 text: a regular file (never a device, FIFO or
/// `/proc` file) of at most [`MAX_TEXT_BYTES`].
pub fn read_text(path: &Path) -> Result<String, CliError> {
    gantry_fs::read_text_bounded(path, MAX_TEXT_BYTES).map_err(|e| match e {
        gantry_fs::ReadError::Io { path, source } => CliError::Read { path, source },
        other => CliError::File(other),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn read_text_refuses_files_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        // Sparse: the size is there without writing 64 MiB.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_TEXT_BYTES + 1).unwrap();
        let e = read_text(&path).unwrap_err();
        assert!(e.to_string().contains("is larger than"), "{e}");
        file.set_len(3).unwrap();
        assert_eq!(read_text(&path).unwrap(), "\0\0\0");
    }

    #[cfg(unix)]
    #[test]
    fn read_text_refuses_devices_and_fifos() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("envelope.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_text(&zero).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let fifo = dir.path().join("checkpoint");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_text(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let missing = read_text(&dir.path().join("gone")).unwrap_err();
        assert!(matches!(missing, CliError::Read { .. }), "{missing}");
    }
}
