//! No process outlives its job.
//!
//! Every step process gets a tracking id in `RUNNER_TRACKING_ID` (as the
//! GitHub runner does):
//! `gantry_<ns>_<pid>_<start>_<nonce>_<run>_<job>_<step>`, where `<pid>`
//! and `<start>` name the gantry process that owns it (its start time
//! tells a live owner from a reused pid) in the pid namespace `<ns>` (a
//! gantry in another namespace, say a container, cannot see whether the
//! owner lives, so it leaves those processes alone), `<nonce>` tells runs
//! of one process apart, and `<job>` and `<step>` count up within it.
//! Children inherit the variable through `setsid`, `nohup` and double
//! forks, so at a step's timeout or cancellation, at the end of a job and
//! at the end of the run every process that carries the id (read from
//! `/proc/<pid>/environ`) is killed. gantry is also a child subreaper, so
//! orphans of a step are re-parented to gantry rather than to init, and
//! the killed ones are reaped rather than left as zombies.
//!
//! [`end_leftovers`] ends what a gantry process that died without
//! cleaning up (`kill -9`, a crash) left behind: processes whose tracking
//! id names an owner that is no longer running.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// The variable that carries the tracking id.
pub const TRACKING_VAR: &str = "RUNNER_TRACKING_ID";

/// The prefix of every gantry tracking id.
const PREFIX: &str = "gantry_";

/// How many times processes are looked for again after a kill (a process
/// can fork between the scan and its end).
const ROUNDS: usize = 5;

/// Becomes a child subreaper, once per process; it only fails on kernels
/// without it (before 3.4), where the tracking id alone is used.
pub(crate) fn become_subreaper() {
    subreaper();
}

/// Whether this process is a child subreaper (made one on first call).
fn subreaper() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| nix::sys::prctl::set_child_subreaper(true).is_ok())
}

/// Whether every child of this process is a step still running. As a
/// subreaper, gantry inherits every process a finished step left behind
/// (its shell exits before gantry learns the step ended, and orphans are
/// re-parented at that exit), so then nothing of a finished job survives
/// and its end needs no scan of `/proc`. Read under the spawn lock, so a
/// step being started is either listed or not yet a child. Anything
/// unexpected (no subreaper, no `children` files, another child such as
/// `git` or a zombie) answers false, and the full scan runs.
fn only_running_steps_remain() -> bool {
    if !subreaper() {
        return false;
    }
    let leaders = leaders().lock().unwrap_or_else(|e| e.into_inner());
    // The kernel's list can skip an entry while another child exits, so it
    // is read twice and must agree; the run's end scans fully regardless.
    let (Some(first), Some(second)) = (children(), children()) else {
        return false;
    };
    first == second && first.iter().all(|pid| leaders.contains(pid))
}

/// The children of every thread of this process, sorted.
fn children() -> Option<Vec<u32>> {
    let mut all = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).ok()?;
        for pid in text.split_whitespace() {
            all.push(pid.parse::<u32>().ok()?);
        }
    }
    all.sort_unstable();
    Some(all)
}

/// This process as an owner: its pid namespace, pid and start time.
fn owner() -> &'static (u64, u32, u64) {
    static OWNER: OnceLock<(u64, u32, u64)> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id();
        (pid_namespace(), pid, start_time(pid).unwrap_or(0))
    })
}

