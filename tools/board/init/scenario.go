package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Scenarios, chosen with board.scenario= on the kernel command line. Each ends
// with a headless dlv on :2345 (forwarded to the host) and logs "ready: ...".
//
//	minibluepill         dlv exec /bin/minibluepill -forever (stopped at entry until a client continues)
//	minibluepill-attach  /bin/minibluepill -forever runs; dlv attaches to it
//	runsc                runsc --platform=kvm do /bin/busybox sleep; dlv attaches to runsc-sandbox
//	program              dlv exec /bin/program (added by scripts/board.sh from BOARD_PROGRAM) with the
//	                     arguments of board.args= (comma-separated), stopped at entry until a client continues
//	idle                 no dlv: only the control port
var scenarios = map[string]func() error{
	"minibluepill": func() error {
		return startDlv("exec /bin/minibluepill", "exec", "/bin/minibluepill", "--", "-forever")
	},
	"minibluepill-attach": func() error {
		cmd := exec.Command("/bin/minibluepill", "-forever")
		if err := startLogged(cmd, "minibluepill"); err != nil {
			return err
		}
		return startDlv(fmt.Sprintf("attach %d (minibluepill)", cmd.Process.Pid), "attach", strconv.Itoa(cmd.Process.Pid))
	},
	"program": func() error {
		args := []string{"exec", "/bin/program", "--"}
		if a := kernelParam("board.args", ""); a != "" {
			args = append(args, strings.Split(a, ",")...)
		}
		return startDlv("exec "+strings.Join(append([]string{"/bin/program"}, args[3:]...), " "), args...)
	},
	"runsc":       func() error { return runscScenario(true) },
	"runsc-nodlv": func() error { return runscScenario(false) },
	"idle":        func() error { logf("ready: idle"); return nil },
}

func runScenario(name string) error {
	run, ok := scenarios[name]
	if !ok {
		return fmt.Errorf("unknown scenario %q", name)
	}
	return run()
}

// startDlv runs the pinned dlv headless and logs "ready" once it listens.
func startDlv(what string, args ...string) error {
	cmd := exec.Command("/bin/dlv", append([]string{"--headless", "--listen=:2345", "--accept-multiclient", "--api-version=2"}, args...)...)
	cmd.Dir = "/tmp"
	listening := make(chan struct{})
	if err := startWatched(cmd, "dlv", "API server listening at", listening); err != nil {
		return err
	}
	select {
	case <-listening:
		logf("ready: dlv listening on :2345, %s", what)
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("dlv did not listen within 60 s")
	}
}

// runscScenario starts a sandbox on the KVM platform whose shell loops on sleep
// (each sleep a system call, so round trips keep coming), waits until the
// workload runs inside it, and attaches dlv to the sandbox process.
func runscScenario(attach bool) error {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return fmt.Errorf("no /dev/kvm in the board: %v", err)
	}
	os.MkdirAll("/tmp/runsc", 0o755)
	cmd := exec.Command("/bin/runsc", "--root=/run/runsc", "--platform=kvm", "--network=none", "--ignore-cgroups",
		"--debug", "--debug-log=/tmp/runsc/", "do", "/bin/busybox", "sh", "-c", "echo workload running; while :; do sleep 0.05; done")
	cmd.Dir = "/"
	started := make(chan struct{})
	if err := startWatched(cmd, "runsc", "workload running", started); err != nil {
		return err
	}
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case <-started:
			pid := sandboxPid()
			if pid == 0 {
				return fmt.Errorf("the workload runs but no runsc-sandbox process is to be seen")
			}
			logf("runsc-sandbox is pid %d; its workload runs", pid)
			if !attach {
				logf("ready: runsc-sandbox pid %d, no dlv", pid)
				return nil
			}
			return startDlv(fmt.Sprintf("attach %d (runsc-sandbox)", pid), "attach", strconv.Itoa(pid))
		default:
		}
		if !running(cmd.Process.Pid) {
			return fmt.Errorf("runsc exited before its workload ran (see the [runsc] lines and the control port's runsc logs)")
		}
	}
	return fmt.Errorf("the runsc workload did not start within 120 s")
}

// running: the process exists and is not a zombie (PID 1's reaper owns exit statuses).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	end := strings.LastIndexByte(string(stat), ')')
	return end > 0 && end+2 < len(stat) && stat[end+2] != 'Z'
}

// sandboxPid finds the sandbox process by its argv[0], as the host's picker does.
func sandboxPid() int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if argv := processArgv(pid); len(argv) > 0 && strings.HasSuffix(argv[0], "runsc-sandbox") {
			return pid
		}
	}
	return 0
}

// startLogged starts cmd with its output copied to the console, prefixed.
func startLogged(cmd *exec.Cmd, prefix string) error {
	return startWatched(cmd, prefix, "", nil)
}

// The output goes through a pipe of our own: Wait is never called (PID 1's
// reaper collects every child, and names the ones started here when they exit).
func startWatched(cmd *exec.Cmd, prefix, marker string, seen chan struct{}) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return err
	}
	named(cmd.Process.Pid, prefix)
	go copyLines(r, prefix, marker, seen)
	return nil
}

func copyLines(r io.Reader, prefix, marker string, seen chan struct{}) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		record(prefix, s.Text())
		if seen != nil && marker != "" && strings.Contains(s.Text(), marker) {
			close(seen)
			seen = nil
		}
	}
}
