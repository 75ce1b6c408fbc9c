#!/usr/bin/env bash
# Install what is missing, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest -q "$@"
