"""Checks an unpacked qlp/terraform archive with python-hcl2.

Usage: check_module.py <module directory> <expected usage source>

Every Terraform file of the archive (*.tf, *.tfvars.example, the lock
file, at any depth) must parse as HCL and every *.tf.json as JSON. The
README's usage example must parse too, call the module from the expected
source and set exactly its required variables. What the README says of the
root module's variables (description, type, default, required, sensitive,
validations), outputs (description, sensitive), required_version,
providers and resources by type must be what hcl2 reads from the .tf files.

Prints a JSON summary on success; exits 1 with every mismatch on stderr.
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
NO_DESCRIPTION = "No description given in the module."
ERRORS = []


def fail(message):
    ERRORS.append(message)


def squash(text):
    """An expression without whitespace, commas and ${ } wrapping."""
    text = str(text)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return re.sub(r"[\s,]", "", text)


def words(text):
    return " ".join(str(text).split())


def unescape(value):
    """hcl2 keeps the $${ and %%{ escapes of literal strings."""
    if isinstance(value, str):
        return value.replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def code(text):
    """The text of one inline code span."""
    match = re.fullmatch(r"(`+) ?(.*?) ?\1", text.strip())
    if not match:
        fail(f"not an inline code span: {text!r}")
        return text
    return match.group(2)


def parse_files(root):
    parsed = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == "README.md":
            continue
        rel = path.relative_to(root).as_posix()
        try:
            if path.name.endswith(".tf.json"):
                parsed[rel] = json.loads(path.read_text())
            else:
                with path.open() as f:
                    parsed[rel] = hcl2.load(f, serialization_options=OPTIONS)
        except Exception as error:  # noqa: BLE001 - report any parse failure
            fail(f"{rel} does not parse: {error}")
    return parsed


def like_hcl2(document):
    """A *.tf.json document in the shape hcl2 gives a .tf file: each block
    kind a list of bodies, nested blocks lists too."""
    shaped = {}
    for kind, value in document.items():
        items = value if isinstance(value, list) else [value]
        if kind == "terraform":
            items = [
                {k: (v if isinstance(v, list) else [v]) if k == "required_providers" else v
                 for k, v in item.items()}
                for item in items
            ]
        if kind == "variable":
            items = [
                {name: {k: (v if isinstance(v, list) else [v]) if k == "validation" else v
                        for k, v in body.items()}
                 for name, body in item.items()}
                for item in items
            ]
        shaped[kind] = items
    return shaped


def blocks(documents, kind):
    """(label, body) of the one-label blocks of a kind, in file order."""
    for document in documents:
        for item in document.get(kind, []):
            for label, body in item.items():
                yield label, body


def sections(readme, title):
    """{name: lines} of the `### name` sections under `## title`."""
    part = readme.split(f"\n## {title}\n", 1)
    if len(part) != 2:
        fail(f"README has no {title} section")
        return {}
    part = part[1].split("\n## ", 1)[0]
    result = {}
    for chunk in part.split("\n### ")[1:]:
        head, _, body = chunk.partition("\n")
        result[code(head)] = body.strip("\n").split("\n")
    return result


def facts(lines):
    """(description, {key: [values]}) of a section's lines."""
    start = next(
        (i for i, l in enumerate(lines) if re.match(r"- (Type|Sensitive): ", l)),
        len(lines),
    )
    description = "\n".join(lines[:start]).strip()
    description = "\n".join(l[1:] if l.startswith("\\#") else l for l in description.split("\n"))
    keyed = {}
    for line in lines[start:]:
        if not line:
            continue
        match = re.fullmatch(r"- ([A-Za-z]+): (.*)", line)
        if not match:
            fail(f"unexpected README line {line!r}")
            continue
        keyed.setdefault(match.group(1), []).append(match.group(2))
    return description, keyed


def check_description(what, written, declared):
    if declared is None or not str(declared).strip():
        if written != NO_DESCRIPTION:
            fail(f"{what}: no description declared, README says {written!r}")
    elif words(written) != words(declared):
        fail(f"{what}: description {written!r} != declared {declared!r}")


def table(readme, title):
    """The rows of the first table under `## title`, as cell lists."""
    part = readme.split(f"\n## {title}\n", 1)
    if len(part) != 2:
        return None
    rows = [l for l in part[1].split("\n## ", 1)[0].split("\n") if l.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def main():
    root = Path(sys.argv[1])
    source = sys.argv[2]
    readme = (root / "README.md").read_text()
    parsed = parse_files(root)
    top = [
        v if k.endswith(".tf") else like_hcl2(v)
        for k, v in parsed.items()
        if "/" not in k and (k.endswith(".tf") or k.endswith(".tf.json"))
    ]

    variables = dict(blocks(top, "variable"))
    written = sections(readme, "Inputs")
    if list(written) != sorted(variables):
        fail(f"README variables {list(written)} != declared {sorted(variables)}")
    for name, body in variables.items():
        description, keyed = facts(written.get(name, []))
        what = f"variable {name}"
        check_description(what, description, body.get("description"))
        required = "default" not in body
        if keyed.get("Required") != ["yes" if required else "no"]:
            fail(f"{what}: Required {keyed.get('Required')} but required={required}")
        sensitive = body.get("sensitive") is True
        if keyed.get("Sensitive") != ["yes" if sensitive else "no"]:
            fail(f"{what}: Sensitive {keyed.get('Sensitive')} but sensitive={sensitive}")
        type_line = keyed.get("Type", ["?"])[0]
        if "type" in body:
            if squash(code(type_line)) != squash(body["type"]):
                fail(f"{what}: Type {type_line!r} != declared {body['type']!r}")
        elif type_line != "not declared (any value)":
            fail(f"{what}: no type declared, README says {type_line!r}")
        default_line = keyed.get("Default", ["?"])[0]
        if required:
            if default_line != "none":
                fail(f"{what}: no default, README says {default_line!r}")
        else:
            value = hcl2.loads("x = " + code(default_line) + "\n", serialization_options=OPTIONS)["x"]
            if unescape(value) != unescape(body["default"]):
                fail(f"{what}: Default {value!r} != declared {body['default']!r}")
        validations = body.get("validation", [])
        if len(keyed.get("Validation", [])) != len(validations):
            fail(f"{what}: {len(keyed.get('Validation', []))} validations written, {len(validations)} declared")
        for line, block in zip(keyed.get("Validation", []), validations):
            if words(line) != words(block.get("error_message", "")):
                fail(f"{what}: validation {line!r} != {block.get('error_message')!r}")

    outputs = dict(blocks(top, "output"))
    written = sections(readme, "Outputs")
    if list(written) != sorted(outputs):
        fail(f"README outputs {list(written)} != declared {sorted(outputs)}")
    for name, body in outputs.items():
        description, keyed = facts(written.get(name, []))
        check_description(f"output {name}", description, body.get("description"))
        sensitive = body.get("sensitive") is True
        if keyed.get("Sensitive") != ["yes" if sensitive else "no"]:
            fail(f"output {name}: Sensitive {keyed.get('Sensitive')} but sensitive={sensitive}")

    settings = [t for d in top for t in d.get("terraform", [])]
    versions = [t["required_version"] for t in settings if "required_version" in t]
    requirement = re.search(r"\n- Terraform: (.*)\n", readme)
    if versions:
        if not requirement or [code(v) for v in requirement.group(1).split(" and ")] != versions:
            fail(f"README Terraform requirement {requirement and requirement.group(1)!r} != {versions}")
    providers = {}
    for t in settings:
        for group in t.get("required_providers", []):
            for name, spec in group.items():
                providers.setdefault(name, spec)
    rows = table(readme, "Requirements") or []
    got = {code(r[0]): (code(r[1]), code(r[2])) for r in rows}
    want = {
        n: (s.get("source"), s.get("version")) if isinstance(s, dict) else (None, s)
        for n, s in providers.items()
    }
    if got != want:
        fail(f"README providers {got} != declared {want}")

    for title, kind in (("Resources", "resource"), ("Data sources", "data")):
        declared = {}
        for document in top:
            for item in document.get(kind, []):
                for type_, named in item.items():
                    declared.setdefault(type_, set()).update(named)
        rows = table(readme, title) or []
        got = {code(r[0]): (int(r[1]), {code(n) for n in r[2].split(", ")}) for r in rows}
        want = {t: (len(n), n) for t, n in declared.items()}
        if got != want:
            fail(f"README {title} {got} != declared {want}")

    usage = re.search(r"## Usage\n.*?```hcl\n(.*?)```", readme, re.S)
    if not usage:
        fail("README has no usage example")
    else:
        try:
            example = hcl2.loads(usage.group(1), serialization_options=OPTIONS)
            (call,) = [body for item in example["module"] for body in item.values()]
            if call.get("source") != source:
                fail(f"usage source {call.get('source')!r} != {source!r}")
            required = sorted(n for n, b in variables.items() if "default" not in b)
            if sorted(k for k in call if k != "source") != required:
                fail(f"usage sets {sorted(call)} but the required variables are {required}")
        except Exception as error:  # noqa: BLE001
            fail(f"the usage example does not parse: {error}")

    if ERRORS:
        print("\n".join(ERRORS), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({
        "files": sorted(parsed),
        "variables": sorted(variables),
        "outputs": sorted(outputs),
        "providers": sorted(providers),
    }))


if __name__ == "__main__":
    main()
