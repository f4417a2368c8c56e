#!/usr/bin/env bash
# `npm start`: try bluepill-lens in a real VS Code in your browser, no install.
# Sets up code-server (scripts/setup-vscode.sh), the pinned dlv and the build,
# builds the demo program, then serves VS Code with the extension under
# development and the demo/ workspace open. Stays in the foreground; Ctrl+C stops
# everything it started.
#
# Environment overrides:
#   BIND=127.0.0.1     address to listen on (BIND=0.0.0.0 to reach it from elsewhere:
#                      there is no password, so only on a network you trust)
#   PORT=8080          port; if PORT is not set and 8080 is taken, a free port is used
#   PUBLIC_HOST=...    host name to print in the URL (default: BIND, or this
#                      machine's name when BIND=0.0.0.0)
#   WORKSPACE=demo     folder to open
#   SKIP_BUILD=1       do not run `npm run build` (use the current dist/)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VT="$ROOT/.vscode-test"
DLV_VERSION=1.27.2
BIND="${BIND:-127.0.0.1}"
WORKSPACE="$(cd "${WORKSPACE:-$ROOT/demo}" && pwd)"
log() { echo "[start] $*" >&2; }

# Go lives in /usr/local/go on these machines; PATH may not say so.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { log "Go 1.22+ is needed (to build dlv and the demo)"; exit 1; }

bash scripts/setup-vscode.sh

if [[ ! -d node_modules ]]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error </dev/null
fi

if ! tools/bin/dlv version 2>/dev/null | grep -q "Version: $DLV_VERSION"; then
  log "building dlv v$DLV_VERSION into tools/bin (about a minute)"
  GOBIN="$ROOT/tools/bin" go install "github.com/go-delve/delve/cmd/dlv@v$DLV_VERSION"
fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "building the extension (npm run build)"
  npm run --silent build
fi

log "building demo/bin/demo and the minibluepill round trip without optimisations"
(cd demo && go build -gcflags='all=-N -l' -o bin/demo .)
(cd test/fixtures/minibluepill && go build -gcflags='all=-N -l' -o "$ROOT/demo/bin/minibluepill" . \
  && GOARCH=arm64 CGO_ENABLED=0 go build -gcflags='all=-N -l' -o "$ROOT/demo/bin/minibluepill-arm64" .)
go tool objdump -S -s '^(main|minibluepill/kvm)\.' demo/bin/minibluepill-arm64 >demo/bin/minibluepill-arm64.objdump
# A crash report as gVisor's die path makes one, for Bluepill: Decode Crash Report (the program exits 2).
if command -v qemu-aarch64-static >/dev/null; then
  qemu-aarch64-static demo/bin/minibluepill-arm64 -die-with-exit-reason 2>demo/bin/minibluepill-arm64.crash.txt || true
else
  log "no qemu-aarch64-static (apt-get install qemu-user-static): the demo's crash report is the amd64 build's, demo/bin/minibluepill.crash.txt"
  demo/bin/minibluepill -die-with-exit-reason 2>demo/bin/minibluepill.crash.txt || true
fi
# An absolute path, so it cannot be committed: demo/.gitignore lists this file.
mkdir -p demo/.vscode
node scripts/demo-settings.mjs >demo/.vscode/settings.json

port_free() { node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[2],process.argv[1],()=>s.close())' "$BIND" "$1"; }
if [[ -n "${PORT:-}" ]]; then
  port_free "$PORT" || { log "port $PORT on $BIND is in use; choose another PORT"; exit 1; }
elif port_free 8080; then
  PORT=8080
else
  PORT="$(node -e 'const s=require("net").createServer();s.listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' "$BIND")"
  log "port 8080 is in use; using $PORT"
fi

if [[ -z "${PUBLIC_HOST:-}" ]]; then
  if [[ "$BIND" == 0.0.0.0 || "$BIND" == "::" ]]; then PUBLIC_HOST="$(uname -n)"; else PUBLIC_HOST="$BIND"; fi
fi

# First start only: quiet user settings (later starts keep what you change). No port
# forwarding offers: dlv's ports (yours and other users') are not services to forward.
USER_DATA="$VT/start/user-data"
mkdir -p "$USER_DATA/User" "$VT/extensions" "$VT/xdg/config" "$VT/xdg/data" "$VT/xdg/cache"
[[ -f "$USER_DATA/User/settings.json" ]] || cat >"$USER_DATA/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "security.workspace.trust.enabled": false,
  "git.openRepositoryInParentFolders": "never",
  "remote.autoForwardPorts": false
}
EOF

# setsid: code-server and everything it starts (extension host, dlv, the
# debuggee) get their own process group, which the trap below ends as a whole.
XDG_CONFIG_HOME="$VT/xdg/config" XDG_DATA_HOME="$VT/xdg/data" XDG_CACHE_HOME="$VT/xdg/cache" \
EXTENSIONS_GALLERY='{}' \
  setsid node "$VT/code-server/node_modules/code-server/out/node/entry.js" \
    --auth none --bind-addr "$BIND:$PORT" \
    --user-data-dir "$USER_DATA" --extensions-dir "$VT/extensions" \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    --disable-getting-started-override --ignore-last-opened "$WORKSPACE" \
    >"$VT/start/code-server.log" 2>&1 </dev/null &
CS_PID=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
  log "stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM

PROBE_HOST="$BIND"; [[ "$BIND" == 0.0.0.0 || "$BIND" == "::" ]] && PROBE_HOST=127.0.0.1
for i in $(seq 150); do
  kill -0 "$CS_PID" 2>/dev/null || { log "code-server exited; see $VT/start/code-server.log"; tail -20 "$VT/start/code-server.log" >&2; exit 1; }
  node -e 'require("http").get(process.argv[1],r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' \
    "http://$PROBE_HOST:$PORT/healthz" && break
  [[ $i == 150 ]] && { log "code-server did not answer within 30 s; see $VT/start/code-server.log"; exit 1; }
  sleep 0.2
done

# The payload makes the workbench load this repo as the extension under
# development (package.json main: ./dist/extension.js).
URL="$(node -e '
  const [host, port, ws, root] = process.argv.slice(1);
  const payload = [["extensionDevelopmentPath", `vscode-remote://${host}:${port}${root}`]];
  console.log(`http://${host}:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
' "$PUBLIC_HOST" "$PORT" "$WORKSPACE" "$ROOT")"

cat <<EOF

  bluepill-lens is running in VS Code (code-server, VS Code 1.100.3).
  Open this URL in a browser:

    $URL

  Then: open main.go, F9 on the line marked "breakpoint here", F5.
  The round trip: F1 "Debug: Add Function Breakpoint" minibluepill/kvm.kvmRun, then run
  "Round trip: minibluepill (amd64)" and watch the Bluepill State view.
  ARM64 registers: open bin/minibluepill-arm64.objdump and hover a \$18052.
  Or F1 "Bluepill: Pick Sandbox Process" / the "Attach to a process" configuration.
  After a rebuild (npm run build), reload the window (F1 "Developer: Reload Window").
  Server log: ${VT#"$ROOT"/}/start/code-server.log.   Ctrl+C stops everything.

EOF
wait "$CS_PID"
