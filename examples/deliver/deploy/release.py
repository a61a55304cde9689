"""Releases this checkout to an environment on this machine: copies the
app into DEPLOY_ROOT/<environment>/releases/<commit>/, points
DEPLOY_ROOT/<environment>/current at it for the supervisor
(app/supervisor.py) to start, waits until the new version answers, and gives its URL as the step's
`url` output.

    python3 deploy/release.py DEPLOY_ROOT ENVIRONMENT PORT COMMIT

A checkout holding a file named UNHEALTHY is released with --unhealthy:
its /healthz answers 503, which the environment's health check catches.
"""

import os
import pathlib
import shutil
import sys
import time
import urllib.request


def main() -> None:
    root, environment, port, commit = sys.argv[1:5]
    here = pathlib.Path(__file__).resolve().parent.parent
    version = (here / "VERSION").read_text().strip()
    release = pathlib.Path(root) / environment / "releases" / commit
    if release.exists():
        shutil.rmtree(release)
    shutil.copytree(here / "app", release / "app")
    shutil.copy(here / "VERSION", release / "VERSION")
    args = " --unhealthy" if (here / "UNHEALTHY").exists() else ""
    current = pathlib.Path(root) / environment / "current"
    current.write_text(f"{release} {port}{args}\n")
    want = f"hello from {version}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.read().decode().strip() == want:
                    print(f"{environment}: {version} ({commit[:12]}) answers on port {port}")
                    outputs = os.environ.get("GITHUB_OUTPUT")
                    if outputs:
                        with open(outputs, "a") as out:
                            out.write(f"url=http://127.0.0.1:{port}/\n")
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{environment}: {version} did not answer on port {port} within 20 s")


if __name__ == "__main__":
    main()
