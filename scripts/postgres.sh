#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster (preinstalled, stopped) and makes sure the role
# the tests use exists. Prints the server URL tests take as BERTH_TEST_PG.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  echo "installing PostgreSQL 15" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
fi
if ! pg_lsclusters -h | grep -q '^15 \+main'; then
  pg_createcluster 15 main >&2
fi
pg_ctlcluster 15 main start >&2 2>&1 || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.2
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth_test') THEN
    CREATE ROLE berth_test LOGIN CREATEDB PASSWORD 'berth_test';
  END IF;
END $$;
SQL
echo "postgres://berth_test:berth_test@127.0.0.1:5432"
