#!/usr/bin/env python3
"""Benchmark `gantry audit` against zizmor on a corpus of workflow files.

Usage: bench/audit_vs_zizmor.py [--runs N] DIR...

Each DIR is a repository checkout (or any folder with .github/workflows).
Both tools run offline over all DIRs in one invocation, N times each; the
fastest run of each is compared. Then the findings of the audits both tools
have are matched by file, line and audit, and printed as a table: found by
both, by gantry only, by zizmor only.

Needs: a release build of gantry (cargo build --release -p gantry) and
zizmor (pip install zizmor).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

# zizmor audit -> gantry rule(s) that cover the same weakness.
SHARED = {
    "unpinned-uses": ["unpinned-uses"],
    "excessive-permissions": ["excessive-permissions", "missing-permissions"],
    "template-injection": ["template-injection"],
    "artipacked": ["credential-persistence"],
    "dangerous-triggers": ["dangerous-triggers"],
    "secrets-inherit": ["secrets-inherit"],
    "unpinned-images": ["unpinned-images"],
    "insecure-commands": ["insecure-commands"],
}


TOLERANCE = 3


def timed(cmd, cwd):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    gantry = os.path.join(root, "target", "release", "gantry")
    if not os.path.exists(gantry):
        sys.exit("build gantry first: cargo build --release -p gantry")
    zizmor = shutil.which("zizmor")
    if not zizmor:
        sys.exit("zizmor not found: pip install zizmor")

    cwd = os.path.commonpath([os.path.abspath(d) for d in args.dirs])
    if len(args.dirs) == 1:
        cwd = os.path.dirname(cwd)
    rel = [os.path.relpath(os.path.abspath(d), cwd) for d in args.dirs]

    g_cmd = [gantry, "audit", "--format", "json", *rel]
    z_cmd = [zizmor, "--offline", "--format", "json", "--no-progress", *rel]
    g_times, z_times = [], []
    for _ in range(args.runs):
        t, g_out = timed(g_cmd, cwd)
        g_times.append(t)
        t, z_out = timed(z_cmd, cwd)
        z_times.append(t)
    if g_out.returncode not in (0, 1):
        sys.exit(f"gantry failed:\n{g_out.stderr}")
    if z_out.returncode not in (0, 1, 10, 11, 12, 13, 14):
        sys.exit(f"zizmor failed:\n{z_out.stderr}")

    g_findings = json.loads(g_out.stdout)["findings"]
    z_findings = json.loads(z_out.stdout)
    files = {f["path"] for f in g_findings}

    g_best, z_best = min(g_times), min(z_times)
    print(f"corpus: {len(args.dirs)} repositories under {cwd}")
    print(f"gantry audit  {g_best * 1000:8.1f} ms   (best of {args.runs})")
    print(f"zizmor        {z_best * 1000:8.1f} ms   (best of {args.runs})")
    print(f"ratio         {z_best / g_best:8.1f}x  (zizmor time / gantry time)\n")

    def key_g(f):
        return (os.path.normpath(f["path"]), f["location"]["line"])

    def key_z(f):
        for loc in f["locations"]:
            if loc["symbolic"]["kind"] == "Primary":
                path = loc["symbolic"]["key"]["Local"]["verbatim_path"]
                return (os.path.normpath(path), loc["concrete"]["location"]["start_point"]["row"] + 1)
        return None

    def match(g_set, z_set):
        """Pairs findings in the same file at most TOLERANCE lines apart
        (zizmor points at a step's first line, gantry at the `uses:`)."""
        z_left = sorted(z_set)
        both, g_only = 0, []
        for p, line in sorted(g_set):
            near = [z for z in z_left if z[0] == p and abs(z[1] - line) <= TOLERANCE]
            if near:
                z_left.remove(min(near, key=lambda z: abs(z[1] - line)))
                both += 1
            else:
                g_only.append((p, line))
        return both, g_only, z_left

    rows = []
    for z_id, g_ids in SHARED.items():
        g_set = {key_g(f) for f in g_findings if f["rule"] in g_ids}
        z_set = {key_z(f) for f in z_findings if f["ident"] == z_id} - {None}
        both, g_only, z_only = match(g_set, z_set)
        rows.append((z_id, "/".join(g_ids), both, len(g_only), len(z_only)))
        if os.environ.get("VERBOSE"):
            for p, l in g_only:
                print(f"  gantry only {z_id}: {p}:{l}")
            for p, l in z_only:
                print(f"  zizmor only {z_id}: {p}:{l}")
    print(f"{'zizmor audit':<24}{'gantry rule':<44}{'both':>6}{'gantry only':>13}{'zizmor only':>13}")
    for r in rows:
        print(f"{r[0]:<24}{r[1]:<44}{r[2]:>6}{r[3]:>13}{r[4]:>13}")
    print(f"\n{len(g_findings)} gantry findings in total, {len(z_findings)} zizmor findings in total")


if __name__ == "__main__":
    main()
