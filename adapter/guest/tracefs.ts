// The host kernel's KVM trace events for one sandbox, through tracefs, in a trace instance
// of our own: never the global buffer (it belongs to whoever else traces this host), never
// left enabled. Every instance we make is removed on every way out; one left by a SIGKILLed
// owner is removed at the next start (its name carries the owner's pid and start time).
import * as fs from 'node:fs';
import * as path from 'node:path';

export const TRACEFS_MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const INSTANCE_PREFIX = 'bluepill-lens-';

/** A reason the trace cannot start, worded for the user with what to do. */
export class GuestTraceError extends Error {}

/** The tracefs mount point, or an error that gives the mount command. */
export function findTracefs(mounts = TRACEFS_MOUNTS, uid = process.getuid?.()): string {
  if (uid !== undefined && uid !== 0) {
    throw new GuestTraceError(
      'reading the host kernel\'s KVM trace events needs root: run bluepill-lens as root (sudo), or in VS Code set "asRoot": true in the launch configuration.',
    );
  }
  const found = mounts.find((m) => fs.existsSync(path.join(m, 'instances')));
  if (!found) {
    throw new GuestTraceError(
      'tracefs is not mounted, so the kernel\'s KVM trace events cannot be read. Mount it (as root): mount -t tracefs nodev /sys/kernel/tracing',
    );
  }
  return found;
}

/**
 * A system error while setting the trace instance up, as a sentence that says what to do: the
 * raw error names only a file and a code.
 */
export function traceSetupAdvice(e: NodeJS.ErrnoException): string {
  const file = e.path ?? 'a tracefs file';
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `the kernel refused access to ${file} (${e.code}): run as root; if you are root, the kernel's lockdown may forbid tracing (cat /sys/kernel/security/lockdown: "confidentiality" does), or a security module (SELinux, AppArmor) denies tracefs.`;
    case 'ENOENT':
      return `this kernel's tracefs has no ${file}: the guest trace needs per-CPU trace buffers and event PID filters (Linux 4.4 or newer with CONFIG_FTRACE and CONFIG_EVENT_TRACING).`;
    case 'EROFS':
      return `tracefs is mounted read-only (${file}): mount it read-write as root: mount -o remount,rw /sys/kernel/tracing`;
    case 'EINVAL':
      return `the kernel did not accept a setting in ${file} (EINVAL): its tracefs may not support it (an event filter or the "mono" trace clock); please report it with \`uname -r\`.`;
    case 'ENOMEM':
    case 'ENOSPC':
      return `the kernel could not allocate the trace buffer (${file}, ${e.code}): free memory, or lower the buffer (the instance asks for 8 MB per CPU).`;
    default:
      return `setting up the trace instance failed at ${file}: ${e.message}`;
  }
}

/** KVM's own page-walk events (kvmmmu) worth having: they name the address a guest fault is about. */
export const KVMMMU_EVENTS = ['kvm_mmu_pagetable_walk', 'kvm_mmu_paging_element', 'kvm_mmu_walker_error'];

/**
 * Kernel-side filters, so a flood stays readable (a stuck guest on this project's machine made
 * 97 page-walk lines for 6 instructions). kvm_mmu_paging_element fires once per level of every
 * walk: only entries with bit 7 set (PS: a 2 MB or 1 GB page) are kept, the ones that explain a
 * reserved-bit fault. kvm_mmu_pagetable_walk fires for every instruction fetch of an emulated
 * instruction: only data accesses are kept (pferr bit 4 is F, a fetch); the instruction's own
 * address is in kvm_emulate_insn.
 */
export const EVENT_FILTERS: Record<string, string> = {
  'kvmmmu/kvm_mmu_paging_element': 'pte & 128',
  'kvmmmu/kvm_mmu_pagetable_walk': '!(pferr & 16)',
};

/**
 * The events to enable, as "system/name": every KVM event this kernel has (events/kvm/*), and
 * kvmmmu's page-walk events where present. An error naming the kernel options if there are none.
 */
