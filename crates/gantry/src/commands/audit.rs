//! `gantry audit`: security analysis of workflows and actions, with fixes.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use gantry_audit::{
    AuditOptions, AuditedFile, Config, Finding, Persona, RULES, Severity, audit_files,
    finding_location, rule_ids,
};
use gantry_workflow::{ReadOptions, SourceFile};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use super::{CliError, display_path, read_text};
use crate::Outcome;
use crate::render;

/// Output format of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuditFormat {
    /// Annotated source snippets with the fix, like a compiler.
    #[default]
    Human,
    /// Stable JSON for tools.
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub workflow-command annotations (`::error file=...`).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PersonaArg {
    /// Medium- and high-confidence findings, no pedantic rules.
    Regular,
    /// Also the pedantic rules.
    Pedantic,
    /// Everything, low-confidence findings included.
    Auditor,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Files or directories to audit [default: the repository's workflows
    /// and actions].
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: AuditFormat,

    /// Report (and fail on) findings at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub min_severity: SeverityArg,

    /// Which findings to show [default: from .gantry/audit.yml, else regular].
    #[arg(long, value_enum)]
    pub persona: Option<PersonaArg>,

    /// The configuration file [default: .gantry/audit.yml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Apply the safe fixes to the files.
    #[arg(long)]
    pub fix: bool,

    /// With --fix: print the changes as a diff instead of writing them.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,

    /// Print the documentation of a rule and exit.
    #[arg(long, value_name = "RULE", conflicts_with_all = ["fix", "list_rules"])]
    pub explain: Option<String>,

    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
}

fn load_config(root: &Path, args: &AuditArgs) -> Result<Config, CliError> {
    let path = match &args.config {
        Some(p) => Some(super::user_path(root, p)),
        None => Some(root.join(".gantry").join("audit.yml")).filter(|p| p.is_file()),
    };
    let mut config = match path {
        None => Config::default(),
        Some(path) => {
            let source = SourceFile::new(display_path(root, &path), read_text(&path)?);
            Config::parse(&source, &rule_ids()).map_err(|e| {
                let at = e
                    .span
                    .map(|s| format!(" at {}", source.position(s.start)))
                    .unwrap_or_default();
                CliError::usage(
                    format!("{}{at}: {e}", source.name()),
                    Some(format!("rules: {}", rule_ids().join(", "))),
                )
            })?
        }
    };
    if let Some(p) = args.persona {
        config.persona = match p {
            PersonaArg::Regular => Persona::Regular,
            PersonaArg::Pedantic => Persona::Pedantic,
            PersonaArg::Auditor => Persona::Auditor,
        };
    }
    Ok(config)
}

fn explain(id: &str) -> Result<Outcome, CliError> {
    let Some(rule) = gantry_audit::rules::rule(id) else {
        let near =
            gantry_workflow::did_you_mean(id, rule_ids()).map(|n| format!("did you mean `{n}`?"));
        return Err(CliError::usage(
            format!("no rule `{id}`"),
            near.or(Some("list them with `gantry audit --list-rules`".into())),
        ));
    };
    let m = rule.meta();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}, default severity {}{})\n",
        m.id,
        m.title,
        m.severity.name(),
        if m.pedantic { ", pedantic" } else { "" }
    );
    let _ = writeln!(out, "Why it matters:\n  {}\n", m.why);
    let _ = writeln!(
        out,
        "Example:\n{}\n",
        m.example
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = writeln!(out, "Fix:\n  {}", m.fix);
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}

