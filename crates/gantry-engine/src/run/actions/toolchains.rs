//! The toolchains installed on this machine: every Python, Node.js, Go and
//! Java a `setup-*` action could use, found where people and images put
//! them (the `PATH`, with versioned names such as `python3.12`; pyenv, nvm,
//! Volta, `/usr/lib/jvm`, `/usr/lib/go-*`, `/usr/local/go`, `~/sdk` and
//! the runner tool cache), each with the version it reports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

/// A toolchain kind a setup action asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Python,
    Node,
    Go,
    Java,
}

impl Tool {
    /// The name people know it by.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Tool::Python => "Python",
            Tool::Node => "Node.js",
            Tool::Go => "Go",
            Tool::Java => "Java",
        }
    }

    /// The program, and the names a job's steps call it by.
    pub(crate) fn program(self) -> &'static str {
        match self {
            Tool::Python => "python3",
            Tool::Node => "node",
            Tool::Go => "go",
            Tool::Java => "java",
        }
    }

    fn version_args(self) -> &'static [&'static str] {
        match self {
            Tool::Go => &["version"],
            Tool::Java => &["-version"],
            _ => &["--version"],
        }
    }

    /// Whether a file name in a `PATH` folder is this tool: `python3` and
    /// `python3.N`, otherwise the program's own name.
    fn matches_name(self, name: &str) -> bool {
        let program = self.program();
        name == program
            || (self == Tool::Python
                && name.strip_prefix("python3.").is_some_and(|minor| {
                    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
                }))
    }

    /// Folders whose entries are installations, each with the program at
    /// `<entry>/<rest>`.
    fn managed(self, home: Option<&Path>, tool_cache: &Path) -> Vec<(PathBuf, &'static str)> {
        let mut out = Vec::new();
        let cache = |name: &str| tool_cache.join(name);
        match self {
            Tool::Python => {
                if let Some(h) = home {
                    out.push((h.join(".pyenv/versions"), "bin/python3"));
                }
                out.push((cache("Python"), "x64/bin/python3"));
                out.push((
                    PathBuf::from("/opt/hostedtoolcache/Python"),
                    "x64/bin/python3",
                ));
            }
            Tool::Node => {
                if let Some(h) = home {
                    out.push((h.join(".nvm/versions/node"), "bin/node"));
                    out.push((h.join(".volta/tools/image/node"), "bin/node"));
                }
                out.push((cache("node"), "x64/bin/node"));
                out.push((PathBuf::from("/opt/hostedtoolcache/node"), "x64/bin/node"));
            }
            Tool::Go => {
                if let Some(h) = home {
                    out.push((h.join("sdk"), "bin/go"));
                }
                out.push((PathBuf::from("/usr/lib"), "bin/go"));
                out.push((cache("go"), "x64/bin/go"));
                out.push((PathBuf::from("/opt/hostedtoolcache/go"), "x64/bin/go"));
            }
            Tool::Java => {
                out.push((PathBuf::from("/usr/lib/jvm"), "bin/java"));
                out.push((PathBuf::from("/opt/hostedtoolcache"), "x64/bin/java"));
            }
        }
        out
    }

    /// Single installations at fixed places.
    fn fixed(self) -> &'static [&'static str] {
        match self {
            Tool::Go => &["/usr/local/go/bin/go"],
            _ => &[],
        }
    }

    /// Whether an entry of a managed folder can hold this tool (`/usr/lib`
    /// holds much else; only `go-*` there is Go).
    fn entry_matches(self, folder: &Path, entry: &str) -> bool {
        match self {
            Tool::Go if folder == Path::new("/usr/lib") => entry.starts_with("go"),
            Tool::Go if folder.ends_with("sdk") => entry.starts_with("go"),
            Tool::Java if folder == Path::new("/opt/hostedtoolcache") => entry.starts_with("Java_"),
            _ => true,
        }
    }
}

/// One installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Installed {
    /// What it reports, `3.12.4`.
    pub version: String,
    /// The program, as found (not resolved through links).
    pub program: PathBuf,
}

/// Every installation of `tool`, found on `path` (a `PATH` value) and in
/// the usual places, one per program file, with its version, in the order
/// found (the `PATH` first, in its order). Programs that do not answer
/// within a few seconds are left out.
pub(crate) async fn installed(
    tool: Tool,
    path: &str,
    home: Option<&Path>,
    tool_cache: &Path,
) -> Vec<Installed> {
    let mut programs: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| tool.matches_name(n))
            .collect();
        names.sort();
        programs.extend(names.into_iter().map(|n| dir.join(n)));
    }
    for (folder, rest) in tool.managed(home, tool_cache) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| tool.entry_matches(&folder, n))
            })
            .map(|e| e.path().join(rest))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        programs.extend(found);
    }
    programs.extend(
        tool.fixed()
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.is_file()),
    );

    // One entry per real file: `/usr/bin/python3` and `/usr/bin/python3.11`
    // are often the same program.
    let mut seen = BTreeSet::new();
    programs.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    // Asked all at once: interpreters take a while to start.
    let mut asking = tokio::task::JoinSet::new();
    for (index, program) in programs.into_iter().enumerate() {
        asking.spawn(async move {
            let version = version_of(tool, &program).await;
            (index, program, version)
        });
    }
    let mut answered = Vec::new();
    while let Some(done) = asking.join_next().await {
        if let Ok((index, program, Some(version))) = done {
            answered.push((index, Installed { version, program }));
        }
    }
    answered.sort_by_key(|(index, _)| *index);
    answered
        .into_iter()
        .map(|(_, installed)| installed)
        .collect()
}

