// The kernel's view of the debuggee's threads, when dlv runs it on this machine: the
// PC of a stopped thread read from /proc instead of asked of dlv. DAP's thread ids are
// dlv's goroutine ids, so which task runs a goroutine is learnt at a stop where dlv gave
// the goroutine's PC (exactly one task stopped there), and trusted at a later stop only
// while what the task shows agrees with one instruction run from where it was (see
// nextPcs.ts). Anything uncertain gives undefined, and the caller asks dlv.
import { readTaskRegisters, TaskRegisterFile, tasksOf, type TaskRegisters } from '../../processes/taskRegisters';

export class LocalThreads {
  private readonly taskOf = new Map<number, TaskRegisterFile>();
  /** The debuggee's pids, as last asked (asked again when a goroutine's task is not found). */
  private pids: number[] | undefined;

  /** `processes`: the debuggee's pids on this machine (none for a remote dlv). */
  constructor(private readonly processes: () => number[]) {}

  /** Whether there is a local debuggee at all. */
  get local(): boolean {
    // Asked again while there is none: the program may not have been started yet.
    if (!this.pids?.length) this.pids = this.processes();
    return this.pids.length > 0;
  }

  /**
   * At a stop where dlv said goroutine `threadId` is at `pc`: the registers of the task
   * that runs it, remembered for later stops, if exactly one stopped task is there.
   */
  learn(threadId: number, pc: bigint): TaskRegisters | undefined {
    const known = this.taskOf.get(threadId);
    const again = known?.read();
    if (again && again.pc === pc) return again;
    this.forget(threadId);
    let found: { pid: number; tid: number; registers: TaskRegisters } | undefined;
    for (const pid of (this.pids = this.processes())) {
      for (const tid of tasksOf(pid)) {
        const registers = readTaskRegisters(pid, tid);
        if (registers?.pc !== pc) continue;
        if (found) return undefined; // two tasks at one PC: not sure which
        found = { pid, tid, registers };
      }
    }
    if (!found) return undefined;
    // Another goroutine mapped to this task is not on it any more.
    for (const [id, task] of this.taskOf) if (task.pid === found.pid && task.tid === found.tid) this.forget(id);
    this.taskOf.set(threadId, new TaskRegisterFile(found.pid, found.tid));
    return found.registers;
  }

  /** What the task last known to run goroutine `threadId` shows now (the caller checks that it agrees). */
  read(threadId: number): TaskRegisters | undefined {
    return this.taskOf.get(threadId)?.read();
  }

  forget(threadId: number): void {
    this.taskOf.get(threadId)?.close();
    this.taskOf.delete(threadId);
  }

  /** The session ended: no file stays open. */
  forgetAll(): void {
    for (const id of [...this.taskOf.keys()]) this.forget(id);
  }
}