fn list_rules() -> Result<Outcome, CliError> {
    let mut out = String::new();
    for rule in RULES {
        let m = rule.meta();
        let _ = writeln!(
            out,
            "{:<34} {:<7} {}{}",
            m.id,
            m.severity.name(),
            m.title,
            if m.pedantic { " (pedantic)" } else { "" }
        );
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(Outcome::Success)
}

pub fn run(root: &Path, args: AuditArgs) -> Result<Outcome, CliError> {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    if args.list_rules {
        return list_rules();
    }
    let config = load_config(root, &args)?;
    let files = super::validate::files(root, &args.paths)?;
    if files.is_empty() {
        return Err(CliError::usage(
            format!("no workflow or action files found under {}", root.display()),
            Some(
                "workflows live in .github/workflows/*.yml; pass files or folders to audit others"
                    .to_string(),
            ),
        ));
    }
    let report = audit_files(
        &super::validate::to_check(root, files),
        &config,
        &AuditOptions {
            fix: args.fix,
            dry_run: args.dry_run,
            min_severity: args.min_severity.into(),
            read: ReadOptions::default(),
        },
    );
    let stderr_colored = render::color(std::io::stderr().is_terminal());
    for file in &report.invalid {
        for d in &file.diagnostics {
            eprint!(
                "{}",
                render::diagnostic_human(&file.source, d, stderr_colored)
            );
        }
    }
    for refused in &report.unfixable {
        eprintln!(
            "gantry: not fixing {}: the fixed file would not be valid ({}); please report this",
            refused.name, refused.error
        );
    }
    let invalid = !report.invalid.is_empty();
    let colored = render::color(std::io::stdout().is_terminal());
    let mut diff = String::new();
    for file in &report.files {
        if let Some(fixed) = &file.fixed {
            let name = file.source.name();
            if args.dry_run {
                let _ = write!(
                    diff,
                    "{}",
                    similar::TextDiff::from_lines(file.source.text(), fixed)
                        .unified_diff()
                        .context_radius(2)
                        .header(&format!("a/{name}"), &format!("b/{name}"))
                );
            } else {
                std::fs::write(&file.path, fixed).map_err(|source| CliError::Read {
                    path: file.path.clone(),
                    source,
                })?;
            }
        }
    }
    let audited = &report.files;
    let count: usize = audited.iter().map(|a| a.findings.len()).sum();
    let mut stdout = std::io::stdout().lock();
    if args.dry_run {
        stdout.write_all(diff.as_bytes())?;
    }
    match args.format {
        AuditFormat::Human => {
            let handler = GraphicalReportHandler::new_themed(if colored {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            })
            .with_context_lines(1);
            for a in audited {
                for f in &a.findings {
                    stdout.write_all(human(&handler, &a.source, f).as_bytes())?;
                }
            }
            let fixable = audited
                .iter()
                .flat_map(|a| &a.findings)
                .filter(|f| f.fix.is_some())
                .count();
            let mut summary = format!(
                "{} file{} audited, {count} finding{}",
                audited.len(),
                plural(audited.len()),
                plural(count)
            );
            if fixable > 0 && !args.fix {
                let _ = write!(summary, " ({fixable} fixable with `gantry audit --fix`)");
            }
            writeln!(stdout, "{summary}")?;
        }
        AuditFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report.document())
                .map_err(std::io::Error::from)?;
            writeln!(stdout)?;
        }
        AuditFormat::Sarif => {
            let log = sarif_log(audited);
            serde_json::to_writer_pretty(&mut stdout, &log).map_err(std::io::Error::from)?;
            writeln!(stdout)?;
        }
        AuditFormat::Github => {
            for a in audited {
                for f in &a.findings {
                    let r = finding_location(&a.source, f.span);
                    let level = match f.severity {
                        Severity::High => "error",
                        Severity::Medium => "warning",
                        Severity::Low | Severity::Info => "notice",
                    };
                    writeln!(
                        stdout,
                        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                        escape_property(a.source.name()),
                        r.line,
                        r.column,
                        r.end_line,
                        r.end_column,
                        escape_property(f.rule),
                        escape_data(&f.message)
                    )?;
                }
            }
        }
    }
    if invalid {
        return Ok(Outcome::Usage);
    }
    Ok(if count > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn human(handler: &GraphicalReportHandler, source: &Arc<SourceFile>, f: &Finding) -> String {
    let mut help = f.help.clone();
    if let Some(fix) = &f.fix {
        let _ = write!(
            help,
            "\nfix available: {} (`gantry audit --fix`)",
            fix.title
        );
    }
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(f.label.clone()),
        (f.span.start, f.span.len().max(1)),
    )];
    for (span, label) in &f.related {
        labels.push(LabeledSpan::new_with_span(
            Some(label.clone()),
            (span.start, span.len().max(1)),
        ));
    }
    let md = MietteDiagnostic::new(f.message.clone())
        .with_code(format!(
            "{} ({}, {} confidence)",
            f.rule,
            f.severity.name(),
            f.confidence.name()
        ))
        .with_severity(match f.severity {
            Severity::High | Severity::Medium => miette::Severity::Error,
            Severity::Low => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
        .with_labels(labels)
        .with_help(help);
    let report = miette::Report::new(md)
        .with_source_code(NamedSource::new(source.name(), source.text().to_string()));
    let mut out = String::new();
    let _ = handler.render_report(&mut out, report.as_ref());
    out
}

/// The SARIF log of an audit, by the one writer in gantry-report.
fn sarif_log(audited: &[AuditedFile]) -> gantry_report::sarif::Log {
    let findings: Vec<gantry_report::Finding> = audited
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| f.to_report(&a.source)))
        .collect();
    gantry_report::sarif::write(
        &gantry_report::sarif::ToolInfo::gantry(env!("CARGO_PKG_VERSION")),
        &gantry_audit::sarif_rules(),
        &findings,
        None,
    )
}

/// Escapes a workflow-command property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Escapes workflow-command data.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
