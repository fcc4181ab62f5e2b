#!/usr/bin/env python3
"""An HTTPS server on loopback for the TLS tests: answers every request
with 200 and `hello over tls`, and prints `request METHOD PATH BYTES` for
each one it served. Its certificate is a test CA's (tests/data/tls), so a
client trusts it only when told to trust that CA.

    https_server.py --cert CERT --key KEY [--host 127.0.0.1] [--port N]

The first line on stdout is `listening on https://HOST:PORT`."""

import argparse
import http.server
import signal
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = b"hello over tls"
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)
        print(f"request {self.command} {self.path} {len(body)}", flush=True)

    do_GET = do_POST = do_PUT = do_HEAD = answer

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on https://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
