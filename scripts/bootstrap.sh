#!/usr/bin/env bash
# Installs everything the project needs, from a fresh clone: the Python venv with
# the test/job toolchain, and the npm toolchain (jsii, projen, aws-cdk CLI).
# Idempotent: a second run only checks that things are in place.
set -euo pipefail
cd "$(dirname "$0")/.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  python3 -m venv .venv
fi
# Exactly the locked versions, each checked against its hash (requirements-dev.lock is
# generated from requirements-dev.txt by scripts/lock.py: `make lock`, `make upgrade`).
stamp=.venv/.requirements-dev.sha
want=$(sha256sum requirements-dev.lock | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing the locked Python dev requirements"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
  echo "$want" > "$stamp"
fi
# The companion tools package (planner, local runner, Glue-shaped launcher), editable:
# its dependencies are the dev requirements above and the wheel `make` builds.
if ! .venv/bin/python -c "import cdk_event_driven_glue_workflow_tools" 2>/dev/null; then
  echo "bootstrap: installing tools/ (editable)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e tools
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages"
  # Exactly package-lock.json: npm ci never resolves anew.
  npm ci --no-audit --no-fund --loglevel=error
fi
