"""A minimal process manager for the delivery example, standing in for
systemd or a platform's agent: a deployment writes a release, this starts it.

    python3 app/supervisor.py ROOT

Every 0.1 s it reads ROOT/<environment>/current, one line:
`RELEASE_DIR PORT [ARGS...]`. When the line changes it stops the running
server of that environment and starts RELEASE_DIR/app/server.py on PORT.
It runs until it is stopped.
"""

import pathlib
import subprocess
import sys
import time


def main() -> None:
    root = pathlib.Path(sys.argv[1])
    running: dict[str, tuple[str, subprocess.Popen]] = {}
    try:
        while True:
            for current in sorted(root.glob("*/current")):
                env = current.parent.name
                line = current.read_text().strip()
                if not line or running.get(env, ("",))[0] == line:
                    continue
                release, port, *args = line.split()
                if env in running:
                    old = running.pop(env)[1]
                    old.terminate()
                    old.wait()
                server = pathlib.Path(release) / "app" / "server.py"
                proc = subprocess.Popen([sys.executable, str(server), "--port", port, *args])
                running[env] = (line, proc)
                print(f"supervisor: {env} now runs {release} on port {port}", flush=True)
            time.sleep(0.1)
    finally:
        for _, proc in running.values():
            proc.terminate()


if __name__ == "__main__":
    main()
