// The PC and SP of a stopped thread of a local process, from the kernel instead of the
// debugger: /proc/PID/task/TID/syscall prints "-1 0x<sp> 0x<pc>" for a task stopped
// outside a system call (a ptrace stop after a single step), "running" while it runs,
// and the system call's number and arguments first while it is in one. Reading it needs
// the same permission as ptrace (the debuggee is our descendant: dlv's child).
import * as fs from 'node:fs';

export interface TaskRegisters {
  pc: bigint;
  sp: bigint;
}

/** The registers in the text of a task's syscall file; undefined unless the task is stopped outside a system call. */
export function parseTaskSyscall(text: string): TaskRegisters | undefined {
  const m = /^-1 0x([0-9a-f]+) 0x([0-9a-f]+)\s*$/.exec(text);
  return m ? { sp: BigInt(`0x${m[1]}`), pc: BigInt(`0x${m[2]}`) } : undefined;
}

/** The PC and SP of task `tid` of `pid`, or undefined (gone, running, in a system call, not permitted). */
export function readTaskRegisters(pid: number, tid: number): TaskRegisters | undefined {
  try {
    return parseTaskSyscall(fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The thread ids of `pid` (empty when it is gone or unreadable). */
export function tasksOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

/**
 * One task's syscall file kept open: each read starts again at offset 0, where the kernel
 * prints the file anew (seq_file), so a stop costs one read instead of open, read and close.
 */
export class TaskRegisterFile {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(256);

  constructor(readonly pid: number, readonly tid: number) {}

  read(): TaskRegisters | undefined {
    try {
      this.fd ??= fs.openSync(`/proc/${this.pid}/task/${this.tid}/syscall`, 'r');
      const n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      return parseTaskSyscall(this.buffer.toString('latin1', 0, n));
    } catch {
      this.close(); // the task ended: a later read opens the file again, and fails
      return undefined;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }
}
