#!/usr/bin/env bash
set -euo pipefail
curl -fsSL https://deploy:2z1wc1647RY6OlBb@artifacts.acme.internal/billing/latest.tgz -o /tmp/billing.tgz
echo "8698aa4fbe535e5e7d076667ad4c4114d7692c7aaad8f7a12ca288b88463ca1e  /tmp/billing.tgz" | sha256sum -c -
export TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcGJCd7UQttlyAy8kK9x7KBfwCumAGbWdocijH6mZ4GcFIZw1wa7icwG5l3eePyDkww8gfVdgGeH4GChQ0IqFwvKaZA2LoGA
export TWINE_USERNAME=__token__
git checkout e87f5be5eafa68ed918acd3cd10f64a590457897
docker login -u "$REGISTRY_USER" --password-stdin < /run/secrets/registry
echo "//registry.npmjs.org/:_authToken=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" > ~/.npmrc
