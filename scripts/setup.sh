#!/usr/bin/env bash
# Installs what building and testing bluepill-lens needs on a fresh machine, and
# nothing twice: Debian packages, the npm dependencies, and the pinned dlv (built
# from source with the Go toolchain into tools/bin). Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DLV_VERSION=1.27.2
APT_PACKAGES=(gdb procps unzip time binutils-aarch64-linux-gnu llvm-22 qemu-user-static qemu-system-arm emacs-nox elpa-dap-mode lua5.4)
log() { echo "[setup] $*" >&2; }

# Go lives in /usr/local/go on these machines; PATH may not say so.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { log "Go is needed (to build dlv and the test programs): install Go 1.22 or newer."; exit 1; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then log "missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}"; exit 1; fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# The guest tests read the host kernel's KVM trace events: tracefs must be mounted (Debian and
# Ubuntu usually have it; these machines do not). Root only; without it those tests say why.
if [[ $(id -u) -eq 0 && ! -d /sys/kernel/tracing/events && -d /sys/kernel/tracing ]]; then
  log "mounting tracefs at /sys/kernel/tracing (for the guest trace tests)"
  mount -t tracefs nodev /sys/kernel/tracing || log "could not mount tracefs: the guest trace tests will say so"
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error </dev/null
fi

if ! tools/bin/dlv version 2>/dev/null | grep -q "Version: $DLV_VERSION"; then
  log "building dlv v$DLV_VERSION into tools/bin (about a minute)"
  GOBIN="$ROOT/tools/bin" go install "github.com/go-delve/delve/cmd/dlv@v$DLV_VERSION"
fi
