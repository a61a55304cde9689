//! Rendering diagnostics and errors for people (miette); the JSON forms
//! are the libraries' documents.

use std::io::IsTerminal;
use std::sync::Arc;

use gantry_workflow::{Diagnostic, Severity, SourceFile};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

/// Whether output to a stream may use colour: a terminal, and `NO_COLOR`
/// unset.
pub fn color(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn handler(colored: bool) -> GraphicalReportHandler {
    let theme = if colored {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_context_lines(1)
}

/// The text of a source file, shared without copying.
#[derive(Debug, Clone)]
struct Text(Arc<SourceFile>);

impl miette::SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0
            .text()
            .read_span(span, context_lines_before, context_lines_after)
    }
}

/// Renders one diagnostic with its source line and label, like a compiler.
pub fn diagnostic_human(source: &Arc<SourceFile>, d: &Diagnostic, colored: bool) -> String {
    let mut md = MietteDiagnostic::new(d.message.clone()).with_code(d.code);
    md = md.with_severity(match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    });
    if let Some(hint) = &d.hint {
        md = md.with_help(hint.clone());
    }
    let mut out = String::new();
    match d.span {
        Some(span) => {
            let len = span
                .len()
                .max(usize::from(span.start < source.text().len()));
            md = md.with_label(LabeledSpan::new(
                Some(d.label.clone().unwrap_or_else(|| "here".into())),
                span.start,
                len,
            ));
            let report = miette::Report::new(md)
                .with_source_code(NamedSource::new(source.name(), Text(source.clone())));
            let _ = handler(colored).render_report(&mut out, report.as_ref());
        }
        None => {
            // A problem of the whole file: name the file in the message.
            md.message = format!("{}: {}", source.name(), d.message);
            let report = miette::Report::new(md);
            let _ = handler(colored).render_report(&mut out, report.as_ref());
        }
    }
    out
}

/// Prints a command error (bad usage, unreadable input) to stderr.
pub fn error(err: &crate::commands::CliError) {
    let mut md = MietteDiagnostic::new(err.to_string());
    if let Some(hint) = err.hint() {
        md = md.with_help(hint);
    }
    let mut out = String::new();
    let report = miette::Report::new(md);
    let _ =
        handler(color(std::io::stderr().is_terminal())).render_report(&mut out, report.as_ref());
    eprint!("{out}");
}

/// Renders every problem of a promotion file (a service, promotion.yml)
/// with its source line, and a closing count.
pub fn problems_human(problems: &gantry_promote::catalog::Problems, colored: bool) -> String {
    let mut out = String::new();
    for p in &problems.0 {
        out.push_str(&diagnostic_human(&p.text, &p.to_diagnostic(), colored));
    }
    let n = problems.0.len();
    out.push_str(&format!(
        "{n} problem{} found\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}
