#!/usr/bin/env python3
"""Engine overhead of `gantry run` against gitlab-ci-local's shell executor.

Usage: bench/run_vs_gitlab_ci_local.py [--jobs 200] [--steps 5]

Builds a scratch git repository holding the same pipeline twice: a GitHub
workflow (for gantry) and a .gitlab-ci.yml (for gitlab-ci-local), each with
JOBS jobs of STEPS `true` commands. Runs both on this machine and prints the
wall time, the time per step, gantry's median per-step time (from its own
step events), and the ratio.

Needs: a release build of gantry (cargo build --release -p gantry),
gitlab-ci-local with Node 22 (npm install node@22 gitlab-ci-local; the
script looks on PATH and in node_modules/.bin of the current folder and the repository) and rsync.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
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

    home = os.path.join(work, "home")
    start = time.perf_counter()
    out = subprocess.run(
        [gantry, "-C", repo, "run", "--format", "json", "--ref", "main"],
        capture_output=True, text=True, env=dict(os.environ, GANTRY_HOME=home),
    )
    g_wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"gantry run failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    durations = [e["duration_ms"] for e in map(json.loads, out.stdout.splitlines()) if e.get("type") == "step-finished"]
    g_median = statistics.median(durations) if durations else float("nan")
    print(f"pipeline: {args.jobs} jobs x {args.steps} `true` steps = {total} steps")
    print(f"gantry run        {g_wall:8.2f} s   {g_wall / total * 1000:7.2f} ms/step   median step {g_median:.2f} ms")

    peer, path = find_peer(root)
    if not peer or not shutil.which("rsync"):
        print("gitlab-ci-local   skipped: install it with `npm install node@22 gitlab-ci-local` and rsync")
        return
    start = time.perf_counter()
    out = subprocess.run([peer, "--shell-isolation=false"], cwd=repo, capture_output=True, text=True, env=dict(os.environ, PATH=path))
    p_wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"gitlab-ci-local failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    print(f"gitlab-ci-local   {p_wall:8.2f} s   {p_wall / total * 1000:7.2f} ms/step")
    print(f"ratio             {p_wall / g_wall:8.1f}x  (gitlab-ci-local time / gantry time)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
