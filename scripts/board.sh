#!/usr/bin/env bash
# The emulated ARM64 board: a real ARM64 Linux (Debian's kernel) under QEMU with
# its CPU's EL2 switched on, so /dev/kvm works inside it; an initramfs holding a
# static Go /init (tools/board/init), the pinned dlv, the mini-bluepill fixture,
# runsc and busybox, all for arm64. dlv listens headless in the board, forwarded
# to 127.0.0.1 on the host.
#
#   scripts/board.sh [start] [SCENARIO]   build what is missing, boot, wait for dlv, print the ports
#   scripts/board.sh build                 only build (kernel, initramfs) into .cache/board/
#   scripts/board.sh stop                  stop the board (no qemu is left)
#   scripts/board.sh status                the board's log and processes (its control port)
#   scripts/board.sh trace SECONDS [PID]   the board kernel's KVM events of PID's threads (default:
#                                          runsc-sandbox) for SECONDS, as trace_pipe text, on stdout
#   scripts/board.sh kvm-formats           every events/kvm/NAME/format of the board's kernel
#   scripts/board.sh address-facts PID     PID's exe, maps and threads, and KVM's IPA size (Explain This Address)
#
# SCENARIO (read by /init from the kernel command line as board.scenario=):
#   minibluepill (default)  dlv exec /bin/minibluepill -forever, stopped at entry until a client continues
#   minibluepill-attach     minibluepill -forever runs; dlv attaches to it
#   runsc                   runsc --platform=kvm do /bin/busybox sleep; dlv attaches to runsc-sandbox
#   program                 dlv exec /bin/program ARGS, stopped at entry until a client continues:
#                           BOARD_PROGRAM names an arm64 Go binary on the host, BOARD_PROGRAM_ARGS its
#                           arguments (split on spaces; no commas). It rides in a small second cpio
#                           appended to the cached initramfs, so nothing is rebuilt for it.
#   idle                    no dlv, only the control port
#
# Printed on stdout once dlv listens (also kept in $BOARD_RUN_DIR/board.env):
#   BOARD_PORT=...  BOARD_CONTROL_PORT=...  BOARD_MINIBLUEPILL=...  BOARD_RUNSC=...
# Environment: BOARD_RUN_DIR (default .cache/board/run; one board per folder),
# BOARD_PORT / BOARD_CONTROL_PORT (default: free ports), BOARD_SMP (2), BOARD_MEM (2048),
# BOARD_BOOT_TIMEOUT (seconds, 180), BOARD_REFRESH=1 (download the newest kernel again).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache/board"
RUN="${BOARD_RUN_DIR:-$CACHE/run}"
DLV_VERSION=1.27.2
log() { echo "[board] $*" >&2; }
die() { log "$*"; exit 1; }
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi

# apt for arm64 with a state folder of its own: the host's dpkg and sources stay untouched.
APT_DIR="$CACHE/apt"
apt_arm64() {
  local tool="$1"
  shift
  "$tool" -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Lists="$APT_DIR/lists" \
    -o Dir::Cache="$APT_DIR/cache" -o Dir::State::status="$APT_DIR/status" -o Debug::NoLocking=1 \
    -o Acquire::Languages=none -o APT::Sandbox::User=root "$@"
}
# Once per run of this script (the stamp outlives the $(...) subshells that call it).
apt_update() {
  [[ -f "$APT_DIR/.updated-$$" ]] && return
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  touch "$APT_DIR/status"
  log "reading Debian's arm64 package lists"
  apt_arm64 apt-get update -qq </dev/null >/dev/null || die "apt-get update for arm64 failed"
  rm -f "$APT_DIR"/.updated-* && touch "$APT_DIR/.updated-$$"
}