/// The inode of this process's pid namespace (`pid:[4026531836]`), or 0
/// when it cannot be read.
fn pid_namespace() -> u64 {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            l.to_str()?
                .strip_prefix("pid:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A process's start time in clock ticks after boot (`/proc/<pid>/stat`
/// field 22), or `None` when it is not running (a zombie has ended: it
/// only waits for its parent to collect its status).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let mut after = stat[stat.rfind(')')? + 1..].split_whitespace();
    if matches!(after.next(), Some("Z" | "X" | "x")) {
        return None;
    }
    after.nth(18)?.parse().ok()
}

/// The tracking ids of one run.
#[derive(Debug, Clone)]
pub(crate) struct RunTracking {
    prefix: String,
}

/// The tracking ids of one job.
#[derive(Debug, Clone)]
pub(crate) struct JobTracking {
    prefix: String,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl RunTracking {
    pub(crate) fn new(run_id: u64) -> Self {
        let (ns, pid, start) = owner();
        Self {
            prefix: format!("{PREFIX}{ns}_{pid}_{start}_{}_{run_id}_", next()),
        }
    }

    pub(crate) fn job(&self) -> JobTracking {
        JobTracking {
            prefix: format!("{}{}_", self.prefix, next()),
        }
    }

    /// Ends every process of the run; returns how many there were.
    pub(crate) fn end(&self) -> usize {
        end_matching(|id| id.starts_with(&self.prefix))
    }
}

impl JobTracking {
    /// A fresh id for one step process.
    pub(crate) fn step(&self) -> String {
        format!("{}{}", self.prefix, next())
    }

    /// Ends every process of the job; returns how many there were.
    pub(crate) fn end(&self) -> usize {
        if only_running_steps_remain() {
            return 0;
        }
        end_matching(|id| id.starts_with(&self.prefix))
    }
}

/// Ends every process of one step.
pub(crate) fn end_step(id: &str) -> usize {
    end_matching(|found| found == id)
}

/// Processes started by [`crate::run::process`] and not yet waited for:
/// they are tokio's to reap, never ours. Held while spawning, so a reap
/// never sees a step's leader before it is listed.
pub(crate) fn leaders() -> &'static Mutex<HashSet<u32>> {
    static LEADERS: OnceLock<Mutex<HashSet<u32>>> = OnceLock::new();
    LEADERS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// The tracking id in a process's environment, if it has a gantry one.
fn tracking_id(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let key = format!("{TRACKING_VAR}={PREFIX}");
    environ
        .split(|&b| b == 0)
        .find(|var| var.starts_with(key.as_bytes()))
        .and_then(|var| std::str::from_utf8(&var[TRACKING_VAR.len() + 1..]).ok())
        .map(str::to_string)
}

/// Every other process that has a gantry tracking id, with it.
fn tracked() -> Vec<(u32, String)> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter_map(|pid| tracking_id(pid).map(|id| (pid, id)))
        .collect()
}

/// Kills every process whose tracking id matches, until none is left (a
/// bounded number of rounds), and reaps those that were our children.
fn end_matching(matches: impl Fn(&str) -> bool) -> usize {
    let mut ended = HashSet::new();
    for _ in 0..ROUNDS {
        let found: Vec<u32> = tracked()
            .into_iter()
            .filter(|(_, id)| matches(id))
            .map(|(pid, _)| pid)
            .collect();
        if found.is_empty() {
            break;
        }
        for pid in found {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
            }
            ended.insert(pid);
        }
    }
    reap(&ended);
    ended.len()
}

/// Waits for killed processes that were re-parented to us, so none stays
/// a zombie; those that are not our children are someone else's to reap.
fn reap(pids: &HashSet<u32>) {
    let leaders = leaders().lock().unwrap_or_else(|e| e.into_inner());
    for &pid in pids {
        if leaders.contains(&pid) {
            continue;
        }
        let Ok(raw) = i32::try_from(pid) else {
            continue;
        };
        // SIGKILL is delivered at once; a process in uninterruptible
        // sleep may take a moment, and is given up on after a second.
        for _ in 0..100 {
            match waitpid(Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(10)),
                _ => break,
            }
        }
    }
}

/// What a gantry process that died left running, now ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The run the processes belonged to.
    pub run_id: u64,
    /// The gantry process that started them and is gone.
    pub owner_pid: u32,
    /// How many processes were ended.
    pub processes: usize,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ended {} process{} left by run {} (pid {} crashed)",
            self.processes,
            if self.processes == 1 { "" } else { "es" },
            self.run_id,
            self.owner_pid
        )
    }
}

/// The owner's pid namespace, pid and start time and the run named by a
/// tracking id.
fn parse(id: &str) -> Option<(u64, u32, u64, u64)> {
    let mut parts = id.strip_prefix(PREFIX)?.split('_');
    let ns = parts.next()?.parse().ok()?;
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    let _nonce = parts.next()?;
    let run = parts.next()?.parse().ok()?;
    Some((ns, pid, start, run))
}

