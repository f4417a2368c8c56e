// The kernel's view of the debuggee's threads, when dlv runs it on this machine: the
// PC of a stopped thread read from /proc instead of asked of dlv. DAP's thread ids are
// dlv's goroutine ids, so which task runs a goroutine is learnt at a stop where dlv gave
// the goroutine's PC (exactly one task stopped there), and trusted at a later stop only
// while what the task shows agrees with one instruction run from where it was (see
// nextPcs.ts). Anything uncertain gives undefined, and the caller asks dlv.
import { readTaskRegisters, tasksOf, type TaskRegisters } from '../../processes/taskRegisters';

export interface Task {
  pid: number;
  tid: number;
}

export class LocalThreads {
  private readonly taskOf = new Map<number, Task>();
  /** The debuggee's pids, as last asked (asked again when a goroutine's task is not found). */
  private pids: number[] | undefined;

  /** `processes`: the debuggee's pids on this machine (none for a remote dlv). */
  constructor(private readonly processes: () => number[]) {}

  /** Whether there is a local debuggee at all. */
  get local(): boolean {
    this.pids ??= this.processes();
    return this.pids.length > 0;
  }

  /**
   * At a stop where dlv said goroutine `threadId` is at `pc`: the registers of the task
   * that runs it, remembered for later stops, if exactly one stopped task is there.
   */
  learn(threadId: number, pc: bigint): TaskRegisters | undefined {
    const known = this.taskOf.get(threadId);
    const again = known && readTaskRegisters(known.pid, known.tid);
    if (again && again.pc === pc) return again;
    this.taskOf.delete(threadId);
    let found: { task: Task; registers: TaskRegisters } | undefined;
    for (const pid of (this.pids = this.processes())) {
      for (const tid of tasksOf(pid)) {
        const registers = readTaskRegisters(pid, tid);
        if (registers?.pc !== pc) continue;
        if (found) return undefined; // two tasks at one PC: not sure which
        found = { task: { pid, tid }, registers };
      }
    }
    if (!found) return undefined;
    // Another goroutine mapped to this task is not on it any more.
    for (const [id, task] of this.taskOf) if (task.pid === found.task.pid && task.tid === found.task.tid) this.taskOf.delete(id);
    this.taskOf.set(threadId, found.task);
    return found.registers;
  }

  /** What the task last known to run goroutine `threadId` shows now (the caller checks that it agrees). */
  read(threadId: number): TaskRegisters | undefined {
    const task = this.taskOf.get(threadId);
    return task && readTaskRegisters(task.pid, task.tid);
  }

  forget(threadId: number): void {
    this.taskOf.delete(threadId);
  }
}
