//! Running one process tree: its own process group, output line by line,
//! and a stop (timeout, cancellation) that leaves no orphans (SIGTERM to
//! the group, a grace period, then SIGKILL). A step that ends by itself
//! leaves its background processes to the job's reaper.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code (signals map to 128 + signal).
    Code(i32),
    /// It ran past its deadline and was stopped.
    TimedOut,
    /// The run was cancelled and it was stopped.
    Cancelled,
}

/// What to run.
pub struct Spec<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub timeout: Option<Duration>,
    /// How long a stopped process group gets between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// The version `node --version` prints (`v20.11.1`) with `path` as
/// `PATH`, or `None` when no `node` runs. JavaScript actions need it.
pub async fn node_version(path: &str) -> Option<String> {
    let out = Command::new("node")
        .arg("--version")
        .env("PATH", path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && text.starts_with('v')).then_some(text)
}

/// Runs a process to its end, handing each output line to `on_line`.
pub async fn run(
    spec: Spec<'_>,
    cancel: &CancellationToken,
    mut on_line: impl FnMut(Stream, String),
) -> std::io::Result<Exit> {
    let mut command = Command::new(spec.program);
    command
        .args(spec.args)
        .current_dir(spec.dir)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // Listed before anything can reap it, so a job's reaper leaves it to
    // tokio (see `reaper::leaders`).
    let (mut child, _listed) = {
        let mut leaders = super::reaper::leaders()
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let child = command.spawn()?;
        let listed = child.id().map(|id| {
            leaders.insert(id);
            Listed(id)
        });
        (child, listed)
    };
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Stream, String)>();
    let readers = [
        (
            stdout.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            Stream::Stdout,
        ),
        (
            stderr.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            Stream::Stderr,
        ),
    ];
    for (reader, stream) in readers {
        let Some(reader) = reader else { continue };
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match lines.read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buf);
                        let line = text.trim_end_matches(['\n', '\r']).to_string();
                        if tx.send((stream, line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(tx);
    let deadline = async {
        match spec.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut stopped: Option<Exit> = None;
    let mut output_open = true;
    let status = loop {
        tokio::select! {
            line = rx.recv(), if output_open => match line {
                Some((stream, line)) => on_line(stream, line),
                None => output_open = false,
            },
            status = child.wait() => break status?,
            () = &mut deadline, if stopped.is_none() => {
                stopped = Some(Exit::TimedOut);
                terminate(pgid, spec.grace);
            }
            () = cancel.cancelled(), if stopped.is_none() => {
                stopped = Some(Exit::Cancelled);
                terminate(pgid, spec.grace);
            }
        }
    };
    // The leader is gone. A stopped step's group goes with it; otherwise
    // what it started in the background (`server &`) lives on, as on
    // GitHub, until the job's end, when the job's reaper ends every
    // process carrying its tracking id. What was printed is drained for
    // a moment, not for as long as a chatty background process writes.
    if stopped.is_some()
        && let Some(pgid) = pgid
    {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let drained = tokio::time::Instant::now() + Duration::from_millis(200);
    while let Ok(Some((stream, line))) = tokio::time::timeout_at(drained, rx.recv()).await {
        on_line(stream, line);
    }
    if let Some(exit) = stopped {
        return Ok(exit);
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(Exit::Code(
        status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
    ))
}

/// Takes a leader off the list of unreaped processes when it is waited for
/// (or given up on).
struct Listed(u32);

impl Drop for Listed {
    fn drop(&mut self) {
        let mut leaders = super::reaper::leaders()
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        leaders.remove(&self.0);
    }
}

/// Sends SIGTERM to the group now and SIGKILL after the grace period.
fn terminate(pgid: Option<Pid>, grace: Duration) {
    let Some(pgid) = pgid else { return };
    let _ = killpg(pgid, Signal::SIGTERM);
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        let _ = killpg(pgid, Signal::SIGKILL);
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec<'a>(args: &'a [String], timeout: Option<Duration>) -> Spec<'a> {
        Spec {
            program: "bash",
            args,
            dir: Path::new("/"),
            env: &[],
            timeout,
            grace: Duration::from_millis(300),
        }
    }

    #[tokio::test]
    async fn captures_lines_and_exit_codes() {
        let args = vec![
            "-c".to_string(),
            "echo one; echo two >&2; exit 3".to_string(),
        ];
        let mut lines = Vec::new();
        let exit = run(spec(&args, None), &CancellationToken::new(), |s, l| {
            lines.push((s, l))
        })
        .await
        .unwrap();
        assert_eq!(exit, Exit::Code(3));
        assert!(lines.contains(&(Stream::Stdout, "one".into())));
        assert!(lines.contains(&(Stream::Stderr, "two".into())));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("orphan");
        // A background grandchild that would write the marker later.
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let args = vec!["-c".to_string(), script];
        let exit = run(
            spec(&args, Some(Duration::from_millis(300))),
            &CancellationToken::new(),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(exit, Exit::TimedOut);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            !marker.exists(),
            "a process of the tree outlived the timeout"
        );
    }

    #[tokio::test]
    async fn cancellation_stops_the_process() {
        let token = CancellationToken::new();
        let args = vec![
            "-c".to_string(),
            "trap 'exit 0' TERM; sleep 30 & wait".to_string(),
        ];
        let t = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            t.cancel();
        });
        let exit = run(spec(&args, None), &token, |_, _| {}).await.unwrap();
        assert_eq!(exit, Exit::Cancelled);
    }
}
