#!/usr/bin/env bash
# Builds the companion package cdk-event-driven-glue-workflow-tools (tools/) into
# dist/python/, next to the library's wheel, where the release workflow's PyPI job
# (publib-pypi) uploads every wheel it finds.
#
# The two are released together: the tools wheel gets the library's version
# (package.json, bumped by the release) and requires exactly that version of the
# library. tools/pyproject.toml keeps 0.0.0 and an unpinned requirement, for the
# editable install of the development venv.
#
# Uses .venv's Python when there is one (make test), else python3 (the release
# workflow's PyPI job, which has no .venv). pip builds in an isolated environment
# with setuptools and wheel from the package index.
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
[ -x "$python" ] || python=python3
version=$(node -p "require('./package.json').version")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A clean copy: no egg-info of the editable install, no bytecode.
tar -C tools --exclude='__pycache__' --exclude='*.egg-info' --exclude='build' -cf - . | tar -C "$work" -xf -

pyproject="$work/pyproject.toml"
sed -i -e "s/^version = \"[^\"]*\"$/version = \"$version\"/" \
       -e "s/^  \"cdk-event-driven-glue-workflow\",$/  \"cdk-event-driven-glue-workflow==$version\",/" "$pyproject"
# Fail loudly if pyproject.toml changed shape and a substitution matched nothing.
grep -q "^version = \"$version\"$" "$pyproject" || { echo "build-tools-wheel: version not set in $pyproject" >&2; exit 1; }
grep -q "^  \"cdk-event-driven-glue-workflow==$version\",$" "$pyproject" \
  || { echo "build-tools-wheel: library requirement not pinned in $pyproject" >&2; exit 1; }

mkdir -p dist/python
rm -f dist/python/cdk_event_driven_glue_workflow_tools-*
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist/python "$work"
ls dist/python/cdk_event_driven_glue_workflow_tools-*.whl
