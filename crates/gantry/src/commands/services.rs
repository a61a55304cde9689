//! `gantry services`: the service catalog, each service's versions per
//! state, and the promotion order.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use gantry_promote::catalog::CatalogError;
use gantry_promote::config::ConfigError;
use gantry_promote::services::{self, ServicesError};

use super::CliError;
use crate::Outcome;
use crate::render;

#[derive(Debug, Args)]
pub struct ServicesArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: ServicesFormat,
}

/// Output format of `services`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ServicesFormat {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document for tools.
    Json,
    /// Graphviz DOT of the dependency graph.
    Dot,
    /// A Mermaid flowchart of the dependency graph.
    Mermaid,
}

pub fn run(
    root: &Path,
    home: &gantry_store::Home,
    args: ServicesArgs,
) -> Result<Outcome, CliError> {
    let history = super::promote::recorded_state(home)?;
    let report = match services::report(root, &|name| history.versions_by_state(name)) {
        Ok(report) => report,
        Err(err) => return refused(err),
    };
    let text = match args.format {
        ServicesFormat::Human => services::render_human(&report),
        ServicesFormat::Json => {
            let mut json = serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?;
            json.push('\n');
            json
        }
        ServicesFormat::Dot => services::render_dot(&report),
        ServicesFormat::Mermaid => services::render_mermaid(&report),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Outcome::Success)
}

/// Prints why the catalog or the configuration was refused: every problem
/// with its source line, or the cycle with its edges.
fn refused(err: ServicesError) -> Result<Outcome, CliError> {
    match err {
        ServicesError::Catalog(e) => refused_catalog(&e),
        ServicesError::Config(e) => refused_config(&e),
        other => Err(CliError::usage(other.to_string(), None)),
    }
}

/// [`refused`] for a catalog that could not be read.
pub(super) fn refused_catalog(err: &CatalogError) -> Result<Outcome, CliError> {
    match err {
        CatalogError::Invalid(p) => Ok(print_problems(p)),
        CatalogError::Cycle(cycle) => Err(CliError::usage(
            cycle.to_string(),
            Some("remove one of these dependencies; optional ones order promotion too".into()),
        )),
        other => Err(CliError::usage(other.to_string(), None)),
    }
}

/// [`refused`] for a promotion configuration that could not be read.
pub(super) fn refused_config(err: &ConfigError) -> Result<Outcome, CliError> {
    match err {
        ConfigError::Invalid(p) => Ok(print_problems(p)),
        other => Err(CliError::usage(other.to_string(), None)),
    }
}

pub(super) fn print_problems(problems: &gantry_promote::catalog::Problems) -> Outcome {
    let colored = render::color(std::io::stderr().is_terminal());
    eprint!("{}", render::problems_human(problems, colored));
    Outcome::Usage
}
