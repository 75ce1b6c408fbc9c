#!/usr/bin/env bash
# Installs what Lecture needs, and only what is missing, so that a second run is fast:
# Debian packages (ffmpeg, Cairo/Pango headers, TeX Live with dvisvgm, espeak-ng, chromium),
# a virtual environment in .venv, and the project with its test and voice extras.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg libcairo2-dev libpango1.0-dev pkg-config texlive-latex-extra
  texlive-fonts-recommended texlive-science dvisvgm espeak-ng chromium bubblewrap)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "Lecture needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=("python3-venv")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$PYTHON" -m venv .venv
fi

# Reinstall the project only when its metadata changed since the last install.
stamp=".venv/.lecture-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing Lecture and its Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[test,voice,cluster]" 2> >(grep -v "^WARNING: Location" >&2)
  rm -f .venv/.lecture-installed-*
  touch "$stamp"
fi
