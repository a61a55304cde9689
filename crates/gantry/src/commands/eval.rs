//! `gantry eval`: evaluate one expression against JSON contexts.

use std::io::{IsTerminal, Write};
use std::path::Path;

use gantry_expr::{MapContext, Value};
use gantry_workflow::{Diagnostic, SourceFile, Span};

use super::{CliError, read_text};
use crate::Outcome;
use crate::cli::EvalArgs;
use crate::render;

pub fn run(root: &Path, args: EvalArgs) -> Result<Outcome, CliError> {
    let mut context = MapContext::default();
    if let Some(path) = &args.context {
        let path = super::user_path(root, path);
        let text = read_text(&path)?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            CliError::usage(
                format!("{} is not valid JSON: {e}", path.display()),
                Some("the context file is a JSON object such as {\"github\": {\"ref\": \"refs/heads/main\"}}".to_string()),
            )
        })?;
        let serde_json::Value::Object(map) = json else {
            return Err(CliError::usage(
                format!("{} must hold a JSON object of contexts", path.display()),
                Some("e.g. {\"github\": {...}, \"env\": {...}}".to_string()),
            ));
        };
        for (name, value) in map {
            context.insert(name, Value::from_json(value));
        }
    }
    let result = gantry_expr::evaluate_text(&args.expression, &context);
    match result {
        Ok(value) => {
            let mut stdout = std::io::stdout().lock();
            let json =
                serde_json::to_string_pretty(&value.to_json()).map_err(std::io::Error::from)?;
            writeln!(stdout, "{json}")?;
            Ok(Outcome::Success)
        }
        Err(err) => {
            let source = SourceFile::new("<expression>", args.expression);
            let span = err.span().map(|r| Span::new(r.start, r.end));
            let diagnostic =
                Diagnostic::error("expression", span, err.to_string()).with_label("here");
            eprint!(
                "{}",
                render::diagnostic_human(
                    &source,
                    &diagnostic,
                    render::color(std::io::stderr().is_terminal())
                )
            );
            Ok(Outcome::Failure)
        }
    }
}
