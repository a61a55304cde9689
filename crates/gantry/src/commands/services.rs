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

pub fn run(root: &Path, args: ServicesArgs) -> Result<Outcome, CliError> {
    // No state is recorded yet: every service shows no versions.
    let report = match services::report(root, &|_| Vec::new()) {
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
    let problems = match &err {
        ServicesError::Catalog(CatalogError::Invalid(p))
        | ServicesError::Config(ConfigError::Invalid(p)) => p,
        ServicesError::Catalog(CatalogError::Cycle(cycle)) => {
            return Err(CliError::usage(
                cycle.to_string(),
                Some("remove one of these dependencies; optional ones order promotion too".into()),
            ));
        }
        other => return Err(CliError::usage(other.to_string(), None)),
    };
    let colored = render::color(std::io::stderr().is_terminal());
    eprint!("{}", render::problems_human(problems, colored));
    Ok(Outcome::Usage)
}
