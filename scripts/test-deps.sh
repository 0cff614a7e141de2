#!/usr/bin/env bash
# Installs the real clients the integration tests drive, when missing: skopeo, podman,
# buildah and umoci from Debian, oras, harborapi (a Harbor API client) and the official SBOM
# validators (spdx-tools, cyclonedx-python-lib) from PyPI; the PostgreSQL
# and SQLite clients (the harness, and tests that corrupt a record on purpose).
set -euo pipefail
need=()
for tool in skopeo podman buildah umoci psql sqlite3; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need[@]}"; do
    case "$t" in psql) pkgs+=(postgresql-client-15) ;; *) pkgs+=("$t") ;; esac
  done
  echo "installing ${pkgs[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
if ! python3 -c 'import oras' 2>/dev/null; then
  echo "installing oras (PyPI)" >&2
  pip install -q 'oras==0.2.43'
fi
if ! python3 -c 'import harborapi' 2>/dev/null; then
  echo "installing harborapi (PyPI)" >&2
  pip install -q 'harborapi==0.26.2'
fi
if ! python3 -c 'import spdx_tools, cyclonedx, jsonschema' 2>/dev/null; then
  echo "installing the SPDX and CycloneDX validators (PyPI)" >&2
  pip install -q 'spdx-tools==0.8.5' 'cyclonedx-python-lib[json-validation]==11.12.0'
fi
if ! command -v cargo-nextest >/dev/null; then
  cargo install --locked cargo-nextest
fi
