#!/usr/bin/env bash
# The whole test suite: lint, unit tests, and the integration tests (real berth binary, real
# clients) once on SQLite and once on PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
pg_url=$(scripts/postgres.sh)

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== tests on SQLite (embedded default) =="
cargo nextest run --workspace --no-fail-fast

echo "== integration tests on PostgreSQL =="
BERTH_TEST_PG="$pg_url" cargo nextest run --workspace --no-fail-fast -E 'kind(test)'
