#!/usr/bin/env python3
"""Reads a Prometheus text exposition on stdin with Prometheus's own parser
(PyPI prometheus-client, installed by deploy/setup.sh) and prints its
samples as JSON: [{"name", "labels", "value", "type"}]. Exits 1 with the
parser's words when the text is not valid exposition format."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.append(
                    {
                        "name": sample.name,
                        "labels": sample.labels,
                        "value": sample.value,
                        "type": family.type,
                    }
                )
    except Exception as error:  # the parser's refusal is the test's answer
        print(f"not valid exposition format: {error}", file=sys.stderr)
        return 1
    print(json.dumps(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
