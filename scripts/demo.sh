#!/usr/bin/env bash
# Quick start: install what is missing, then render an example lesson to an MP4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
lesson=${1:-examples/pythagoras.lecture}
.venv/bin/lecture render "$lesson" -q "${QUALITY:-low}"
