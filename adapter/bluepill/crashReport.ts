// A crash report of runsc (what the Go runtime and gVisor's KVM handler wrote to stderr when the
// process died), read line by line and decoded into words. gVisor reports a dead vCPU in ways
// only its source explains (bluepill_unsafe.go, bluepill_{arm64,amd64}_unsafe.go):
// - dieAndDumpExitReason puts the exit in R9–R14 and sets the PC to the marker 0xabc; the host
//   faults right after sigreturn, and as the thread is inside entersyscall (vCPU.SwitchToUser)
//   the Go runtime treats the fault as fatal and dumps the registers;
// - vCPU.die makes the thread "call" dieTrampoline from the guest's PC; dieHandler throws the
//   message of the exit ("exit_mmio", …), and the frame below dieHandler is the guest's PC;
// - before either, its handler writes lines with printHex ("unexpected MMIO exit: …").
// The formats and the lines are generated from the sources (crashFacts.generated.ts).
import { CRASH_FACTS } from './crashFacts.generated';
import { decodeDieMarker, dieMarker, dieRegisters, KVM_EXIT_REASONS } from './dieMarkers';
import type { Diagnosis } from './diagnoses';
import { shortName } from './symbols';

export type Arch = 'arm64' | 'amd64';

export interface CrashFrame {
  function: string;
  file?: string;
  line?: number;
  pc?: bigint;
}

export interface CrashReport {
  /** From the register dump's names (rip: amd64; lr and fault: arm64). */
  arch?: Arch;
  /** "SIGSEGV: segmentation violation" and "PC=… m=… sigcode=… addr=…": a fatal signal, registers dumped. */
  fatalSignal?: { name: string; description: string; pc: bigint; m?: number; sigcode?: number; addr?: bigint };
  /** "[signal SIGSEGV: segmentation violation code=… addr=… pc=…]" under a panic or a throw. */
  panicSignal?: { name: string; description: string; addr?: bigint; pc: bigint };
  fatalError?: string;
  panic?: string;
  /** The first register dump, by the runtime's names (r0…, lr, sp, pc, fault / rax…, rip, rflags…). */
  registers: Record<string, bigint>;
  /** The first goroutine's traceback: the one that crashed. */
  goroutine?: { id: number; state: string; frames: CrashFrame[] };
  /** gVisor's printHex lines, in order. */
  gvisorLines: Array<{ title: string; value: bigint; function?: string; exitReason?: string; file: string }>;
  /** Lines read. */
  lines: number;
}

/**
 * What log collectors put before each line of a crash report, stripped before reading it:
 * `docker logs --timestamps` (RFC 3339), glog's header (runsc's own log lines), journald's.
 */
const LOG_PREFIXES = [
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)? /,
  /^[IWEFD]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]\s]+:\d+\] /,
  /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:]+: /,
];

const MAX_FRAMES = 64;
const MAX_LINE = 4096;
const HEX_LINES = CRASH_FACTS.gvisorHexLines as ReadonlyArray<{ title: string; value: string; file: string; function?: string; exitReason?: string }>;
const REGISTER_NAMES = new Set<string>([...CRASH_FACTS.registerDump.amd64, ...CRASH_FACTS.registerDump.arm64]);
const hex = (n: bigint) => `0x${n.toString(16)}`;

/** Reads a crash report one line at a time: constant memory whatever its length (runsc prints every goroutine). */
export class CrashReportReader {
  readonly report: CrashReport = { registers: {}, gvisorLines: [], lines: 0 };
  private inDump = false;
  private dumpDone = false;
  private inFirstGoroutine = false;
  private goroutinesSeen = 0;
  private expectSignalPc?: { name: string; description: string };