# Downloads a Debian arm64 package and unpacks it into $CACHE/debs/NAME_VERSION; prints that folder.
# A package once unpacked is used as it is (BOARD_REFRESH=1 looks for a newer one).
unpacked_deb() {
  local name="$1" dir
  if [[ -z "${BOARD_REFRESH:-}" ]]; then
    dir="$(ls -d "$CACHE/debs/${name}_"* 2>/dev/null | sort -V | tail -n1 || true)"
    [[ -n "$dir" && -f "$dir/.done" ]] && { echo "$dir"; return; }
  fi
  apt_update
  local version
  version="$(apt_arm64 apt-cache policy "$name" | awk '/Candidate:/{print $2}')"
  [[ -n "$version" && "$version" != "(none)" ]] || die "Debian has no arm64 package $name"
  dir="$CACHE/debs/${name}_${version//:/%3a}"
  if [[ ! -f "$dir/.done" ]]; then
    log "downloading $name $version (arm64)"
    local tmp
    tmp="$(mktemp -d "$CACHE/dl.XXXXXX")"
    (cd "$tmp" && apt_arm64 apt-get download -qq "$name=$version" </dev/null >/dev/null) || die "apt-get download $name failed"
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$tmp"/*.deb "$dir"
    rm -rf "$tmp"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# The kernel: linux-image-arm64 is a metapackage; the image is the package it depends on.
kernel_package() {
  local cached
  cached="$(ls -d "$CACHE/debs/linux-image-"*-arm64_* 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -z "${BOARD_REFRESH:-}" && -n "$cached" && -f "$cached/.done" ]]; then
    cached="$(basename "$cached")"
    echo "${cached%%_*}"
    return
  fi
  apt_update
  apt_arm64 apt-cache depends linux-image-arm64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}

# Cross-compiles the pinned dlv for arm64 once (go install puts it in GOPATH/bin/linux_arm64).
guest_dlv() {
  local out="$CACHE/dlv-$DLV_VERSION-arm64"
  if [[ ! -x "$out" ]]; then
    log "building dlv v$DLV_VERSION for arm64"
    GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOBIN= go install "github.com/go-delve/delve/cmd/dlv@v$DLV_VERSION"
    cp "$(go env GOPATH)/bin/linux_arm64/dlv" "$out.tmp" && mv "$out.tmp" "$out"
  fi
  echo "$out"
}

build() {
  command -v go >/dev/null || die "Go is needed (GOARCH=arm64 cross-compiles everything in the board)"
  mkdir -p "$CACHE"
  local kpkg kdir busybox_dir runsc dlv gvisor
  kpkg="$(kernel_package)"
  [[ -n "$kpkg" ]] && kdir="$(unpacked_deb "$kpkg")" || die "no Debian arm64 kernel package found"
  busybox_dir="$(unpacked_deb busybox-static)"
  dlv="$(guest_dlv)"
  runsc="$(bash "$ROOT/tools/build-runsc.sh" | tail -n1)"
  gvisor="$(basename "$(dirname "$(dirname "$runsc")")")"

  # The initramfs is keyed by everything that goes into it.
  local key
  key="$( (
    echo "$(basename "$kdir") $(basename "$busybox_dir") dlv-$DLV_VERSION gvisor-$gvisor $(go env GOVERSION)"
    cd "$ROOT" && cat tools/board/go.mod tools/board/*/*.go test/fixtures/minibluepill/go.mod test/fixtures/minibluepill/*.go test/fixtures/minibluepill/kvm/*
  ) | sha256sum | cut -c1-16)"
  local out="$CACHE/build-$key"
  if [[ ! -f "$out/initrd.cpio" ]]; then
    log "building the initramfs ($out)"
    # Another key's build may serve a board another worktree runs now (tests read its runsc):
    # only builds nobody started a board from for a day are removed.
    find "$CACHE" -maxdepth 1 -name 'build-*' -mmin +1440 -exec rm -rf {} +
    rm -rf "$out" && mkdir -p "$out"
    (cd "$ROOT/tools/board" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -o "$out/init" ./init && go build -o "$out/mkinitramfs" ./mkinitramfs)
    # As buildFixture builds it for the host tests: optimisations off, so dlv sees every variable.
    (cd "$ROOT/test/fixtures/minibluepill" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOFLAGS=-mod=mod go build -gcflags='all=-N -l' -o "$out/minibluepill" .)
    cp "$runsc" "$out/runsc"
    cp "$kdir"/boot/vmlinuz-* "$out/vmlinuz"
    {
      echo "dev /dev/console 5 1"
      echo "file /init $out/init"
      echo "file /bin/dlv $dlv"
      echo "file /bin/minibluepill $out/minibluepill"
      echo "file /bin/runsc $out/runsc"
      echo "file /bin/busybox $busybox_dir/bin/busybox"
      echo "dir /tmp"
    } | "$out/mkinitramfs" -o "$out/initrd.cpio" -modules "$(echo "$kdir"/lib/modules/*)" -load virtio_net,virtio_pci
    echo "$(basename "$kdir")" >"$out/kernel-package"
  fi
  touch "$out"
  BUILD="$out"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; QEMU's hostfwd needs a number).
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

running_pid() {
  local pid
  pid="$(cat "$RUN/qemu.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  return 0
}

# Alive and not a zombie (a daemonized qemu is reaped by whoever adopted it).
alive() { [[ -r "/proc/$1/stat" ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

stop() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    kill "$pid"
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
    log "stopped (qemu pid $pid)"
  fi
  rm -f "$RUN/qemu.pid" "$RUN/board.env" "$RUN/initrd.cpio"
}

start() {
  local scenario="${1:-minibluepill}"
  command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 is missing: apt-get install qemu-system-arm (scripts/setup.sh installs it)"
  local t0=$SECONDS
  build
  log "built or cached in $((SECONDS - t0)) s: $BUILD"
  mkdir -p "$RUN"
  stop
  local port="${BOARD_PORT:-$(free_port)}" control="${BOARD_CONTROL_PORT:-$(free_port)}"
  rm -f "$RUN/serial.log"
  local initrd="$BUILD/initrd.cpio" append="console=ttyAMA0 loglevel=5 panic=-1 board.scenario=$scenario"
  if [[ "$scenario" == program ]]; then
    [[ -n "${BOARD_PROGRAM:-}" && -f "$BOARD_PROGRAM" ]] || die "scenario program needs BOARD_PROGRAM, an arm64 Go binary (it is \"${BOARD_PROGRAM:-}\")"
    [[ "${BOARD_PROGRAM_ARGS:-}" != *,* ]] || die "BOARD_PROGRAM_ARGS cannot hold commas (the kernel command line carries them comma-separated)"
    # The kernel unpacks concatenated cpio archives in turn: the second one adds /bin/program.
    echo "file /bin/program $BOARD_PROGRAM" | "$BUILD/mkinitramfs" -o "$RUN/program.cpio"
    cat "$BUILD/initrd.cpio" "$RUN/program.cpio" >"$RUN/initrd.cpio"
    rm -f "$RUN/program.cpio"
    initrd="$RUN/initrd.cpio"
    local words args
    read -ra words <<<"${BOARD_PROGRAM_ARGS:-}"
    args="$(IFS=,; echo "${words[*]}")"
    if [[ -n "$args" ]]; then append="$append board.args=$args"; fi
  fi
  local t1=$SECONDS
  # virt with gic-version=3 and virtualization=on: the guest kernel starts at EL2 and has KVM.
  # romfile= : Debian's QEMU would look for an iPXE ROM the board does not need.
  # restrict=on: the board reaches no network; only the forwarded ports come in.
  qemu-system-aarch64 -M virt,gic-version=3,virtualization=on -cpu max,pauth-impdef=on \
    -smp "${BOARD_SMP:-2}" -m "${BOARD_MEM:-2048}" -no-reboot \
    -kernel "$BUILD/vmlinuz" -initrd "$initrd" \
    -append "$append" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:2345,hostfwd=tcp:127.0.0.1:$control-:2346" \
    -device virtio-net-pci,netdev=n0,romfile= \
    -serial "file:$RUN/serial.log" -display none -monitor none -daemonize -pidfile "$RUN/qemu.pid"
  local deadline=$((SECONDS + ${BOARD_BOOT_TIMEOUT:-180}))
  until grep -q '^\[board\] ready' "$RUN/serial.log" 2>/dev/null; do
    if grep -qE '^\[board\] scenario .* failed|Kernel panic' "$RUN/serial.log" 2>/dev/null || [[ -z "$(running_pid)" ]] || ((SECONDS > deadline)); then
      log "the board did not get ready (scenario $scenario); the end of its console:"
      tail -n 40 "$RUN/serial.log" >&2 || true
      stop
      exit 1
    fi
    sleep 0.2
  done
  {
    echo "BOARD_PORT=$port"
    echo "BOARD_CONTROL_PORT=$control"
    echo "BOARD_SCENARIO=$scenario"
    echo "BOARD_MINIBLUEPILL=$BUILD/minibluepill"
    echo "BOARD_RUNSC=$BUILD/runsc"
    if [[ "$scenario" == program ]]; then echo "BOARD_PROGRAM=$BOARD_PROGRAM"; fi
    echo "BOARD_SERIAL_LOG=$RUN/serial.log"
    echo "BOARD_QEMU_PID=$(running_pid)"
  } >"$RUN/board.env"
  log "$(grep -m1 '^\[board\] ready' "$RUN/serial.log" | tr -d '\r' | sed 's/^\[board\] //') after $((SECONDS - t1)) s of boot"
  log "dlv on 127.0.0.1:$port (a bluepill attach with mode remote); status: scripts/board.sh status; stop: scripts/board.sh stop"
  cat "$RUN/board.env"
}

# Sends one request line to the board's control port (tools/board/init/control.go) and prints the answer.
control() {
  [[ -f "$RUN/board.env" ]] || die "no board is running (from $RUN)"
  local port
  port="$(sed -n 's/^BOARD_CONTROL_PORT=//p' "$RUN/board.env")"
  REQUEST="$*" node -e "process.stdout.on('error',()=>process.exit(0));const s=require('net').connect($port,'127.0.0.1',()=>s.write(process.env.REQUEST+'\\n'));s.on('data',d=>process.stdout.write(d)).on('error',e=>{console.error(e.message);process.exit(1)})"
}

case "${1:-start}" in
  start) start "${2:-}" ;;
  build) build && log "built: $BUILD" ;;
  stop) stop ;;
  status) control status ;;
  trace) shift && control trace "$@" ;;
  kvm-formats) control kvm-formats ;;
  address-facts) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "usage: scripts/board.sh address-facts PID (npm run board -- status lists the board's processes)"; control address-facts "$2" ;;
  minibluepill | minibluepill-attach | runsc | runsc-nodlv | program | idle) start "$1" ;;
  *) die "usage: scripts/board.sh [start [SCENARIO]|build|stop|status]" ;;
esac
