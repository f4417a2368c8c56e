// Command init is PID 1 of the emulated ARM64 board: a static Go program that
// prepares the machine (file systems, kernel modules, network) and then runs one
// scenario, named on the kernel command line as board.scenario=NAME (see
// scenario.go), which ends with a headless dlv listening on port 2345.
//
// Stage 1 moves the initramfs into a tmpfs and re-executes itself there as
// stage 2: runsc pivot_roots into its sandbox, and that is refused on the
// initramfs's own root.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "init: meant to run as PID 1 of the board")
		os.Exit(2)
	}
	if len(os.Args) < 2 || os.Args[1] != "stage2" {
		if err := switchToTmpfs(); err != nil {
			logf("switch to tmpfs failed, staying on the initramfs: %v", err)
		}
	}
	start := time.Now()
	mountAll()
	loadModules("/lib/modules")
	if err := networkUp(); err != nil {
		logf("network: %v", err)
	}
	go serveControl(":2346")
	name := kernelParam("board.scenario", "minibluepill")
	logf("scenario %s (machine ready after %.1fs in init)", name, time.Since(start).Seconds())
	go func() {
		if err := runScenario(name); err != nil {
			logf("scenario %s failed: %v", name, err)
		}
	}()
	reapForever()
}

// mountAll mounts what dlv, runsc and the Go runtime expect to find.
func mountAll() {
	for _, m := range []struct{ source, target, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"tracefs", "/sys/kernel/tracing", "tracefs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"tmpfs", "/run", "tmpfs"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
	} {
		os.MkdirAll(m.target, 0o755)
		if err := syscall.Mount(m.source, m.target, m.fstype, 0, ""); err != nil && err != syscall.EBUSY {
			logf("mount %s: %v", m.target, err)
		}
	}
}

// kernelParam reads name=value from /proc/cmdline.
func kernelParam(name, fallback string) string {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return fallback
}

func exitString(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("status %d", ws.ExitStatus())
}

// reapForever collects every orphan, as PID 1 must.
func reapForever() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.ECHILD {
			time.Sleep(time.Second)
			continue
		}
		if name, ok := names.LoadAndDelete(pid); ok {
			logf("%s (pid %d) exited: %s", name, pid, exitString(ws))
		}
	}
}
