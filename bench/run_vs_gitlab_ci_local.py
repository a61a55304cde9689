#!/usr/bin/env python3
"""Engine overhead of `gantry run` against gitlab-ci-local's shell executor.

Usage: bench/run_vs_gitlab_ci_local.py [--jobs 200] [--steps 5] [--repeat 3]

Builds a scratch git repository holding the same pipeline twice: a GitHub
workflow (for gantry) and a .gitlab-ci.yml (for gitlab-ci-local), each with
JOBS jobs of STEPS `true` commands, and runs both on this machine, each
REPEAT times (the median counts).

Overhead is what an engine adds to the shells its CI semantics require,
measured here by starting those shells directly with `xargs -P <CPUs>`:
GitHub runs every step in a fresh `bash --noprofile --norc -eo pipefail`,
GitLab runs a job's script lines in one shell. So

    overhead = engine wall time - wall time of starting the same shells bare

for gantry (JOBS*STEPS bash processes) and for gitlab-ci-local (JOBS bash
processes of STEPS lines each). The script prints wall times, per-step
overhead, gantry's median step time from its own events, and both ratios.

Needs: a release build of gantry (cargo build --release -p gantry),
gitlab-ci-local with Node 22 (npm install node@22 gitlab-ci-local; the
script looks on PATH and in node_modules/.bin of the current folder and the
repository) and rsync.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def find_peer(root):
    local = [os.path.join(d, "node_modules", ".bin") for d in (os.getcwd(), root)]
    path = os.pathsep.join([*local, os.environ.get("PATH", "")])
    exe = shutil.which("gitlab-ci-local", path=path)
    return exe, path


def timed(cmd, **kwargs):
    """Runs a command; returns (seconds, completed process)."""
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start, out


def bare_shells(count, args, parallel, cwd):
    """Wall time of starting `count` shells with `args` directly."""
    seconds, out = timed(
        ["xargs", "-0", "-P", str(parallel), "-n", str(len(args)), "bash"],
        input="\0".join(args * count), cwd=cwd,
    )
    if out.returncode != 0:
        sys.exit(f"baseline shells failed: {out.stderr[-2000:]}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    gantry = os.path.join(root, "target", "release", "gantry")
    if not os.path.exists(gantry):
        sys.exit("build gantry first: cargo build --release -p gantry")

    work = tempfile.mkdtemp(prefix="gantry-bench-")
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, ".github", "workflows"))
    steps = "\n".join("      - run: \"true\"" for _ in range(args.steps))
    jobs = "".join(f"  job-{i}:\n    runs-on: ubuntu-latest\n    steps:\n{steps}\n" for i in range(args.jobs))
    with open(os.path.join(repo, ".github", "workflows", "bench.yml"), "w") as f:
        f.write("on: push\njobs:\n" + jobs)
    script = "\n".join('    - "true"' for _ in range(args.steps))
    with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
        f.write("".join(f"job-{i}:\n  script:\n{script}\n" for i in range(args.jobs)))
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
    subprocess.run(["git", "init", "-q", "."], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=repo, check=True, env=env)
    total = args.jobs * args.steps
    cpus = os.cpu_count() or 1
    print(f"pipeline: {args.jobs} jobs x {args.steps} `true` steps = {total} steps; {cpus} CPUs; median of {args.repeat}")

    # The shells each CI's semantics require, started bare.
    github_shell = ["--noprofile", "--norc", "-eo", "pipefail", "-c", "true"]
    gitlab_shell = ["-c", "\n".join(["true"] * args.steps)]
    g_floor = statistics.median(bare_shells(total, github_shell, cpus, work) for _ in range(args.repeat))
    p_floor = statistics.median(bare_shells(args.jobs, gitlab_shell, cpus, work) for _ in range(args.repeat))

    walls, medians = [], []
    for i in range(args.repeat):
        home = os.path.join(work, f"home-{i}")
        wall, out = timed(
            [gantry, "-C", repo, "run", "--format", "json", "--ref", "main"],
            env=dict(os.environ, GANTRY_HOME=home),
        )
        if out.returncode != 0:
            sys.exit(f"gantry run failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        durations = [e["duration_ms"] for e in map(json.loads, out.stdout.splitlines()) if e.get("type") == "step-finished"]
        walls.append(wall)
        medians.append(statistics.median(durations) if durations else float("nan"))
        shutil.rmtree(home, ignore_errors=True)
    g_wall = statistics.median(walls)
    g_over = max(g_wall - g_floor, 1e-6)
    print(f"bare shells (GitHub: 1 a step)   {g_floor:6.2f} s")
    print(f"gantry run                       {g_wall:6.2f} s   overhead {g_over / total * 1000:6.3f} ms/step   median step {statistics.median(medians):.2f} ms")

    peer, path = find_peer(root)
    if not peer or not shutil.which("rsync"):
        print("gitlab-ci-local   skipped: install it with `npm install node@22 gitlab-ci-local` and rsync")
        return
    walls = []
    for _ in range(args.repeat):
        wall, out = timed([peer, "--shell-isolation=false"], cwd=repo, env=dict(os.environ, PATH=path))
        if out.returncode != 0:
            sys.exit(f"gitlab-ci-local failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        walls.append(wall)
        shutil.rmtree(os.path.join(repo, ".gitlab-ci-local"), ignore_errors=True)
    p_wall = statistics.median(walls)
    p_over = max(p_wall - p_floor, 1e-6)
    print(f"bare shells (GitLab: 1 a job)    {p_floor:6.2f} s")
    print(f"gitlab-ci-local                  {p_wall:6.2f} s   overhead {p_over / total * 1000:6.3f} ms/step")
    print(f"wall time ratio     {p_wall / g_wall:6.1f}x  (gitlab-ci-local / gantry)")
    print(f"overhead ratio      {p_over / g_over:6.1f}x  (gitlab-ci-local / gantry; target >= 10x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
