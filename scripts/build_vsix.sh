#!/usr/bin/env bash
# Build the VS Code extension: editors/vscode/lecture.vsix.
#
#   bash scripts/build_vsix.sh            # then: code --install-extension editors/vscode/lecture.vsix
#
# Needs Node.js >= 20 with npm (the npm registry, for the client library and @vscode/vsce) and
# the project's Python (.venv, or python3 with lecture installed), which writes the TextMate
# grammar from compiler/kinds.py first.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || python=python3
"$python" -m lecture.compiler.highlight --textmate > editors/vscode/syntaxes/lecture.tmLanguage.json
cd editors/vscode
npm ci --no-audit --no-fund
npx --no-install vsce package --allow-missing-repository -o lecture.vsix
echo "built editors/vscode/lecture.vsix"
