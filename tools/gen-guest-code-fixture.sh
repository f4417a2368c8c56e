#!/usr/bin/env bash
# Writes test/fixtures/gvisor-2022/guestCode.json: the same derivation as tools/gen-guest-code.sh,
# run on an old gVisor that the Go module proxy no longer serves, read from a git clone of
# google/gvisor. Only facts are kept (function names, verdicts, reasons), no source.
#
#   tools/gen-guest-code-fixture.sh /path/to/gvisor.git [COMMIT]
# COMMIT defaults to the go branch's last commit of June 2022.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
GIT_DIR="${1:?usage: $0 /path/to/gvisor.git [COMMIT]}"
COMMIT="${2:-$(git --git-dir="$GIT_DIR" log --first-parent -1 --format=%H --before=2022-06-30T23:59:59Z go)}"
DATE="$(git --git-dir="$GIT_DIR" log -1 --format=%cs "$COMMIT")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git --git-dir="$GIT_DIR" archive "$COMMIT" go.mod go.sum pkg | tar -x -C "$work"
mkdir -p "$ROOT/test/fixtures/gvisor-2022"
cd "$ROOT/tools/guestcode"
# Its build tags exclude some files under today's Go (pkg/gohacks, pkg/sync): -tolerant reads on.
GOFLAGS=-mod=mod GOTOOLCHAIN=local go run . -tolerant -json -dir "$work" \
  -version "google/gvisor go branch $COMMIT ($DATE)" -out "$ROOT/test/fixtures/gvisor-2022/guestCode.json"
echo "wrote test/fixtures/gvisor-2022/guestCode.json ($COMMIT, $DATE)"