  line(raw: string): void {
    const r = this.report;
    r.lines++;
    let text = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw.replace(/\r$/, '');
    for (const prefix of LOG_PREFIXES) text = text.replace(prefix, '');
    this.registerLine(text);
    this.gvisorLine(text);
    if (this.expectSignalPc) {
      const m = /^PC=(0x[0-9a-f]+) m=(\d+) sigcode=(-?\d+)(?: addr=(0x[0-9a-f]+))?/.exec(text);
      if (m && !r.fatalSignal) r.fatalSignal = { ...this.expectSignalPc, pc: BigInt(m[1]), m: Number(m[2]), sigcode: Number(m[3]), addr: m[4] ? BigInt(m[4]) : undefined };
      this.expectSignalPc = undefined;
      if (m) return;
    }
    let m = /^(SIG[A-Z0-9]+): (.+)$/.exec(text);
    if (m && !r.fatalSignal) {
      this.expectSignalPc = { name: m[1], description: m[2] };
      return;
    }
    m = /^\[signal (SIG[A-Z0-9]+|0x[0-9a-f]+): ([^\]]*?) code=\S+ addr=(0x[0-9a-f]+) pc=(0x[0-9a-f]+)\]$/.exec(text);
    if (m && !r.panicSignal) {
      r.panicSignal = { name: m[1], description: m[2], addr: BigInt(m[3]), pc: BigInt(m[4]) };
      return;
    }
    m = /^fatal error: (.*)$/.exec(text);
    if (m && r.fatalError === undefined) r.fatalError = m[1];
    m = /^panic: (.*)$/.exec(text);
    if (m && r.panic === undefined) r.panic = m[1];
    this.tracebackLine(text);
  }

  private registerLine(text: string): void {
    const m = /^(\w+) +(0x[0-9a-f]+)$/.exec(text);
    if (m && REGISTER_NAMES.has(m[1]) && !this.dumpDone) {
      this.inDump = true;
      this.report.registers[m[1]] = BigInt(m[2]);
      if (m[1] === 'rip') this.report.arch = 'amd64';
      else if (m[1] === 'lr' || m[1] === 'fault') this.report.arch = 'arm64';
      return;
    }
    if (this.inDump) {
      // The first dump is the crash's (GOTRACEBACK=crash prints other threads' after it).
      this.inDump = false;
      this.dumpDone = true;
    }
  }

  private gvisorLine(text: string): void {
    for (const l of HEX_LINES) {
      if (!text.startsWith(l.title)) continue;
      const m = /^\s*([0-9a-f]{16})$/.exec(text.slice(l.title.length));
      if (m) this.report.gvisorLines.push({ title: l.title.trim(), value: BigInt(`0x${m[1]}`), function: l.function, exitReason: l.exitReason, file: l.file });
      return;
    }
  }

  private tracebackLine(text: string): void {
    const r = this.report;
    const header = /^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:$/.exec(text);
    if (header) {
      this.goroutinesSeen++;
      this.inFirstGoroutine = this.goroutinesSeen === 1;
      if (this.inFirstGoroutine) r.goroutine = { id: Number(header[1]), state: header[2], frames: [] };
      return;
    }
    if (!this.inFirstGoroutine || !r.goroutine) return;
    if (text === '') {
      this.inFirstGoroutine = false;
      return;
    }
    const frames = r.goroutine.frames;
    const location = /^\t(.+):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=\S+ sp=\S+ pc=(0x[0-9a-f]+))?$/.exec(text);
    if (location && frames.length) {
      const f = frames[frames.length - 1];
      Object.assign(f, { file: location[1], line: Number(location[2]), pc: location[3] ? BigInt(location[3]) : undefined });
      return;
    }
    const call = /^(\S.*?)\((?:[^()]*|\.\.\.)\)$/.exec(text);
    if (call && !text.startsWith('created by ') && frames.length < MAX_FRAMES) frames.push({ function: call[1] });
  }
}

export function parseCrashReport(text: string): CrashReport {
  const reader = new CrashReportReader();
  for (const l of text.split('\n')) reader.line(l);
  return reader.report;
}