/// Ends the processes that gantry processes no longer running left
/// behind, and says what was ended.
pub fn end_leftovers() -> Vec<Leftover> {
    let mut by_owner: BTreeMap<(u32, u64), HashSet<u32>> = BTreeMap::new();
    let mut alive: BTreeMap<u32, Option<u64>> = BTreeMap::new();
    let our_ns = owner().0;
    for _ in 0..ROUNDS {
        let mut found = Vec::new();
        for (pid, id) in tracked() {
            let Some((ns, owner, start, run)) = parse(&id) else {
                continue;
            };
            if ns != our_ns {
                continue;
            }
            let running = *alive.entry(owner).or_insert_with(|| start_time(owner));
            if running == Some(start) {
                continue;
            }
            found.push(pid);
            by_owner.entry((owner, run)).or_default().insert(pid);
        }
        if found.is_empty() {
            break;
        }
        for pid in found {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
            }
        }
    }
    let all: HashSet<u32> = by_owner.values().flatten().copied().collect();
    reap(&all);
    by_owner
        .into_iter()
        .map(|((owner_pid, run_id), pids)| Leftover {
            run_id,
            owner_pid,
            processes: pids.len(),
        })
        .collect()
}

/// Folder of a runner's temp folder where scripts are written.
pub(crate) const SCRIPTS_DIR: &str = "gantry-scripts";

/// Removes script files that gantry processes no longer running left in
/// the runners under `work_root` (`<work root>/<run>/runner-<n>/temp/`):
/// they may hold secrets. Script names start with the writer's pid.
pub(crate) fn sweep_scripts(work_root: &Path) {
    let me = std::process::id();
    let Ok(runs) = std::fs::read_dir(work_root) else {
        return;
    };
    for run in runs.flatten() {
        let Ok(runners) = std::fs::read_dir(run.path()) else {
            continue;
        };
        for runner in runners.flatten() {
            let dir = runner.path().join("temp").join(SCRIPTS_DIR);
            let Ok(scripts) = std::fs::read_dir(&dir) else {
                continue;
            };
            for script in scripts.flatten() {
                let name = script.file_name();
                let writer = name
                    .to_str()
                    .and_then(|n| n.strip_prefix("script-"))
                    .and_then(|n| n.split('-').next())
                    .and_then(|p| p.parse::<u32>().ok());
                let dead = writer.is_some_and(|p| p != me && start_time(p).is_none());
                if dead {
                    let _ = std::fs::remove_file(script.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_child_that_is_no_running_step_needs_the_full_scan() {
        subreaper();
        // Not started by `process`, so not a listed step: what a finished
        // step leaves behind looks like this to gantry.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let fast = only_running_steps_remain();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!fast, "a leftover child must not skip the job's scan");
    }

    #[test]
    fn ids_name_their_owner_and_run() {
        let run = RunTracking::new(12);
        let job = run.job();
        let step = job.step();
        let (ns, pid, start, run_id) = parse(&step).unwrap();
        assert_eq!((pid, run_id), (std::process::id(), 12));
        assert_eq!(ns, pid_namespace());
        assert_ne!(ns, 0);
        assert_eq!(Some(start), start_time(pid));
        assert!(step.starts_with(&job.prefix) && job.prefix.starts_with(&run.prefix));
        assert_ne!(job.step(), step, "each step process gets its own id");
        assert_eq!(parse("gantry_x"), None);
    }

    #[test]
    fn scripts_of_dead_gantry_processes_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("4242-1/runner-1/temp").join(SCRIPTS_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead = gone.id();
        gone.wait().unwrap();
        let me = std::process::id();
        for name in [
            format!("script-{dead}-0.sh"),
            format!("script-{me}-0.sh"),
            "other".to_string(),
        ] {
            std::fs::write(dir.join(name), "echo secret").unwrap();
        }
        sweep_scripts(root.path());
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["other".to_string(), format!("script-{me}-0.sh")]);
    }

    #[test]
    fn leftovers_say_what_was_ended() {
        let one = Leftover {
            run_id: 12,
            owner_pid: 4242,
            processes: 2,
        };
        assert_eq!(
            one.to_string(),
            "ended 2 processes left by run 12 (pid 4242 crashed)"
        );
    }
}
