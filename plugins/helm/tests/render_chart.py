"""Loads, lints and renders a chart archive with Helm's own Go SDK.

Usage: render_chart.py < REQUEST.json

REQUEST is {"chart": path of the .tgz, "versions": ["1.25.0", ...],
"cases": [{"values": {...}}, ...]}. The chart is loaded from the archive
and linted strictly (warnings fail). Its values.schema.json must be a valid
draft-7 JSON Schema that accepts values.yaml. Each case's values are then
checked against that schema by Helm; rejected values are reported, accepted
ones are rendered (release `demo`, namespace `shop`) and every rendered
object is validated strictly against the Kubernetes API schemas of each
version (kubernetes-validate).

Prints {"cases": [{"rejected": message} or {"manifests": {template:
[object, ...]}, "notes": text}, ...]} on success; exits 1 with every problem
on failure. helm-python-sdk and kubernetes-validate are installed by
deploy/setup.sh.
"""

import json
import sys
import tempfile
from pathlib import Path

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

# Schema violations are described as qlp/kubernetes's validator describes
# them (the helm crate shares that crate's sources the same way); no
# bytecode cache is left in that source folder.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kubernetes" / "tests"))
from validate_manifests import describe  # noqa: E402


def main() -> int:
    request = json.load(sys.stdin)
    problems = []
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        helm.expand(scratch, request["chart"])
        with helm.Chart.load(request["chart"]) as chart:
            chart_dir = f"{scratch}/{chart.name}"
            report = helm.lint(chart_dir, strict=True)
            for message in report["messages"]:
                if message["severity"] >= 2:
                    problems.append(f"lint: {message['path']}: {message['error']}")
            problems.extend(f"lint: {error}" for error in report.get("errors") or [])

            schema = chart.schema
            try:
                jsonschema.Draft7Validator.check_schema(schema)
                jsonschema.Draft7Validator(schema).validate(chart.values)
            except jsonschema.exceptions.SchemaError as error:
                problems.append(f"values.schema.json is no valid draft-7 schema: {error.message}")
            except jsonschema.ValidationError as error:
                problems.append(f"values.yaml breaks values.schema.json {describe(error)}")

            for case in request["cases"]:
                values = case["values"]
                try:
                    chart.validate_schema(values)
                except helm.HelmError as error:
                    results.append({"rejected": str(error)})
                    continue
                rendered = chart.render(values, name="demo", namespace="shop")
                manifests = {}
                notes = ""
                for template, text in sorted(rendered.items()):
                    if template.endswith("NOTES.txt"):
                        notes = text
                        continue
                    documents = [d for d in yaml.safe_load_all(text) if d is not None]
                    if not documents:
                        continue
                    manifests[template] = documents
                    for document in documents:
                        for version in request["versions"]:
                            try:
                                kubernetes_validate.validate(document, version, strict=True)
                            except Exception as error:  # every failure is reported
                                problems.append(
                                    f"{template} with {json.dumps(values)} on {version}: "
                                    f"{describe(error)}"
                                )
                results.append({"manifests": manifests, "notes": notes})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    json.dump({"cases": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