/** What the report says, in words: gVisor's die path first, then what the runtime saw. */
export function crashFindings(r: CrashReport, symbolFor: (a: bigint) => string | undefined = () => undefined): Diagnosis[] {
  const out: Diagnosis[] = [];
  const pc = r.fatalSignal?.pc ?? r.panicSignal?.pc;
  const arches: Arch[] = r.arch ? [r.arch] : ['arm64', 'amd64'];
  const arch = pc === undefined ? undefined : arches.find((a) => dieMarker(a, pc));
  if (pc !== undefined && arch) {
    const names = dieRegisters(arch, 'marker').map((n) => n.replace(/^X/, 'r').toLowerCase());
    const values = names.map((n) => r.registers[n]);
    const decoded = r.arch && values.every((v) => v !== undefined) ? decodeDieMarker(arch, pc, values as bigint[], symbolFor) : undefined;
    if (decoded) out.push(decoded);
    else {
      out.push({
        id: 'vcpu-died',
        severity: 'error',
        message: `The PC ${hex(pc)} is gVisor's die marker: a vCPU died (dieAndDumpExitReason), with the original PC in R9 and the exit in R10–R14, but this report has no register dump to read them from. ${whyNoRegisters(r, pc)}${r.gvisorLines.length ? ' The lines gVisor printed before it (below) are what is left.' : ''}`,
      });
    }
  }
  for (const l of r.gvisorLines) out.push(gvisorLineFinding(l, symbolFor));
  const died = dieHandlerFinding(r, symbolFor);
  if (died) out.push(died);
  if (out.length === 0) {
    const where = pc === undefined ? '' : ` at PC ${named(pc, symbolFor, r)}`;
    const what = r.fatalSignal ? `a fatal ${r.fatalSignal.name}` : r.panicSignal ? `a panic on ${r.panicSignal.name}` : r.fatalError !== undefined ? `a throw ("${r.fatalError}")` : r.panic !== undefined ? `a panic ("${r.panic}")` : undefined;
    out.push({
      id: 'vcpu-died',
      severity: 'info',
      message: what
        ? `A Go crash: ${what}${where}. Nothing in it is gVisor's die path (no die marker PC, no kvm.dieHandler frame, none of the lines its KVM handler prints).`
        : `No Go crash report found in ${r.lines} lines: give what runsc wrote to stderr when it died (its log with --debug-log, or the container's output), from "panic:", "fatal error:" or "SIGSEGV:" on.`,
    });
  }
  return out;
}

/** Why a report with the die marker's PC has no registers: the fault became a panic, or the text stops before them. */
function whyNoRegisters(r: CrashReport, pc: bigint): string {
  if (r.panicSignal && !r.fatalSignal) {
    return `The Go runtime prints the registers only for a fatal signal (SIGSEGV with "PC=…" and r0…/rax… lines); here the fault became a panic ("[signal ${r.panicSignal.name} … pc=${hex(pc)}]"), which happens when the thread was not inside entersyscall.`;
  }
  return `It is a fatal signal ("PC=${hex(pc)}"), whose report lists the registers after the goroutines: the text given stops before them (${r.lines} lines). Give the whole of what runsc wrote to stderr.`;
}

/**
 * Why `--binary` is not the program that crashed, if it is not: another architecture than the
 * register dump's, or none of the traceback's functions where the binary has them.
 */
export function binaryMismatch(r: CrashReport, binaryArch: Arch | undefined, functionAt: (a: bigint) => string | undefined): string | undefined {
  if (r.arch && binaryArch && r.arch !== binaryArch) return `the report is of an ${r.arch} program, and the binary is ${binaryArch}`;
  const frames = (r.goroutine?.frames ?? []).filter((f): f is CrashFrame & { pc: bigint } => f.pc !== undefined);
  if (frames.length === 0) return undefined;
  if (frames.some((f) => functionAt(f.pc) === f.function)) return undefined;
  const f = frames[0];
  return `at pc=${hex(f.pc)} the report's traceback names ${f.function}, and the binary ${functionAt(f.pc) ?? 'no function'}`;
}

function named(a: bigint, symbolFor: (a: bigint) => string | undefined, r?: CrashReport): string {
  const fromReport = r?.goroutine?.frames.find((f) => f.pc === a)?.function;
  const name = symbolFor(a) ?? fromReport;
  return `${hex(a)}${name ? ` (${shortName(name)})` : ''}`;
}