/// The version a program reports, within five seconds.
pub(crate) async fn version_of(tool: Tool, program: &Path) -> Option<String> {
    let run = Command::new(program)
        .args(tool.version_args())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .ok()?
        .ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    first_version(&text)
}

/// The first `x.y.z`-like run of digits and dots in `text`.
pub(crate) fn first_version(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let v: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let v = v.trim_end_matches('.');
    (!v.is_empty()).then(|| v.to_string())
}

/// The numeric parts of a version (`3.12.4` → [3, 12, 4]); a part that is
/// not a number counts as 0.
fn parts(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Orders versions numerically, part by part.
pub(crate) fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    parts(a).cmp(&parts(b))
}

/// Whether `actual` satisfies `requested`: a version prefix (`3.11`,
/// `20`, `1.80.0`), with `x`/`*` wildcards, or a name for "whatever is
/// installed" (`latest`, `stable`, `lts/*`, `node`).
pub(crate) fn satisfies(requested: &str, actual: &str) -> bool {
    let requested = requested.trim().trim_start_matches(['v', '^', '~', '=']);
    if matches!(
        requested,
        "" | "latest" | "stable" | "lts/*" | "node" | "*" | "x"
    ) {
        return true;
    }
    let want: Vec<&str> = requested.split('.').collect();
    let have: Vec<&str> = actual.split('.').collect();
    want.iter()
        .enumerate()
        .all(|(i, w)| matches!(*w, "x" | "X" | "*") || have.get(i) == Some(w))
}

/// The installation nearest to `requested`: the closest major version,
/// then the closest minor, and so on (the newer one on a tie).
/// `installed` may be in any order.
pub(crate) fn nearest<'a>(requested: &str, installed: &'a [Installed]) -> Option<&'a Installed> {
    let want = parts(requested.trim().trim_start_matches(['v', '^', '~', '=']));
    let distance = |i: &Installed| -> Vec<u64> {
        let have = parts(&i.version);
        want.iter()
            .enumerate()
            .map(|(n, w)| have.get(n).copied().unwrap_or(0).abs_diff(*w))
            .collect()
    };
    installed.iter().min_by(|a, b| {
        distance(a)
            .cmp(&distance(b))
            .then_with(|| compare(&b.version, &a.version))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(version: &str) -> Installed {
        Installed {
            version: version.into(),
            program: PathBuf::from(format!("/x/{version}")),
        }
    }

    #[test]
    fn version_requests() {
        assert!(satisfies("3.11", "3.11.7"));
        assert!(satisfies("3.x", "3.12.1"));
        assert!(!satisfies("3.10", "3.11.7"));
        assert!(!satisfies("3.1", "3.11.7"));
        assert!(satisfies("20", "20.20.2"));
        assert!(satisfies("v20.20", "20.20.2"));
        assert!(!satisfies("22", "20.20.2"));
        assert!(satisfies("lts/*", "20.20.2"));
        assert_eq!(
            first_version("openjdk version \"17.0.15\" 2025-04-15").as_deref(),
            Some("17.0.15")
        );
        assert_eq!(
            first_version("go version go1.22.1 linux/amd64").as_deref(),
            Some("1.22.1")
        );
        assert_eq!(first_version("no digits"), None);
    }

    #[test]
    fn names_on_the_path() {
        assert!(Tool::Python.matches_name("python3"));
        assert!(Tool::Python.matches_name("python3.12"));
        assert!(!Tool::Python.matches_name("python3.12-config"));
        assert!(!Tool::Python.matches_name("python3."));
        assert!(Tool::Node.matches_name("node"));
        assert!(!Tool::Node.matches_name("nodejs-foo"));
    }

    #[test]
    fn the_nearest_installation() {
        let installed = [at("3.9.2"), at("3.12.4"), at("3.11.7")];
        assert_eq!(nearest("3.13", &installed).unwrap().version, "3.12.4");
        assert_eq!(nearest("3.10", &installed).unwrap().version, "3.11.7");
        assert_eq!(nearest("2.7", &installed).unwrap().version, "3.9.2");
        assert!(nearest("3", &[]).is_none());
        assert_eq!(
            compare("3.10.1", "3.9.9"),
            std::cmp::Ordering::Greater,
            "numeric, not text, order"
        );
    }
}
