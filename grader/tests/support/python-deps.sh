#!/usr/bin/env bash
# Installs the independent report consumers the grader's tests use
# (jsonschema, junitparser) from PyPI, unless they are already there.
# Exit 0: ready; anything else: not available (the tests skip with a message).
set -euo pipefail
python3 -c 'import jsonschema, junitparser' 2>/dev/null && exit 0
python3 -m pip install --quiet --disable-pip-version-check jsonschema junitparser >&2
python3 -c 'import jsonschema, junitparser'