function gvisorLineFinding(l: CrashReport['gvisorLines'][number], symbolFor: (a: bigint) => string | undefined): Diagnosis {
  const value = /^(rip|FATAL: rip)/.test(l.title) ? named(l.value, symbolFor) : hex(l.value);
  if (l.function === 'logKVMExitReason') {
    const reason = l.exitReason ?? 'an exit';
    const code = Object.entries(KVM_EXIT_REASONS).find(([, n]) => n === reason)?.[0];
    return { id: 'vcpu-died', severity: 'error', message: `gVisor's KVM handler met an exit it does not expect: ${reason}${code ? ` (${code})` : ''}, data[0] ${value} ("${l.title} …", logKVMExitReason, ${l.file}).` };
  }
  if (l.function === 'archExitSanityCheck') return { id: 'vcpu-died', severity: 'error', message: `gVisor's exit sanity check found a guest state it must not resume: ${l.title.replace(/\s*=$/, '')} ${value} (archExitSanityCheck, ${l.file}).` };
  if (l.function === 'dieArchSetup') return { id: 'vcpu-died', severity: 'error', message: `The guest's register when its vCPU died: ${l.title.replace(/^FATAL: /, '').replace(/\s*=$/, '')} ${value} (dieArchSetup, ${l.file}).` };
  return { id: 'vcpu-died', severity: 'warning', message: `gVisor printed "${l.title}" ${value} (${l.function ?? 'its KVM handler'}, ${l.file}).` };
}

/** vCPU.die: dieHandler threw the exit's message; the frame under it is the guest's PC (dieTrampoline's fake call). */
function dieHandlerFinding(r: CrashReport, symbolFor: (a: bigint) => string | undefined): Diagnosis | undefined {
  const frames = r.goroutine?.frames ?? [];
  const at = frames.findIndex((f) => shortName(f.function) === 'kvm.dieHandler');
  const die = CRASH_FACTS.dieMessages.find((d) => d.message === r.fatalError);
  if (at < 0) {
    // The message alone: one of vCPU.die's, without the frame that would prove it.
    if (!die || frames.length === 0) return undefined;
    return { id: 'vcpu-died', severity: 'warning', message: `"fatal error: ${die.message}" is the message vCPU.die gives for ${die.exitReason} (bluepill_unsafe.go), but kvm.dieHandler is not in the crashed goroutine's frames: if this is runsc, a vCPU died of that exit.` };
  }
  const guest = frames[at + 1];
  const where = guest ? `; the guest was at ${guest.pc !== undefined ? named(guest.pc, symbolFor, r) : shortName(guest.function)}${guest.file ? ` (${guest.file}:${guest.line})` : ''}, the frame dieTrampoline made it look called from` : '';
  const reason = die ? `${die.exitReason} ("${die.message}")` : r.fatalError !== undefined ? `"${r.fatalError}"` : 'a reason the report does not give';
  return { id: 'vcpu-died', severity: 'error', message: `vCPU died: ${reason}, thrown by kvm.dieHandler${where} (vCPU.die, bluepill.go).` };
}

/** The report in a few lines for a terminal or the Explain panel. */
export function crashReportText(r: CrashReport, findings: Diagnosis[]): string {
  const signal = r.fatalSignal ? `fatal ${r.fatalSignal.name} at PC ${hex(r.fatalSignal.pc)}${r.fatalSignal.addr !== undefined ? `, address ${hex(r.fatalSignal.addr)}` : ''}` : r.panicSignal ? `panic on ${r.panicSignal.name} at PC ${hex(r.panicSignal.pc)}` : r.fatalError !== undefined ? `fatal error: ${r.fatalError}` : r.panic !== undefined ? `panic: ${r.panic}` : 'no crash found';
  const regs = Object.keys(r.registers).length;
  const g = r.goroutine ? `; goroutine ${r.goroutine.id} [${r.goroutine.state}]${r.goroutine.frames[0] ? ` in ${r.goroutine.frames[0].function}` : ''}` : '';
  const head = `Crash report (${r.arch ?? 'architecture unknown'}): ${signal}; ${regs ? `${regs} registers dumped` : 'no register dump'}${g}.`;
  return [head, ...findings.map((f) => `${f.severity}: ${f.message}`)].join('\n');
}
