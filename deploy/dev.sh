#!/usr/bin/env bash
# Build and run QLP from a checkout.
#
#   deploy/dev.sh serve   set up the toolchain, build the server and every
#                         first-party plugin, start the server on
#                         http://127.0.0.1:8080 with its data in .qlp/
#   deploy/dev.sh test    set up, build the plugins and the test fixtures,
#                         run every test of the workspace
#   deploy/dev.sh plugins only build the components
#   deploy/dev.sh release the release binary with every first-party plugin
#                         built in (target/release/qlp): `qlp serve` alone
#                         serves intents
#   deploy/dev.sh bench   release build, then `qlp bench` (see BENCHMARKS.md)
#
# Extra arguments are passed to `qlp serve` or `cargo test`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command="${1:-}"
[ $# -gt 0 ] && shift

# A development signing key, trusted for the `qlp` and `fixture`
# namespaces by target/dev-trust.toml. Production servers get a policy with
# the publishers' keys instead (README: plugin authors).
dev_keys() {
    local qlp="$1"
    [ -f target/dev-signing.key ] || "$qlp" key generate target/dev-signing.key >/dev/null
    # The development key is also the release key of the bundles the tests
    # make; a policy written before release keys existed is made again.
    if ! grep -q '^release = true' target/dev-trust.toml 2>/dev/null; then
        rm -f target/dev-trust.toml
        "$qlp" key trust target/dev-signing.key.pub \
            --namespace 'qlp/*' --namespace 'fixture/*' --release --policy target/dev-trust.toml
    fi
}

# The components are built, and signed, by the `qlp` binary of the profile
# in use.
build_plugins() {
    local qlp="$1"
    dev_keys "$qlp"
    "$qlp" plugin build plugins/*/ --out-dir target/plugins --sign-with target/dev-signing.key
}

build_fixtures() {
    local qlp="$1"
    dev_keys "$qlp"
    local signed=()
    # wrong-world is not a QLP plugin at all, wasi-socket imports what QLP
    # never links and undeclared imports what it does not declare: none
    # loads, so none can be signed.
    local unsigned=(tests/fixtures/plugins/wrong-world/ tests/fixtures/plugins/wasi-socket/
        tests/fixtures/plugins/undeclared/)
    for dir in tests/fixtures/plugins/*/; do
        case " ${unsigned[*]} " in
            *" $dir "*) ;;
            *) signed+=("$dir") ;;
        esac
    done
    "$qlp" plugin build "${signed[@]}" --out-dir target/test-plugins --sign-with target/dev-signing.key
    "$qlp" plugin build "${unsigned[@]}" --out-dir target/test-plugins
}

# How long a step took, on stderr.
started=$SECONDS
step() {
    echo "dev.sh: $1 took $((SECONDS - started)) s" >&2
    started=$SECONDS
}

case "$command" in
    serve)
        deploy/setup.sh
        cargo build --release -p qlp-cli --bin qlp
        build_plugins target/release/qlp
        exec target/release/qlp serve --plugin-dir target/plugins --trust target/dev-trust.toml "$@"
        ;;
    test)
        deploy/setup.sh
        # Built with every test target, so that its dependencies resolve
        # the features `cargo test --workspace` resolves: the test build
        # below then reuses them instead of building them a second time.
        cargo build --workspace --bin qlp --tests
        step "the test build"
        build_plugins target/debug/qlp
        build_fixtures target/debug/qlp
        step "the plugins and fixtures"
        # The tests' qlp carries the plugins too, so that `qlp serve` alone
        # is tested as released; other tests turn them off.
        QLP_EMBED_PLUGINS="$root/target/plugins" cargo test --workspace "$@"
        step "the tests"
        # The second store held to the job tests the first passes (the
        # whole run only): every server of jobs:: on PostgreSQL. Selected
        # with --workspace, so that features resolve as above and nothing
        # is built again (`-p qlp-cli` would rebuild wasmtime).
        if [ $# -eq 0 ]; then
            QLP_TEST_STORE=postgres QLP_EMBED_PLUGINS="$root/target/plugins" \
                cargo test --workspace --test e2e -- jobs::
            step "the job tests on PostgreSQL"
        fi
        ;;
    release)
        deploy/setup.sh
        cargo build --release -p qlp-cli --bin qlp
        build_plugins target/release/qlp
        QLP_EMBED_PLUGINS="$root/target/plugins" cargo build --release -p qlp-cli --bin qlp
        target/release/qlp --version
        ;;
    bench)
        deploy/setup.sh
        cargo build --release -p qlp-cli --bin qlp
        build_plugins target/release/qlp
        build_fixtures target/release/qlp
        QLP_LOG="${QLP_LOG:-warn}" exec target/release/qlp bench "$@"
        ;;
    plugins)
        deploy/setup.sh
        cargo build -p qlp-cli --bin qlp
        build_plugins target/debug/qlp
        build_fixtures target/debug/qlp
        ;;
    *)
        echo "usage: deploy/dev.sh serve|test|plugins|release|bench [args...]" >&2
        exit 2
        ;;
esac
