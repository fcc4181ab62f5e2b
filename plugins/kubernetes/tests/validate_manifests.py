"""Validates Kubernetes manifests against the API's own schemas.

Usage: validate_manifests.py VERSION[,VERSION...] FILE...

Every document of every FILE is checked with kubernetes-validate (PyPI),
strictly (unknown fields are errors), against each Kubernetes VERSION.
Prints the documents as JSON ({file: [document, ...]}) on success, so the
caller can compare what a YAML reader made of them; exits 1 with every
problem on failure. Installed by deploy/setup.sh.
"""

import json
import sys

import jsonschema
import kubernetes_validate
import yaml


def describe(error: Exception) -> str:
    """The schema violation and where it is, without the whole schema."""
    if not isinstance(error, jsonschema.ValidationError):
        return str(error)
    where = ".".join(str(p) for p in error.absolute_path) or "(top)"
    return f"at {where}: {error.message}"


def main() -> int:
    versions = sys.argv[1].split(",")
    parsed = {}
    problems = []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        parsed[path] = documents
        for document in documents:
            for version in versions:
                try:
                    kubernetes_validate.validate(document, version, strict=True)
                except Exception as error:  # every failure is reported
                    name = document.get("metadata", {}).get("name", "?")
                    problems.append(
                        f"{path}: {document.get('kind')} {name} on {version}: {describe(error)}"
                    )
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    json.dump(parsed, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
