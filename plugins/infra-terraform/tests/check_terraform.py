"""Checks a directory of generated Terraform with python-hcl2.

Usage: check_terraform.py <directory>

Every *.tf file and terraform.tfvars.example must parse as HCL. Every
variable must have a description and a type; every `var.x` must be
declared, every `local.x` defined, every `aws_x.y` / `random_x.y` resource,
`data.x.y` data source and `module.z` referenced must exist, and every
output's value must refer to something declared. The tfvars example may
set only declared variables.

Prints a JSON summary on success; exits 1 with every problem on stderr.
"""

import json
import re
import sys
from pathlib import Path

import hcl2

OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True,
    preserve_heredocs=False,
    with_comments=False,
    explicit_blocks=False,
)
ERRORS = []
# Resource types of the providers the files use; an iterator variable or
# attribute (`s.id`) never starts with one of these.
PROVIDER_PREFIXES = ("aws_", "random_")
# Names that are no reference: meta-objects and function-scoped symbols.
BUILTINS = {"count", "each", "path", "terraform", "self"}


def fail(message):
    ERRORS.append(message)


def strings(value):
    """Every string inside a parsed value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)


def expressions(text):
    """The expression parts of a serialized value: all of it when it is an
    expression, else each ${...} interpolation of a literal."""
    if text.startswith("${") and text.endswith("}"):
        return [text[2:-1]]
    return re.findall(r"(?<!\$)\$\{([^}]*)\}", text)


REF = re.compile(
    r"(?<![\w.])(?:(var|local|module)\.([A-Za-z_][\w-]*)"
    r"|data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)"
    r"|([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*))"
)


def references(text):
    """(kind, name) of every reference in an expression text, without the
    contents of its quoted literals (which hcl2 keeps escaped)."""
    found = []
    for expression in expressions(text):
        code = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: " ".join(
            inner for inner in re.findall(r"\$\{([^}]*)\}", m.group(0))), expression)
        for m in REF.finditer(code):
            if m.group(1):
                found.append((m.group(1), m.group(2)))
            elif m.group(3):
                found.append(("data", f"{m.group(3)}.{m.group(4)}"))
            elif m.group(5).startswith(PROVIDER_PREFIXES):
                found.append(("resource", f"{m.group(5)}.{m.group(6)}"))
    return found


def unquote(label):
    return label[1:-1] if label.startswith('"') and label.endswith('"') else label


def main():
    root = Path(sys.argv[1])
    parsed = {}
    for path in sorted(root.iterdir()):
        if path.suffix == ".tf" or path.name == "terraform.tfvars.example":
            try:
                with path.open() as f:
                    parsed[path.name] = hcl2.load(f, serialization_options=OPTIONS)
            except Exception as error:  # noqa: BLE001 - report any parse failure
                fail(f"{path.name} does not parse: {error}")
    tf = {k: v for k, v in parsed.items() if k.endswith(".tf")}

    declared = {"var": set(), "local": set(), "module": set(), "data": set(), "resource": set()}
    outputs = {}
    for name, document in tf.items():
        for block in document.get("variable", []):
            for label, body in block.items():
                label = unquote(label)
                declared["var"].add(label)
                for attr in ("description", "type"):
                    if attr not in body or not str(body[attr]).strip():
                        fail(f"{name}: variable {label} has no {attr}")
        for block in document.get("locals", []):
            declared["local"].update(k for k in block if not k.startswith("__"))
        for block in document.get("module", []):
            declared["module"].update(unquote(k) for k in block)
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                for rtype, named in block.items():
                    for rname in named:
                        if rname.startswith("__"):
                            continue
                        declared[kind].add(f"{unquote(rtype)}.{unquote(rname)}")
        for block in document.get("output", []):
            for label, body in block.items():
                outputs[unquote(label)] = body

    checked = 0
    for name, document in tf.items():
        for text in strings(document):
            for kind, target in references(text):
                checked += 1
                if kind in BUILTINS:
                    continue
                if target not in declared[kind]:
                    fail(f"{name}: {kind} {target} is referenced but not declared")
    for label, body in outputs.items():
        refs = references(str(body.get("value", "")))
        if not refs:
            fail(f"output {label} refers to nothing declared")
        if not str(body.get("description", "")).strip():
            fail(f"output {label} has no description")

    example = parsed.get("terraform.tfvars.example", {})
    for key in example:
        if not key.startswith("__") and key not in declared["var"]:
            fail(f"terraform.tfvars.example sets undeclared variable {key}")

    if ERRORS:
        sys.stderr.write("\n".join(ERRORS) + "\n")
        sys.exit(1)
    print(json.dumps({
        "files": sorted(parsed),
        "variables": sorted(declared["var"]),
        "resources": sorted(declared["resource"]),
        "data": sorted(declared["data"]),
        "outputs": sorted(outputs),
        "references_checked": checked,
        "tfvars": sorted(k for k in example if not k.startswith("__")),
    }))


if __name__ == "__main__":
    main()
