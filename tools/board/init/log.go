package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// The board's own log: on the serial console (the host's serial.log, where
// scripts/board.sh waits for "[board] ready") and kept for the control port.
var (
	logMu    sync.Mutex
	logLines []string
	booted   = time.Now()
)

func logf(format string, args ...any) { record("board", fmt.Sprintf(format, args...)) }

// record logs one line of the board or of a program it runs, e.g. [dlv] or [runsc].
func record(source, line string) {
	logMu.Lock()
	defer logMu.Unlock()
	logLines = append(logLines, fmt.Sprintf("%6.1fs [%s] %s", time.Since(booted).Seconds(), source, line))
	fmt.Fprintf(os.Stdout, "[%s] %s\n", source, line)
}

var names sync.Map // pid -> what startWatched called it

func named(pid int, name string) { names.Store(pid, name) }

func logSnapshot() string {
	logMu.Lock()
	defer logMu.Unlock()
	return strings.Join(logLines, "\n")
}
