#!/usr/bin/env bash
# Builds gVisor's runsc from its Go module (the go-buildable branch, served by the Go
# module proxy) for amd64 and arm64, with debug info, into .cache/runsc/<version>/.
# A second run with the same version does nothing. Prints the two paths.
#
#   tools/build-runsc.sh            # the pinned version below
#   GVISOR_VERSION=v0.0.0-... tools/build-runsc.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Pinned: the go branch at 2026-09-05 (gvisor.dev/gvisor@latest on the module proxy then).
GVISOR_VERSION="${GVISOR_VERSION:-v0.0.0-20260905035102-160fafc42237}"
OUT="$ROOT/.cache/runsc/$GVISOR_VERSION"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi

for arch in amd64 arm64; do
  bin="$OUT/$arch/runsc"
  if [[ ! -x "$bin" ]]; then
    echo "[build-runsc] building runsc $GVISOR_VERSION for $arch (a few minutes)" >&2
    mkdir -p "$OUT/$arch"
    # A throwaway module that requires gvisor at the pinned version: go install pkg@version
    # refuses modules with replace directives, and gvisor's go branch has none we need.
    work="$(mktemp -d)"
    (
      cd "$work"
      go mod init runsc-build >/dev/null 2>&1
      go get "gvisor.dev/gvisor/runsc@$GVISOR_VERSION" >/dev/null 2>&1 || go get "gvisor.dev/gvisor/runsc@$GVISOR_VERSION"
      CGO_ENABLED=0 GOARCH="$arch" go build -o "$bin.tmp" gvisor.dev/gvisor/runsc
    )
    rm -rf "$work"
    mv "$bin.tmp" "$bin"
  fi
  echo "$bin"
done
