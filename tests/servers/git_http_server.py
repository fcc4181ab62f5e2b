#!/usr/bin/env python3
"""A loopback git smart-HTTP server for QLP's tests: serves every repository
under --root through git's own CGI program, git-http-backend, with pushes
enabled.

    git_http_server.py --root DIR --port N [--user U --password P]

Listens on 127.0.0.1 only. With --port 0 it picks a free port. Its first
line on stdout (flushed) is always `listening on http://127.0.0.1:PORT`, so
a test reads the port from it; a repository DIR/a/b.git is then at
http://127.0.0.1:PORT/a/b.git. With --user and --password every request
needs those HTTP Basic credentials and gets 401 with WWW-Authenticate
otherwise. Requests are served concurrently; SIGTERM (or SIGINT) stops it.
Standard library only.
"""

import argparse
import base64
import hmac
import os
import shutil
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

# Largest request body accepted: beyond what QLP's plugin HTTP sends in one
# request (16 MiB), with room for a real git client's pushes in tests.
MAX_BODY = 256 << 20


def http_backend():
    """The path of git-http-backend, in git's exec path."""
    exec_path = subprocess.run(
        ["git", "--exec-path"], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = os.path.join(exec_path, "git-http-backend")
    if not os.access(path, os.X_OK):
        sys.exit(f"git-http-backend not found at {path}")
    return path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qlp-test-git/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        # Quiet: tests read stdout for the port and keep stderr for failures.
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def authorized(self):
        config = self.server.config
        if config.user is None:
            return True
        expected = "Basic " + base64.b64encode(
            f"{config.user}:{config.password}".encode()
        ).decode()
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), expected.encode())

    def read_body(self):
        """The request body, by Content-Length or chunked; None if too big."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers, up to the blank line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def reply(self, status, reason, headers, body):
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve(self):
        body = self.read_body()
        if body is None:
            self.close_connection = True
            self.reply(413, "Payload Too Large", [], b"request body too large\n")
            return
        if not self.authorized():
            self.reply(
                401,
                "Unauthorized",
                [("WWW-Authenticate", 'Basic realm="git"')],
                b"authentication required\n",
            )
            return
        path, _, query = self.path.partition("?")
        config = self.server.config
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": self.server_version,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_address[1]),
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": config.user or "qlp-test",
            "CONTENT_LENGTH": str(len(body)),
            "GIT_PROJECT_ROOT": config.root,
            "GIT_HTTP_EXPORT_ALL": "1",
        }
        if "HOME" in os.environ:
            env["HOME"] = os.environ["HOME"]
        content_type = self.headers.get("Content-Type")
        if content_type:
            env["CONTENT_TYPE"] = content_type
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_AUTHORIZATION", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                env[key] = value
        result = subprocess.run(
            [config.backend], input=body, env=env, capture_output=True
        )
        out = result.stdout
        head, sep, rest = out.partition(b"\r\n\r\n")
        if not sep:
            head, sep, rest = out.partition(b"\n\n")
        if not sep:
            message = b"git-http-backend failed: " + result.stderr[-2000:]
            self.reply(500, "Internal Server Error", [], message)
            return
        status, reason, headers = 200, "OK", []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            value = value.strip()
            if name.lower() == "status":
                code, _, reason = value.partition(" ")
                status = int(code)
            elif name.lower() not in ("content-length", "transfer-encoding", "connection"):
                headers.append((name, value))
        self.reply(status, reason or "OK", headers, rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory holding the repositories")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--user", help="HTTP Basic user required of every request")
    parser.add_argument("--password", help="HTTP Basic password (with --user)")
    args = parser.parse_args()
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    if shutil.which("git") is None:
        sys.exit("git is not installed")
    args.root = os.path.abspath(args.root)
    args.backend = http_backend()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.config = args

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
