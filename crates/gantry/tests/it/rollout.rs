//! `gantry rollout run` against two loopback backends: a good canary is
//! promoted through 10% and 50%, one that fails 20% of its requests is
//! rolled back, and `abort` from another terminal stops a paused one.
//! Each test bounds itself: the rollout's steps are short, a load thread
//! stops when the process does, and the process is killed after a minute.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A keep-alive HTTP/1.1 backend on loopback that answers `name`; every
/// `fail_every`-th request (if not 0) gets a 500.
fn backend(name: &'static str, fail_every: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let count = count.clone();
            std::thread::spawn(move || serve(stream, name, fail_every, &count));
        }
    });
    addr
}

fn serve(stream: TcpStream, name: &str, fail_every: u64, count: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        // Request line and headers; the load sends no bodies.
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        let status = if fail_every > 0 && n.is_multiple_of(fail_every) {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{name}",
            name.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn gantry(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gantry"));
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GANTRY_HOME", dir.join(".home"));
    command
}

fn write_rollout(dir: &Path, port: u16, stable: SocketAddr, canary: SocketAddr, steps: &str) {
    std::fs::create_dir_all(dir.join(".gantry/rollouts")).unwrap();
    std::fs::write(
        dir.join(".gantry/rollouts/web.yml"),
        format!(
            "listen: 127.0.0.1:{port}\nstable: http://{stable}\ncanary: http://{canary}\n\
             strategy:\n  canary:\n    steps: {steps}\n\
             analysis:\n  interval: 400ms\n  successRate: 0.95\n  minSamples: 5\n"
        ),
    )
    .unwrap();
}

/// Sends requests to the router one after another until told to stop.
/// Returns how many got an answer (any status), and how many got none
/// between the first answer and `ended` (the rollout's last line): a
/// connection dropped while weights moved.
fn load(
    port: u16,
    stop: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        let (mut answered, mut dropped, mut unanswered) = (0, 0, 0);
        while !stop.load(Ordering::Relaxed) {
            if get(port).is_some() {
                answered += 1;
                // Only a miss the router answered after was a drop; the
                // last ones are the router having stopped.
                dropped += unanswered;
                unanswered = 0;
            } else {
                if answered > 0 && !ended.load(Ordering::Relaxed) {
                    unanswered += 1;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        (answered, dropped)
    })
}

fn get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_string)
}

/// Waits for the process to end, killing it after a minute.
fn wait(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs `gantry rollout run web` under load; its stdout is read as it
/// comes, so the load knows when the rollout has ended.
fn run_with_load(dir: &Path, port: u16) -> (Output, String, (u64, u64)) {
    let mut child = gantry(dir)
        .args(["rollout", "run", "web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let ended = Arc::new(AtomicBool::new(false));
    let reader = {
        let ended = ended.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if ["promoted:", "rolled back:", "aborted by"]
                    .iter()
                    .any(|end| line.contains(end))
                {
                    ended.store(true, Ordering::Relaxed);
                }
                text.push_str(&line);
                text.push('\n');
            }
            ended.store(true, Ordering::Relaxed);
            text
        })
    };
    let loader = load(port, stop.clone(), ended);
    let output = wait(child);
    stop.store(true, Ordering::Relaxed);
    let text = reader.join().unwrap();
    (output, text, loader.join().unwrap())
}

const STEPS: &str = "[{setWeight: 10}, {analysis: {count: 2}}, {setWeight: 50}, \
                     {analysis: {count: 2}}, {setWeight: 100}]";

#[test]
fn rollout_run_promotes_a_good_canary_and_rolls_back_a_failing_one() {
    let dir = tempfile::tempdir().unwrap();
    let stable = backend("stable", 0);

    let good = backend("canary", 0);
    let port = free_port();
    write_rollout(dir.path(), port, stable, good, STEPS);
    let (output, stdout, (answered, dropped)) = run_with_load(dir.path(), port);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    for want in [
        "router listening on http://127.0.0.1:",
        "step 1/5: setWeight 10 (canary 10%)",
        "step 3/5: setWeight 50 (canary 50%)",
        "step 5/5: setWeight 100 (canary 100%)",
        "analysis 1: successful",
        "promoted: canary 100%",
    ] {
        assert!(stdout.contains(want), "no `{want}` in\n{stdout}");
    }
    assert!(answered > 0);
    assert_eq!(dropped, 0, "requests without an answer while weights moved");

    let failing = backend("canary", 5);
    let port = free_port();
    write_rollout(dir.path(), port, stable, failing, STEPS);
    let (output, stdout, (_, dropped)) = run_with_load(dir.path(), port);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(dropped, 0, "requests without an answer during the rollback");
    assert!(stdout.contains("analysis 1: failed"), "{stdout}");
    assert!(stdout.contains("degraded: "), "{stdout}");
    assert!(stdout.contains("rolled back: canary 0%"), "{stdout}");
    assert!(
        !stdout.contains("setWeight 50"),
        "went on past 10%:\n{stdout}"
    );

    let status = gantry(dir.path())
        .args(["rollout", "status", "web", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["phase"], "degraded", "{doc}");
    assert_eq!(doc["running"], false);
    assert_eq!(doc["status"]["canary_weight"], 0);
    assert_eq!(doc["status"]["last_analysis"]["verdict"], "failed");

    // The ledger holds the decisions of both runs.
    let ledger = gantry(dir.path())
        .args(["ledger", "verify", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ledger.stdout);
    assert_eq!(ledger.status.code(), Some(0), "{text}");
}

#[test]
fn rollout_abort_from_another_terminal_stops_a_paused_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let stable = backend("stable", 0);
    let canary = backend("canary", 0);
    let port = free_port();
    write_rollout(
        dir.path(),
        port,
        stable,
        canary,
        "[{setWeight: 20}, {pause: {}}, {setWeight: 100}]",
    );
    let child = gantry(dir.path())
        .args(["rollout", "run", "web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let loader = load(port, stop.clone(), Arc::new(AtomicBool::new(true)));
    // Wait until the status says paused, then abort.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = gantry(dir.path())
            .args(["rollout", "status", "web", "--format", "json"])
            .output()
            .unwrap();
        let paused = serde_json::from_slice::<serde_json::Value>(&status.stdout)
            .is_ok_and(|doc| doc["phase"] == "paused");
        if paused || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let abort = gantry(dir.path())
        .args(["rollout", "abort", "web"])
        .output()
        .unwrap();
    assert_eq!(
        abort.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&abort.stderr)
    );
    let output = wait(child);
    stop.store(true, Ordering::Relaxed);
    loader.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("aborted by gantry rollout abort: canary 0%"),
        "{stdout}"
    );
    // Nothing runs it any more: commands are refused.
    let late = gantry(dir.path())
        .args(["rollout", "promote", "web"])
        .output()
        .unwrap();
    assert_eq!(late.status.code(), Some(2));
}

#[test]
fn rollout_run_reports_a_bad_file_at_its_line_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".gantry/rollouts")).unwrap();
    std::fs::write(
        dir.path().join(".gantry/rollouts/web.yml"),
        "listen: 127.0.0.1:1\nstable: http://127.0.0.1:2\ncanary: http://127.0.0.1:3\n\
         strategy: {canary: {steps: [{setWeight: 300}]}}\n",
    )
    .unwrap();
    let output = gantry(dir.path())
        .args(["rollout", "run", "web"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid `setWeight` `300`"), "{stderr}");
    assert!(stderr.contains("web.yml:4:"), "{stderr}");
    let missing = gantry(dir.path())
        .args(["rollout", "run", "nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));

    // An HAProxy traffic block drives HAProxy's runtime API; one that is
    // not there degrades the rollout at once, back to stable.
    std::fs::write(
        dir.path().join(".gantry/rollouts/web.yml"),
        "listen: 127.0.0.1:1\nstable: http://127.0.0.1:2\ncanary: http://127.0.0.1:3\n\
         traffic: {provider: haproxy, runtimeApi: /run/haproxy.sock, backend: web, \
         stableServer: blue, canaryServer: green}\n\
         strategy: {canary: {steps: [{setWeight: 10}]}}\n",
    )
    .unwrap();
    let haproxy = gantry(dir.path())
        .args(["rollout", "run", "web"])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&haproxy.stdout),
        String::from_utf8_lossy(&haproxy.stderr)
    );
    assert_eq!(haproxy.status.code(), Some(1), "{all}");
    assert!(
        all.contains("cannot reach haproxy runtime API at /run/haproxy.sock"),
        "{all}"
    );
}

#[test]
fn sigterm_aborts_a_running_rollout_back_to_stable() {
    let dir = tempfile::tempdir().unwrap();
    let stable = backend("stable", 0);
    let canary = backend("canary", 0);
    let port = free_port();
    write_rollout(
        dir.path(),
        port,
        stable,
        canary,
        "[{setWeight: 30}, {pause: {}}]",
    );
    let child = gantry(dir.path())
        .args(["rollout", "run", "web"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the router answers, the rollout is under way.
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(port).is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let output = wait(child);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("aborted by a signal: canary 0%"),
        "{stdout}"
    );
    let status = gantry(dir.path())
        .args(["rollout", "status", "web", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["phase"], "aborted", "{doc}");
}

#[test]
fn analysis_load_gives_a_quiet_service_samples() {
    let dir = tempfile::tempdir().unwrap();
    let stable = backend("stable", 0);
    let canary = backend("canary", 0);
    let port = free_port();
    write_rollout(
        dir.path(),
        port,
        stable,
        canary,
        "[{setWeight: 50}, {analysis: {count: 2}}, {setWeight: 100}]",
    );
    // Nobody else sends a request: without the load the analysis would
    // pause for want of samples.
    let file = dir.path().join(".gantry/rollouts/web.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}  load: {{ rate: 100/s }}\n")).unwrap();
    let child = gantry(dir.path())
        .args(["rollout", "run", "web"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait(child);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("analysis 2: successful"), "{stdout}");
    assert!(stdout.contains("promoted: canary 100%"), "{stdout}");
}
