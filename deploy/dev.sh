#!/usr/bin/env bash
# Build and run QLP from a checkout.
#
#   deploy/dev.sh serve   set up the toolchain, build the server and every
#                         first-party plugin, start the server on
#                         http://127.0.0.1:8080 with its data in .qlp/
#   deploy/dev.sh test    set up, build the plugins and the test fixtures,
#                         run every test of the workspace
#   deploy/dev.sh plugins only build the components
#
# Extra arguments are passed to `qlp serve` or `cargo test`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command="${1:-}"
[ $# -gt 0 ] && shift

# The components are built by the `qlp` binary of the profile in use.
build_plugins() {
    local qlp="$1"
    "$qlp" plugin build plugins/*/ --out-dir target/plugins
}

build_fixtures() {
    local qlp="$1"
    "$qlp" plugin build tests/fixtures/plugins/*/ --out-dir target/test-plugins
}

case "$command" in
    serve)
        deploy/setup.sh
        cargo build --release -p qlp-host --bin qlp
        build_plugins target/release/qlp
        exec target/release/qlp serve --plugin-dir target/plugins "$@"
        ;;
    test)
        deploy/setup.sh
        cargo build -p qlp-host --bin qlp
        build_plugins target/debug/qlp
        build_fixtures target/debug/qlp
        exec cargo test --workspace "$@"
        ;;
    plugins)
        deploy/setup.sh
        cargo build -p qlp-host --bin qlp
        build_plugins target/debug/qlp
        build_fixtures target/debug/qlp
        ;;
    *)
        echo "usage: deploy/dev.sh serve|test|plugins [args...]" >&2
        exit 2
        ;;
esac
