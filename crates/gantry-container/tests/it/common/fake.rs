//! A fake engine client for tests (see [`Fake`]). Shared by
//! gantry-container's and gantry-engine's tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use gantry_container::{Engine, EngineKind};

/// A fake engine client: a shell script that appends each command line
/// to `calls` (one a line, words joined by spaces), the value of each
/// `-e NAME` it was given to `env`, and answers as an engine would.
/// Files in its folder change its answers: `fail-<subcommand>` makes that
/// subcommand fail, `state` is what `inspect` of a state prints. Its
/// containers have no `bash`; any other `exec` succeeds.
pub struct Fake {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
}

const SCRIPT: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$*" >> "$dir/calls"
prev=
for a in "$@"; do
  if [ "$prev" = "-e" ]; then
    case "$a" in *[!A-Za-z0-9_]*|'') ;; *) eval "v=\${$a}"; printf '%s=%s\n' "$a" "$v" >> "$dir/env";; esac
  fi
  prev=$a
done
if [ -f "$dir/fail-$1" ]; then echo "Error: $1 refused" >&2; exit 125; fi
case "$1" in
  run) echo "0123abcd$(wc -l < "$dir/calls" | tr -d ' ')";;
  port) echo "8080/tcp -> 127.0.0.1:40001"; echo "8080/tcp -> [::]:40001"; echo "53/udp -> 127.0.0.1:40002";;
  inspect)
    case "$3" in
      *State*) if [ -f "$dir/state" ]; then cat "$dir/state"; else echo "running healthy"; fi;;
      *) echo "PATH=/usr/local/bin:/usr/bin:/bin"; echo "HOME=/root";;
    esac;;
  login) read -r pw; printf '%s' "$pw" > "$dir/password"; printf '%s\n' "${REGISTRY_AUTH_FILE}${DOCKER_CONFIG}" > "$dir/auth-env";;
  logs) echo "database system is starting up";;
  exec)
    case "$*" in
      *" bash -c true") exit 1;;
      *) echo "ran in the fake container";;
    esac;;
esac
exit 0
"#;

impl Fake {
    pub fn new(kind: EngineKind) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join(kind.name());
        std::fs::write(&program, SCRIPT).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fake {
            engine: Engine::new(kind, program),
            dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Each command line it ran, in order.
    pub fn calls(&self) -> Vec<String> {
        read_lines(&self.path("calls"))
    }

    /// `NAME=VALUE` of each variable a `-e NAME` passed on.
    pub fn env(&self) -> Vec<String> {
        read_lines(&self.path("env"))
    }

    pub fn set(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
