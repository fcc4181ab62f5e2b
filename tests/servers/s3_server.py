#!/usr/bin/env python3
"""An S3-compatible server on loopback for QLP's delivery tests: moto's
server (PyPI `moto[server]`, installed by deploy/setup.sh), with the named
buckets created, versioning on, so that a test can count the uploads of a
key.

    s3_server.py [--port N] [--bucket NAME ...]
    s3_server.py --versions URL BUCKET    # prints {key: [version sizes]}
    s3_server.py --get URL BUCKET KEY     # writes the object to stdout

The first line on stdout is `listening on http://127.0.0.1:PORT`. moto keeps
everything in memory and accepts any credentials unless told otherwise."""

import argparse
import json
import signal
import sys
import time


def client(url):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def versions(url, bucket):
    listed = {}
    pages = client(url).get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        for version in page.get("Versions", []):
            listed.setdefault(version["Key"], []).append(version["Size"])
    print(json.dumps(listed, sort_keys=True))


def get(url, bucket, key):
    body = client(url).get_object(Bucket=bucket, Key=key)["Body"].read()
    sys.stdout.buffer.write(body)


def serve(port, buckets):
    import logging

    from moto.server import ThreadedMotoServer

    # One line per request on stderr would drown the test's own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    s3 = client(url)
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on {url}", flush=True)
    while True:
        time.sleep(3600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--versions", nargs=2, metavar=("URL", "BUCKET"))
    parser.add_argument("--get", nargs=3, metavar=("URL", "BUCKET", "KEY"))
    args = parser.parse_args()
    if args.versions:
        versions(*args.versions)
    elif args.get:
        get(*args.get)
    else:
        serve(args.port, args.bucket)


if __name__ == "__main__":
    main()
