package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// serveControl answers every connection on addr with a snapshot of the board,
// then closes it: the board's log, its processes, and the tails of runsc's
// debug logs. Tests read it to see that a program still runs, or why runsc failed.
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
		fmt.Fprintf(c, "--- log\n%s\n--- processes\n%s--- runsc logs\n%s", logSnapshot(), processList(), runscLogTails(200))
		c.Close()
	}
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
		fmt.Fprintf(&b, "%d %c %s\n", pid, s[end+2], argv)
	}
	return b.String()
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
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "== %s\n%s\n", filepath.Base(f), strings.Join(lines, "\n"))
	}
	return b.String()
}
