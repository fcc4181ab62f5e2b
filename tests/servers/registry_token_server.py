#!/usr/bin/env python3
"""A token service on loopback for the OCI tests: the Docker registry
token flow that the CNCF distribution registry's `auth: token` speaks.

A registry configured with this service's realm, service name, issuer
and certificate answers a request without a valid token with
`401 WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the client then
asks `GET REALM?service=…&scope=repository:NAME:pull,push` here, with HTTP
basic credentials, and retries with the token it is given.

    registry_token_server.py --cert CERT --service SERVICE --issuer ISSUER
                             --user NAME:PASSWORD [--host 127.0.0.1] [--port N]

At start it makes a fresh RSA key, in memory only, and writes a
self-signed certificate for it to CERT: that file is the registry's
`rootcertbundle`, and every token carries it in its `x5c` header, which is
how distribution 2.8 finds and trusts the signing key. Tokens are RS256
JWTs whose `access` claim grants:

  - the user named by --user, with that password: every `pull` and `push`
    the scope asks for;
  - a request without credentials: `pull` only (as a public repository
    would), so anonymous pushes are refused by the registry;
  - wrong credentials: nothing; the answer is 401 with a JSON error and no
    token. A request for another service than --service is answered 400.

The first line on stdout is `listening on http://HOST:PORT`; then one line
per token request: `token USER SCOPE` when a token was issued, `refused
USER SCOPE` when not, USER being the user name given (`-` for an
anonymous request) and SCOPE the requested scopes separated by spaces
(`-` for none).

Standard library only, besides `cryptography` for the key, certificate
and signature: it comes with moto[server], which deploy/setup.sh installs
for the S3 tests (moto requires cryptography>=35)."""

import argparse
import base64
import binascii
import datetime
import http.server
import json
import secrets
import signal
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# How long a token is valid; the client asks for a new one when a registry
# refuses it, so a test never outlives it.
TOKEN_SECONDS = 300
# The actions a registry's repository scope can ask for that this service
# grants; anything else (`delete`, `*`) is left out of the token.
ACTIONS = ("pull", "push")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """The signing key, its certificate, and who may have which token."""

    def __init__(self, cert_path, service, issuer, user, password):
        self.service = service
        self.issuer = issuer
        self.user = user
        self.password = password
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]

    def who(self, authorization):
        """`(user, authenticated)` for a request's Authorization header:
        `(None, True)` when anonymous, `(name, False)` when its credentials
        are wrong or not HTTP basic ones (name `?` when unreadable)."""
        if not authorization:
            return None, True
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "basic":
            return "?", False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "?", False
        ok = secrets.compare_digest(user.encode(), self.user.encode()) and secrets.compare_digest(
            password.encode(), self.password.encode()
        )
        return user, ok

    def access(self, scopes, user):
        """The `access` claim for the requested scopes."""
        allowed = ACTIONS if user else ("pull",)
        granted = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            actions = [a for a in actions.split(",") if a in allowed]
            granted.append({"type": kind, "name": name, "actions": actions})
        return granted

    def token(self, scopes, user):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + TOKEN_SECONDS,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": self.access(scopes, user),
        }
        signed = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{b64url(signature)}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    issuer: Issuer

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        user, authenticated = self.issuer.who(self.headers.get("Authorization"))
        shown = f"{user or '-'} {' '.join(scopes) or '-'}"
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "ask /token"}]})
        elif query.get("service") != [self.issuer.service]:
            print(f"refused {shown}", flush=True)
            self.reply(
                400,
                {"errors": [{"code": "DENIED", "message": f"tokens are for service {self.issuer.service}"}]},
            )
        elif not authenticated:
            print(f"refused {shown}", flush=True)
            self.reply(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]},
                [("WWW-Authenticate", 'Basic realm="qlp test token service"')],
            )
        else:
            print(f"token {shown}", flush=True)
            token = self.issuer.token(scopes, user)
            issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.reply(
                200,
                {"token": token, "access_token": token, "expires_in": TOKEN_SECONDS, "issued_at": issued},
            )

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True, help="where to write the signing certificate")
    parser.add_argument("--service", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--user", required=True, help="NAME:PASSWORD")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    user, sep, password = args.user.partition(":")
    if not user or not sep:
        parser.error("--user is NAME:PASSWORD")
    Handler.issuer = Issuer(args.cert, args.service, args.issuer, user, password)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
