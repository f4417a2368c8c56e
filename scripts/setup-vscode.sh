#!/usr/bin/env bash
# Installs what the real-VS-Code tests and `npm start` need, idempotently:
#   - Debian packages: chromium (the browser Playwright drives), fonts, ripgrep
#     (VS Code's search; also stands in for @vscode/ripgrep's download) and
#     libkrb5-dev (headers for code-server's native kerberos module);
#   - code-server@4.100.3 (a real VS Code 1.100.3 server + web workbench that
#     runs on Node 20) into a private prefix, .vscode-test/code-server/, so it
#     never touches the project's package.json or node_modules.
# A second run is a few quick checks and exits. Works non-interactively as root.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VT="$ROOT/.vscode-test"
CS_VERSION="4.100.3"
CS_PREFIX="$VT/code-server"
CS_ENTRY="$CS_PREFIX/node_modules/code-server/out/node/entry.js"
STAMP="$CS_PREFIX/.installed-$CS_VERSION"
APT_PACKAGES=(chromium fonts-dejavu-core ripgrep libkrb5-dev)

log() { echo "[setup-vscode] $*" >&2; }

# Keep every per-user dir inside .vscode-test so nothing lands in $HOME.
export XDG_CONFIG_HOME="$VT/xdg/config" XDG_DATA_HOME="$VT/xdg/data" XDG_CACHE_HOME="$VT/xdg/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# --- Debian packages ----------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# --- code-server ---------------------------------------------------------------
if [[ -f "$STAMP" && -f "$CS_ENTRY" ]]; then
  log "code-server $CS_VERSION already installed in ${CS_PREFIX#"$ROOT"/}"
  exit 0
fi

log "installing code-server@$CS_VERSION into ${CS_PREFIX#"$ROOT"/} (about 1-2 minutes)"
mkdir -p "$CS_PREFIX"
# Its own package.json makes the prefix a standalone npm project.
cat >"$CS_PREFIX/package.json" <<EOF
{ "name": "bluepill-lens-vscode-host", "private": true,
  "dependencies": { "code-server": "$CS_VERSION" } }
EOF

# @vscode/ripgrep's postinstall downloads a ripgrep archive from GitHub unless
# it finds one in $TMPDIR/vscode-ripgrep-cache-<ver>/; Debian's rg packed under
# that name serves, so the install runs offline.
export TMPDIR="$VT/tmp"
RG_CACHE="$TMPDIR/vscode-ripgrep-cache-1.15.11"
RG_TARBALL="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$RG_TARBALL" ]]; then
  mkdir -p "$RG_CACHE/stage"
  cp /usr/bin/rg "$RG_CACHE/stage/rg"
  tar -czf "$RG_TARBALL" -C "$RG_CACHE/stage" rg
  rm -rf "$RG_CACHE/stage"
fi

# nodedir: node-gyp builds native modules against the installed Node's headers
# (no header download). yes: node-pty's install step runs npx. unsafe_perm:
# code-server's postinstall refuses to run as root without it.
(
  cd "$CS_PREFIX"
  npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true \
  npm_config_update_notifier=false \
  npm_config_fund=false npm_config_audit=false \
    npm install --no-package-lock --loglevel=error </dev/null
)

[[ -f "$CS_ENTRY" ]] || { log "code-server install finished but $CS_ENTRY is missing"; exit 1; }
touch "$STAMP"
log "code-server $CS_VERSION installed"
