//! shellcheck as the [`ScriptChecker`] of `gantry validate`: the `run:`
//! scripts of one workflow file are written to a private temporary folder
//! and checked by one `shellcheck --format=json1` call per shell (bash,
//! sh), stopped after a time limit. A `.shellcheckrc` is not read
//! (`--norc`), so a finding does not depend on where validate runs.
//!
//! The rules that `${{ }}` placeholders and the runner's environment make
//! noisy are left out, as actionlint leaves them out: SC1091 (sourced file
//! not found), SC2050 and SC2194 (constant expressions, which a
//! placeholder is), SC2153 and SC2154 (variables the step's `env:` or
//! the runner sets), SC2157 (constant
//! strings in tests) and SC2043 (loops over one placeholder).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gantry_workflow::lint::{Script, ScriptChecker, ScriptFinding, ScriptLevel, ScriptReport};

/// Rules left out (see the module documentation).
pub const EXCLUDED: &str = "SC1091,SC2050,SC2194,SC2153,SC2154,SC2157,SC2043";

/// What `validate` says when shellcheck is not installed.
pub const NOT_INSTALLED: &str = "shellcheck is not installed, so run: scripts were not checked (install the `shellcheck` package to check them)";

/// The most output read from one shellcheck call.
const MAX_OUTPUT: u64 = 16 * 1024 * 1024;

/// shellcheck at a path, with a time limit per call.
#[derive(Debug, Clone)]
pub struct Shellcheck {
    program: PathBuf,
    timeout: Duration,
}

impl Shellcheck {
    /// `shellcheck` from `PATH`, if it is there.
    pub fn find() -> Option<Shellcheck> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("shellcheck"))
            .find(|p| p.is_file())
            .map(Shellcheck::at)
    }

    /// shellcheck at `program`, with a 60-second limit per call.
    pub fn at(program: impl Into<PathBuf>) -> Shellcheck {
        Shellcheck {
            program: program.into(),
            timeout: Duration::from_secs(60),
        }
    }

    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Shellcheck {
        self.timeout = timeout;
        self
    }

    /// Checks the scripts `indexes` of `scripts` (one shell) in `dir`.
    fn batch(
        &self,
        dir: &Path,
        scripts: &[Script],
        indexes: &[usize],
        out: &mut Vec<ScriptFinding>,
    ) -> Result<(), String> {
        let Some(first) = indexes.first().and_then(|i| scripts.get(*i)) else {
            return Ok(());
        };
        let mut files = Vec::new();
        for i in indexes {
            let Some(script) = scripts.get(*i) else {
                continue;
            };
            let path = dir.join(format!("{i}.sh"));
            std::fs::write(&path, &script.text)
                .map_err(|e| format!("cannot write a script: {e}"))?;
            files.push(path);
        }
        let mut child = Command::new(&self.program)
            .arg("--norc")
            .arg("--format=json1")
            .arg(format!("--shell={}", first.shell.name()))
            .arg(format!("--exclude={EXCLUDED}"))
            .arg("--")
            .args(&files)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let mut stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut text);
            }
            text
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() > self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("stopped after {} seconds", self.timeout.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("cannot wait for shellcheck: {e}")),
            }
        };
        let text = reader.join().unwrap_or_default();
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = (&mut pipe).take(64 * 1024).read_to_string(&mut stderr);
        }
        let parsed: serde_json::Value = serde_json::from_slice(&text).map_err(|_| {
            format!(
                "shellcheck exited with {status} without a report: {}",
                stderr.trim()
            )
        })?;
        let Some(comments) = parsed.get("comments").and_then(|c| c.as_array()) else {
            return Err("shellcheck's report has no comments".to_string());
        };
        for c in comments {
            let Some(script) = c
                .get("file")
                .and_then(|f| f.as_str())
                .and_then(|f| Path::new(f).file_stem()?.to_str()?.parse::<usize>().ok())
            else {
                continue;
            };
            let number = |key: &str| {
                c.get(key)
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(1)
            };
            let level = match c.get("level").and_then(|l| l.as_str()) {
                Some("error") => ScriptLevel::Error,
                Some("warning") => ScriptLevel::Warning,
                Some("info") => ScriptLevel::Info,
                _ => ScriptLevel::Style,
            };
            out.push(ScriptFinding {
                script,
                line: number("line"),
                column: number("column"),
                end_line: number("endLine"),
                end_column: number("endColumn"),
                code: c
                    .get("code")
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                level,
                message: c
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("")
                    .to_string(),
            });
        }
        Ok(())
    }
}

impl ScriptChecker for Shellcheck {
    fn name(&self) -> &str {
        "shellcheck"
    }

    fn check(&self, scripts: &[Script]) -> ScriptReport {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => return ScriptReport::Failed(format!("no temporary folder: {e}")),
        };
        let mut findings = Vec::new();
        let mut shells: Vec<_> = scripts.iter().map(|s| s.shell).collect();
        shells.dedup();
        shells.sort_by_key(|s| s.name());
        shells.dedup();
        for shell in shells {
            let indexes: Vec<usize> = scripts
                .iter()
                .enumerate()
                .filter(|(_, s)| s.shell == shell)
                .map(|(i, _)| i)
                .collect();
            if let Err(why) = self.batch(dir.path(), scripts, &indexes, &mut findings) {
                return ScriptReport::Failed(why);
            }
        }
        findings.sort_by_key(|f| (f.script, f.line, f.column));
        ScriptReport::Findings(findings)
    }
}