export function kvmEvents(tracefs: string): string[] {
  const dir = path.join(tracefs, 'events', 'kvm');
  const has = (system: string, name: string) => fs.existsSync(path.join(tracefs, 'events', system, name, 'format'));
  const kvm = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => has('kvm', n)) : [];
  if (kvm.length === 0) {
    throw new GuestTraceError(
      `this kernel has no KVM trace events (${dir} is missing or empty): it needs CONFIG_KVM (the kvm module loaded: modprobe kvm) and tracing (CONFIG_FTRACE, CONFIG_EVENT_TRACING).`,
    );
  }
  return [...kvm.sort().map((n) => `kvm/${n}`), ...KVMMMU_EVENTS.filter((n) => has('kvmmmu', n)).map((n) => `kvmmmu/${n}`)];
}

/** events/SYSTEM/NAME/format, read at run time: each kernel and architecture has its own layout. */
export function readEventFormat(tracefs: string, event: string): string {
  return fs.readFileSync(path.join(tracefs, 'events', event, 'format'), 'utf8');
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined if the process is gone. */
export function processStartTime(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // The name (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function instanceName(pid: number, startTime: string, serial: number): string {
  return `${INSTANCE_PREFIX}${pid}-${startTime}-${serial}`;
}

/** The owner of an instance we made, from its name; undefined for anyone else's instance. */
export function instanceOwner(name: string): { pid: number; startTime: string } | undefined {
  const m = /^bluepill-lens-(\d+)-(\d+)-\d+$/.exec(name);
  return m ? { pid: Number(m[1]), startTime: m[2] } : undefined;
}

/** Disables and removes instances whose owner is dead (or a new process with its pid); never a live owner's. */
export function removeStaleInstances(tracefs: string, procRoot = '/proc'): string[] {
  const removed: string[] = [];
  const dir = path.join(tracefs, 'instances');
  for (const name of fs.readdirSync(dir)) {
    const owner = instanceOwner(name);
    if (!owner || processStartTime(owner.pid, procRoot) === owner.startTime) continue;
    if (removeInstance(path.join(dir, name))) removed.push(name);
  }
  return removed;
}

function writeControl(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

function removeInstance(dir: string): boolean {
  for (const [file, text] of [
    ['tracing_on', '0'],
    ['set_event', ''],
    ['set_event_pid', ''],
  ]) {
    const control = path.join(dir, file);
    try {
      if (fs.existsSync(control)) writeControl(control, text);
    } catch {
      // gone meanwhile
    }
  }
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export interface TraceInstanceOptions {
  tracefs: string;
  /** Events to enable, as "system/name" (kvm/kvm_exit). */
  events: string[];
  /** Thread ids to trace (set_event_pid). */
  tids: number[];
  /** Per-CPU buffer size; a stuck guest fills the default 1.4 MB in well under a second. */
  bufferKb?: number;
}

const live = new Set<TraceInstance>();
let serial = 0;

/** The ring buffer's page: events/header_page's data offset plus its size (4096 on x86-64 and arm64 with 4 KB pages). */
export function ringPageSize(tracefs: string): number {
  try {
    const m = /field: char data;\s*offset:(\d+);\s*size:(\d+);/.exec(fs.readFileSync(path.join(tracefs, 'events', 'header_page'), 'utf8'));
    if (m) return Number(m[1]) + Number(m[2]);
  } catch {
    // an older kernel: the page size
  }
  return 4096;
}

/**
 * One private trace instance, read without blocking (a blocking read would keep it busy and
 * unremovable). Read in the ring buffer's binary pages, one file per CPU (trace_pipe_raw): the
 * kernel then only copies pages, where formatting trace_pipe's text lost most of a flood.
 */
export class TraceInstance {
  readonly dir: string;
  /** Per CPU, its trace_pipe_raw. */
  private readonly fds = new Map<number, number>();
  private closed = false;
  private readonly chunk = Buffer.allocUnsafe(256 << 10);

  constructor(options: TraceInstanceOptions) {
    const startTime = processStartTime(process.pid);
    if (!startTime) throw new GuestTraceError('cannot read /proc/self/stat: is /proc mounted?');
    removeStaleInstances(options.tracefs);
    this.dir = path.join(options.tracefs, 'instances', instanceName(process.pid, startTime, serial++));
    fs.mkdirSync(this.dir);
    live.add(this);
    installExitHook();
    try {
      writeControl(this.control('tracing_on'), '0');
      writeControl(this.control('buffer_size_kb'), String(options.bufferKb ?? 8192));
      // Time stamps on CLOCK_MONOTONIC, so "how long since the last exit" can be measured to now.
      writeControl(this.control('trace_clock'), 'mono');
      // One event per line: each write of set_event adds to it (O_APPEND semantics need a fresh open per line).
      writeControl(this.control('set_event'), '');
      for (const e of options.events) {
        if (EVENT_FILTERS[e]) writeControl(path.join(this.dir, 'events', e, 'filter'), EVENT_FILTERS[e]);
        fs.appendFileSync(this.control('set_event'), `${e.replace('/', ':')}\n`);
      }
      writeControl(this.control('set_event_pid'), options.tids.join(' '));
      for (const cpu of fs.readdirSync(this.control('per_cpu'))) {
        const n = /^cpu(\d+)$/.exec(cpu)?.[1];
        if (n !== undefined) this.fds.set(Number(n), fs.openSync(path.join(this.dir, 'per_cpu', cpu, 'trace_pipe_raw'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
      }
      writeControl(this.control('tracing_on'), '1');
    } catch (e) {
      this.close();
      throw e instanceof GuestTraceError ? e : new GuestTraceError(traceSetupAdvice(e as NodeJS.ErrnoException));
    }
  }

  private control(file: string): string {
    return path.join(this.dir, file);
  }

  /** Adds threads that appeared since the start (a sandbox makes vCPU threads as it needs them). */
  addThreads(tids: number[]): void {
    if (!this.closed && tids.length) fs.appendFileSync(this.control('set_event_pid'), tids.join(' '));
  }

  /** The CPUs whose buffers this instance reads. */
  cpus(): number[] {
    return [...this.fds.keys()];
  }

  /** One read(2) of a CPU's trace_pipe_raw into `into` at `offset`, without waiting: bytes read, 0 when it has none now. */
  read(cpu: number, into: Buffer, offset: number, length: number): number {
    const fd = this.fds.get(cpu);
    if (fd === undefined) return 0;
    try {
      return fs.readSync(fd, into, offset, length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      throw e;
    }
  }

  /** Reads what every CPU has now (up to maxBytes in all, shared fairly) for `use`; its buffer is reused. Returns bytes read. */
  readAvailable(use: (cpu: number, pages: Buffer) => void, maxBytes = 16 << 20): number {
    let total = 0;
    const share = Math.max(this.chunk.length, Math.floor(maxBytes / Math.max(1, this.fds.size)));
    for (const cpu of this.fds.keys()) {
      for (let mine = 0; mine < share && total < maxBytes; ) {
        const n = this.read(cpu, this.chunk, 0, this.chunk.length);
        if (n <= 0) break;
        use(cpu, this.chunk.subarray(0, n));
        mine += n;
        total += n;
      }
    }
    return total;
  }

  /** What the instance holds now as trace text (the `trace` file: read without consuming). */
  snapshotText(): string {
    return fs.readFileSync(this.control('trace'), 'latin1');
  }

  /** Stops recording (the instance stays, with what it holds). */
  pause(): void {
    writeControl(this.control('tracing_on'), '0');
  }

  /** Disables the instance and removes it. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    try {
      writeControl(this.control('tracing_on'), '0');
    } catch {
      // the instance may be half made
    }
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    removeInstance(this.dir);
  }
}

/** Disables and removes every instance this process has open. */
export function closeAllTraceInstances(): void {
  for (const t of [...live]) t.close();
}

let exitHookInstalled = false;

/** Whatever way the process exits normally, its instances go with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', closeAllTraceInstances);
}

/**
 * For a process of our own (the CLI): a fatal signal or an uncaught exception also removes the
 * instances before the process ends. Not for a host process such as VS Code's extension host,
 * whose signals are not ours to take; there the exit hook and the next start's clean-up serve.
 */
export function closeTraceInstancesOnSignals(): void {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const signal of Object.keys(codes) as (keyof typeof codes)[]) {
    process.once(signal, () => {
      closeAllTraceInstances();
      process.exit(codes[signal]);
    });
  }
  process.once('uncaughtException', (e) => {
    closeAllTraceInstances();
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
