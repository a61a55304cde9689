//! How `run:` scripts are started: GitHub's shell templates.

use std::path::Path;

/// Scripts larger than this are passed as a file rather than an argument.
const INLINE_LIMIT: usize = 64 * 1024;

/// The program, its arguments, and the script file to write first (for
/// custom templates and very large scripts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub program: String,
    pub args: Vec<String>,
    /// `(path, contents)` to write before starting, removed afterwards.
    pub script_file: Option<(std::path::PathBuf, String)>,
}

/// Where a program is found on `PATH`, if anywhere.
pub(crate) fn find_on_path(program: &str, path: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Why a step's `shell:` cannot run its script here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShellError {
    #[error("`shell: cmd` needs Windows; this runner is not Windows")]
    NeedsWindows,
    #[error(
        "unknown shell `{0}`: use bash, sh, python, pwsh, or a command with `{{0}}` for the script's path"
    )]
    Unknown(String),
    #[error("the shell template is empty")]
    EmptyTemplate,
    #[error("the shell `{0}` is not installed on this machine")]
    NotInstalled(String),
}

/// Where a shell is looked for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    /// On this machine, in this `PATH`: the program is resolved here.
    Host(&'a str),
    /// In the job container (which has `bash` or not): the program is
    /// named, and the container's `PATH` finds it.
    Container { has_bash: bool },
}

/// Builds the command for a script. Built-in shells get the script as an
/// argument, so values expanded into it do not reach the disk; custom
/// templates (`{0}` is the script's path) get a file in `temp_dir`.
pub(crate) fn invocation(
    shell: Option<&str>,
    script: &str,
    temp_dir: &Path,
    lookup: Lookup<'_>,
) -> Result<Invocation, ShellError> {
    let shell = shell.map(str::trim).filter(|s| !s.is_empty());
    let file = |ext: &str| temp_dir.join(format!("script-{}.{ext}", unique()));
    let inline = script.len() <= INLINE_LIMIT;
    let bash = match (shell, lookup) {
        (None, Lookup::Host(path_var)) => find_on_path("bash", path_var),
        (None, Lookup::Container { has_bash: true }) => Some("bash".into()),
        _ => None,
    };
    let (program, mut args, ext): (&str, Vec<&str>, &str) = match shell {
        None if bash.is_some() => (
            "bash",
            vec!["--noprofile", "--norc", "-eo", "pipefail"],
            "sh",
        ),
        None => ("sh", vec!["-e"], "sh"),
        Some("bash") => (
            "bash",
            vec!["--noprofile", "--norc", "-eo", "pipefail"],
            "sh",
        ),
        Some("sh") => ("sh", vec!["-e"], "sh"),
        Some("python") => ("python", vec![], "py"),
        Some("pwsh") => (
            "pwsh",
            vec!["-NoProfile", "-NonInteractive", "-Command"],
            "ps1",
        ),
        Some("powershell") => (
            "powershell",
            vec!["-NoProfile", "-NonInteractive", "-Command"],
            "ps1",
        ),
        Some("cmd") => return Err(ShellError::NeedsWindows),
        Some(template) => {
            if !template.contains("{0}") {
                return Err(ShellError::Unknown(template.to_string()));
            }
            let path = file("sh");
            let mut words: Vec<String> = template.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                return Err(ShellError::EmptyTemplate);
            }
            let program = words.remove(0);
            let path_text = path.display().to_string();
            let args = words
                .into_iter()
                .map(|w| w.replace("{0}", &path_text))
                .collect();
            return Ok(Invocation {
                program,
                args,
                script_file: Some((path, script.to_string())),
            });
        }
    };
    // Resolved here, as the runner does, so starting it searches no `PATH`.
    let resolved = match lookup {
        Lookup::Host(path_var) => bash.or_else(|| find_on_path(program, path_var)),
        Lookup::Container { .. } => Some(program.into()),
    };
    let Some(resolved) = resolved else {
        return Err(ShellError::NotInstalled(program.to_string()));
    };
    let resolved = resolved.display().to_string();
    let mut script_file = None;
    if inline {
        match program {
            "python" => args.push("-c"),
            "bash" | "sh" => args.push("-c"),
            _ => {}
        }
        args.push(script);
        return Ok(Invocation {
            program: resolved,
            args: args.into_iter().map(str::to_string).collect(),
            script_file,
        });
    }
    let path = file(ext);
    let path_text = path.display().to_string();
    let mut args: Vec<String> = args.into_iter().map(str::to_string).collect();
    if program == "pwsh" || program == "powershell" {
        args.push(format!(". '{path_text}'"));
    } else {
        args.push(path_text);
    }
    script_file = Some((path, script.to_string()));
    Ok(Invocation {
        program: resolved,
        args,
        script_file,
    })
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bash_is_strict_and_gets_the_script_inline() {
        let path = std::env::var("PATH").unwrap();
        let inv = invocation(None, "echo hi", Path::new("/tmp"), Lookup::Host(&path)).unwrap();
        assert!(inv.program.ends_with("/bash"), "{}", inv.program);
        assert_eq!(
            inv.args,
            ["--noprofile", "--norc", "-eo", "pipefail", "-c", "echo hi"]
        );
        assert!(inv.script_file.is_none());
    }

    #[test]
    fn custom_templates_get_a_file() {
        let path = std::env::var("PATH").unwrap();
        let inv = invocation(
            Some("bash -x {0}"),
            "echo hi",
            Path::new("/t"),
            Lookup::Host(&path),
        )
        .unwrap();
        let (file, contents) = inv.script_file.unwrap();
        assert_eq!(inv.args, vec!["-x".to_string(), file.display().to_string()]);
        assert_eq!(contents, "echo hi");
        let err = invocation(Some("fish"), "x", Path::new("/t"), Lookup::Host(&path)).unwrap_err();
        assert_eq!(err, ShellError::Unknown("fish".into()));
        assert!(
            err.to_string()
                .starts_with("unknown shell `fish`: use bash"),
            "{err}"
        );
        assert_eq!(
            invocation(Some("cmd"), "x", Path::new("/t"), Lookup::Host(&path)).unwrap_err(),
            ShellError::NeedsWindows
        );
    }

    #[test]
    fn in_a_container_the_shell_is_named_not_resolved() {
        let with_bash = Lookup::Container { has_bash: true };
        let inv = invocation(None, "echo hi", Path::new("/t"), with_bash).unwrap();
        assert_eq!(inv.program, "bash");
        assert_eq!(inv.args[..4], ["--noprofile", "--norc", "-eo", "pipefail"]);
        let without = Lookup::Container { has_bash: false };
        let inv = invocation(None, "echo hi", Path::new("/t"), without).unwrap();
        assert_eq!(
            (inv.program.as_str(), inv.args),
            ("sh", vec!["-e".to_string(), "-c".into(), "echo hi".into()])
        );
        // Whether this machine has python does not matter.
        let inv = invocation(Some("python"), "print(1)", Path::new("/t"), without).unwrap();
        assert_eq!(inv.program, "python");
    }
}
