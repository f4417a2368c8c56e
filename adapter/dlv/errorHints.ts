// dlv's own error texts, each paired with what the user should do about it. Kept as
// a table so adding a case is one line; matched against the message dlv returns.

interface Hint {
  match: RegExp;
  advice: string;
}

const ptraceAdvice =
  'Attaching needs ptrace rights over the process: run dlv as the same user as the process, or as root ' +
  '(set "asRoot": true; a runsc sandbox belongs to root). If /proc/sys/kernel/yama/ptrace_scope is 1 or more, ' +
  'only root may attach to a process it did not start: `echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope` lowers it until reboot.';

const hints: Hint[] = [
  {
    // Before the ptrace line: exec's "permission denied" is about the file, not ptrace.
    match: /not an executable file|fork\/exec .*permission denied/i,
    advice: 'dlv could not run "program": check that it is a binary for this machine\'s architecture, and that it may be executed (`chmod +x`).',
  },
  { match: /operation not permitted|current user does not own the process|permission denied|kernel security setting|ptrace_scope/i, advice: ptraceAdvice },
  { match: /no such process/i, advice: 'The process has exited, or the pid is wrong: pick it again.' },
  {
    // dlv 1.27.2's answer to attach "remote" on a `dlv dap` server, which has nothing to attach to until a launch.
    match: /no debugger found/i,
    advice:
      'This dlv has no program yet: it was started as `dlv dap`, which waits for a launch. For attach mode "remote", start dlv on the board with the program: ' +
      '`dlv --headless --listen=:PORT --accept-multiclient attach <pid>` (or `exec <binary>`).',
  },
  {
    match: /could not open debug info|could not find .*debug_info|no debug info|decoding dwarf section|could not attach to pid.*(exe|elf)/i,
    advice:
      'This does not look like a Go program dlv can read. Attach to the runsc process itself (`runsc-sandbox boot`, not its shell or the container\'s programs), ' +
      'and build runsc with debug info (no `-ldflags=-w -s`).',
  },
  {
    match: /core file|not a core file|could not open core/i,
    advice: 'Check "coreFilePath" (a core dump of this exact "program") and that both files are readable.',
  },
  { match: /no such file or directory/i, advice: 'Check the paths in the launch configuration ("program", "coreFilePath", "cwd").' },
];

/** Returns the advice for a dlv error message, or undefined when none applies. */
export function adviceFor(message: string): string | undefined {
  return hints.find((h) => h.match.test(message))?.advice;
}
