package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The board's kernel tracefs, mounted by mountAll.
const tracefs = "/sys/kernel/tracing"

// traceInstances numbers the private trace instances of this boot.
var traceInstances atomic.Int32

// traceKVM streams the kernel's KVM events of one process's threads, as the
// text of trace_pipe, for the given time. It works in a trace instance of its
// own (never the global buffer), restricted with set_event_pid to the process's
// threads (event-fork follows new ones), and removes the instance on every way
// out: the time is up, the client went away, or a write failed.
func traceKVM(w io.Writer, seconds float64, pid int) error {
	if _, err := os.Stat(filepath.Join(tracefs, "events", "kvm")); err != nil {
		return fmt.Errorf("the board's kernel has no KVM trace events (%v)", err)
	}
	tids, err := threadIDs(pid)
	if err != nil {
		return err
	}
	dir := filepath.Join(tracefs, "instances", fmt.Sprintf("board-%d-%d", os.Getpid(), traceInstances.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create a trace instance: %v", err)
	}
	defer removeInstance(dir)
	for _, s := range []struct{ file, value string }{
		{"tracing_on", "0"},
		{"buffer_size_kb", "4096"},
		{"options/event-fork", "1"},
		{"set_event_pid", strings.Join(tids, " ")},
		{"events/kvm/enable", "1"},
		{"tracing_on", "1"},
	} {
		if err := os.WriteFile(filepath.Join(dir, s.file), []byte(s.value), 0); err != nil {
			return fmt.Errorf("trace instance %s: %v", s.file, err)
		}
	}
	fd, err := syscall.Open(filepath.Join(dir, "trace_pipe"), syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("trace_pipe: %v", err)
	}
	defer syscall.Close(fd)
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	buf := make([]byte, 256*1024)
	for stopping := false; ; {
		n, err := syscall.Read(fd, buf)
		switch {
		case n > 0:
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client went away: nothing more to say
			}
			continue
		case err == syscall.EAGAIN || err == syscall.EINTR:
		case err != nil:
			return fmt.Errorf("trace_pipe: %v", err)
		}
		if stopping {
			return nil // drained after tracing_on 0
		}
		if time.Now().After(end) {
			os.WriteFile(filepath.Join(dir, "tracing_on"), []byte("0"), 0)
			stopping = true
			continue
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// threadIDs lists a process's threads, the ids set_event_pid takes.
func threadIDs(pid int) ([]string, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("no process %d in the board: %v", pid, err)
	}
	var tids []string
	for _, e := range entries {
		tids = append(tids, e.Name())
	}
	sort.Strings(tids)
	return tids, nil
}

// removeInstance switches everything off, then removes the instance (rmdir
// fails while an event is enabled in it on some kernels, so disable first).
func removeInstance(dir string) {
	os.WriteFile(filepath.Join(dir, "tracing_on"), []byte("0"), 0)
	os.WriteFile(filepath.Join(dir, "events/kvm/enable"), []byte("0"), 0)
	for i := 0; i < 50; i++ {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logf("trace instance %s could not be removed", dir)
}

// traceInstanceList names the instances under tracefs, one a line.
func traceInstanceList() string {
	entries, _ := os.ReadDir(filepath.Join(tracefs, "instances"))
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintln(&b, e.Name())
	}
	return b.String()
}

// kvmFormats prints every events/kvm/NAME/format, each after a line "== NAME".
func kvmFormats(w io.Writer) error {
	files, _ := filepath.Glob(filepath.Join(tracefs, "events", "kvm", "*", "format"))
	if len(files) == 0 {
		return fmt.Errorf("no %s/events/kvm/*/format: the board's kernel has no KVM trace events", tracefs)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "== %s\n%s", filepath.Base(filepath.Dir(f)), b)
	}
	return nil
}

// traceRequest reads "trace SECONDS [PID]": PID defaults to runsc-sandbox.
func traceRequest(args []string) (float64, int, error) {
	if len(args) < 1 || len(args) > 2 {
		return 0, 0, fmt.Errorf("usage: trace SECONDS [PID] (PID: runsc-sandbox when left out)")
	}
	seconds, err := strconv.ParseFloat(args[0], 64)
	if err != nil || seconds <= 0 || seconds > 600 {
		return 0, 0, fmt.Errorf("trace: SECONDS must be a number in (0, 600], not %q", args[0])
	}
	if len(args) == 2 {
		pid, err := strconv.Atoi(args[1])
		if err != nil || pid <= 0 {
			return 0, 0, fmt.Errorf("trace: PID must be a process id, not %q", args[1])
		}
		return seconds, pid, nil
	}
	pid := sandboxPid()
	if pid == 0 {
		return 0, 0, fmt.Errorf("trace: no runsc-sandbox runs in the board (boot it with the runsc or runsc-nodlv scenario, or name a PID)")
	}
	return seconds, pid, nil
}
