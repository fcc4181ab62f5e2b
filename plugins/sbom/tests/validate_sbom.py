"""Validates CycloneDX 1.5 JSON documents against the official schema, as
bundled by cyclonedx-python-lib (its `json-validation` extra), strictly:
no property the schema does not define.

Usage: python3 validate_sbom.py FILE...
Prints `valid: FILE` per valid file; for each invalid one, its errors on
stderr; exits 1 if any file is invalid.
"""

import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def main(paths):
    validator = JsonStrictValidator(SchemaVersion.V1_5)
    invalid = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            errors = validator.validate_str(f.read(), all_errors=True)
        errors = list(errors or [])
        if not errors:
            print(f"valid: {path}")
            continue
        invalid += 1
        for error in errors:
            data = getattr(error, "data", None)
            where = getattr(data, "json_path", "?")
            message = getattr(data, "message", str(error))
            print(f"{path}: {where}: {message}", file=sys.stderr)
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
