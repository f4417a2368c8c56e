#!/usr/bin/env bash
# Generates adapter/bluepill/guestCode.generated.ts: where each function of gVisor's KVM platform
# runs (guest mode, host signal handler, or both), derived by tools/guestcode from gVisor's source
# at the pinned version (GVISOR_VERSION in tools/build-runsc.sh, or the environment's).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
PINNED="$(sed -n 's/^GVISOR_VERSION="\${GVISOR_VERSION:-\(v[^}]*\)}"$/\1/p' "$ROOT/tools/build-runsc.sh")"
VERSION="${GVISOR_VERSION:-$PINNED}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  go mod init guestcode-source >/dev/null 2>&1
  # kvm and ring0 are all we read; requiring runsc pulls the same dependency versions runsc builds with.
  go get "gvisor.dev/gvisor/runsc@$VERSION" >/dev/null 2>&1 || go get "gvisor.dev/gvisor/runsc@$VERSION"
  printf 'package keep\nimport _ "gvisor.dev/gvisor/pkg/sentry/platform/kvm"\n' > keep.go
  go mod tidy
)
cd "$ROOT/tools/guestcode"
go run . -dir "$work" -version "$VERSION" -out "$ROOT/adapter/bluepill/guestCode.generated.ts"
echo "wrote adapter/bluepill/guestCode.generated.ts (gVisor $VERSION)"
