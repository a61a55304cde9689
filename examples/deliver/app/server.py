"""A tiny HTTP service in two versions, for the delivery example.

    python3 app/server.py --port 8081 [--fail-every N] [--unhealthy]

It answers `/` with its version (read from VERSION beside this folder),
`/healthz` with 200 (or 503 with --unhealthy), and with --fail-every N
every Nth request to `/` with a 500, so that a canary of it fails a known
share of requests (N=5 is 20%).
"""

import argparse
import itertools
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = (pathlib.Path(__file__).parent.parent / "VERSION").read_text().strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--unhealthy", action="store_true")
    args = parser.parse_args()
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self.reply(503 if args.unhealthy else 200, "ok\n")
                return
            with lock:
                n = next(counter)
            if args.fail_every and n % args.fail_every == 0:
                self.reply(500, f"{VERSION} failed request {n}\n")
            else:
                self.reply(200, f"hello from {VERSION}\n")

        def reply(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
