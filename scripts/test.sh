#!/usr/bin/env bash
# `npm test`: sets up a fresh machine (see setup.sh and setup-vscode.sh), builds,
# and runs every suite in one node:test run: unit, adapter (real dlv), packaging,
# and VS Code (real code-server in Debian's chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi

bash scripts/setup.sh
bash scripts/setup-vscode.sh
node scripts/build.mjs
rm -rf out && npx tsc -p .
suites=(out/test/unit out/test/fuzz out/test/adapter out/test/editors out/test/arm64 out/test/runsc out/test/guest out/test/board out/test/package out/test/vscode)
if [[ $# -gt 0 ]]; then suites=("$@"); fi
node scripts/run-node-tests.mjs "${suites[@]}"
