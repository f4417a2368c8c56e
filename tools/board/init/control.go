package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// serveControl answers one request a connection, then closes it. The request is
// one line (none, after a short wait, is a status request):
//
//	status     the board's log, its processes ("pid state switches argv"), the tails of runsc's debug logs
//	           and the trace instances that exist (none once every trace request has ended)
//	tasks PID  the thread ids of PID, one a line
//	runsc-logs runsc's debug logs, whole
//	vdso PID   the address of PID's [vdso] mapping in hex, a newline, then the mapping's bytes
//	trace SECONDS [PID]  the kernel's KVM events of PID's threads (runsc-sandbox when left out) for
//	           SECONDS, streamed as trace_pipe prints them (see trace.go)
//	kvm-formats          every events/kvm/NAME/format of the board's kernel, each after "== NAME"
//	address-facts PID    PID's maps, threads and exe, and KVM's IPA size, each after "== NAME"
//	           (read-only; what Explain This Address needs, see procfacts.go)
//
// Tests read it to see that a program still runs, why runsc failed, where the
// kernel's vDSO really is, or what a sandbox's vCPUs did in the guest.
// An answer that fails starts with "error: ".
func serveControl(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		logf("control port: %v", err)
		return
	}
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go answer(c)
	}
}

func answer(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.SetReadDeadline(time.Time{})
	f := strings.Fields(line)
	switch {
	case len(f) == 0 || f[0] == "status":
		fmt.Fprintf(c, "--- log\n%s\n--- processes\n%s--- runsc logs\n%s\n--- trace instances\n%s", logSnapshot(), processList(), runscLogTails(200), traceInstanceList())
	case f[0] == "runsc-logs":
		fmt.Fprint(c, runscLogTails(-1))
	case f[0] == "vdso" && len(f) == 2:
		start, image, err := vdsoImage(f[1])
		if err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
			return
		}
		fmt.Fprintf(c, "0x%x\n", start)
		c.Write(image)
	case f[0] == "tasks" && len(f) == 2:
		pid, _ := strconv.Atoi(f[1])
		tids, err := threadIDs(pid)
		if err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
			return
		}
		fmt.Fprintln(c, strings.Join(tids, "\n"))
	case f[0] == "trace":
		seconds, pid, err := traceRequest(f[1:])
		if err == nil {
			err = traceKVM(c, seconds, pid)
		}
		if err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
		}
	case f[0] == "address-facts" && len(f) == 2:
		pid, err := strconv.Atoi(f[1])
		if err == nil {
			err = addressFacts(c, pid)
		} else {
			err = fmt.Errorf("address-facts needs a process id, not %q", f[1])
		}
		if err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
		}
	case f[0] == "kvm-formats":
		if err := kvmFormats(c); err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
		}
	default:
		fmt.Fprintf(c, "error: unknown request %q\n", strings.TrimSpace(line))
	}
}

// vdsoImage reads the [vdso] mapping of a process from /proc/PID/mem.
func vdsoImage(pid string) (uint64, []byte, error) {
	maps, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		return 0, nil, err
	}
	for _, l := range strings.Split(string(maps), "\n") {
		if !strings.HasSuffix(l, "[vdso]") {
			continue
		}
		var start, end uint64
		if _, err := fmt.Sscanf(l, "%x-%x", &start, &end); err != nil {
			return 0, nil, err
		}
		mem, err := os.Open("/proc/" + pid + "/mem")
		if err != nil {
			return 0, nil, err
		}
		defer mem.Close()
		image := make([]byte, end-start)
		_, err = mem.ReadAt(image, int64(start))
		return start, image, err
	}
	return 0, nil, fmt.Errorf("process %s has no [vdso] mapping", pid)
}

// processList prints "pid state argv" for every process, from /proc.
func processList() string {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	var b strings.Builder
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 || end+2 >= len(s) {
			continue
		}
		argv := strings.Join(processArgv(pid), " ")
		if argv == "" {
			argv = "[" + s[strings.IndexByte(s, '(')+1:end] + "]"
		}
		fmt.Fprintf(&b, "%d %c %d %s\n", pid, s[end+2], voluntarySwitches(pid), argv)
	}
	return b.String()
}

// voluntarySwitches adds up the threads' voluntary context switches: it grows
// while a program that sleeps now and then keeps running.
func voluntarySwitches(pid int) int {
	total := 0
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
		}
	}
	return total
}

func processArgv(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == 0 })
}

func runscLogTails(n int) string {
	files, _ := filepath.Glob("/tmp/runsc/*")
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if n >= 0 && len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "== %s\n%s\n", filepath.Base(f), strings.Join(lines, "\n"))
	}
	return b.String()
}
