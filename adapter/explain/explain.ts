// "Explain This PC": what an address is, for someone following the bluepill. One
// pure function over facts that a debug session, an ELF binary or an objdump
// listing can each supply.
import { annotateInstruction } from '../arm64/goSyntax';
import { parseSysreg, type ParsedSysreg } from '../arm64/parseSysreg';
import { sysregInfo, accessSummary, nameFor } from '../arm64/sysregs';
import { EL0_MEASURED_ON, el0Outcome, el0PstateOutcome } from '../arm64/el0Access';
import { hostTrapOf } from './hostTraps';
import { AMD64_SIGRETURN_BYTES, ARM64_SIGRETURN_WORDS, le32, PHASES, trampolineLabel, variantById, type Landmark, type Phase, type Variant } from '../bluepill/model';
import { landmarkIndex } from '../bluepill/symbols';
import { guestBreakpointWarning, judgeFunction } from '../bluepill/guestCode';

export interface ExplainInput {
  address: bigint;
  arch: 'arm64' | 'amd64';
  variant?: Variant;
  /** The function containing the address, and the offset into it. */
  symbol?: string;
  offset?: bigint;
  source?: { file: string; line: number };
  /** The instruction at the address, in Go syntax (dlv / go tool objdump), and its bytes (memory order, hex). */
  instruction?: { text?: string; bytes?: string };
  /** Where the facts came from, for the reader. */
  origin: string;
}

export interface Explanation {
  address: string;
  where: string;
  source?: string;
  instruction?: string;
  sysreg?: { name: string; field: number; generic: string; access: string; description: string };
  landmark?: { role: string; words: string; phase: Phase; phaseTitle: string };
  inHost: string;
  inGuest: string;
  pitfalls: string[];
  special?: string;
  origin: string;
}

const TRAMPOLINE_STARTS = { arm64: ARM64_SIGRETURN_WORDS.map(le32), amd64: [AMD64_SIGRETURN_BYTES.slice(0, 14), AMD64_SIGRETURN_BYTES.slice(14)] };

export function explain(input: ExplainInput): Explanation {
  const variant = input.variant ?? variantById(input.arch === 'arm64' ? 'arm64' : 'amd64-cli');
  const index = landmarkIndex(variant);
  const text = input.instruction?.text;
  const bytes = input.instruction?.bytes?.toLowerCase();
  const named = input.symbol ? index.bySymbolName(input.symbol) : undefined;
  const codes = index.byCode(text, bytes);
  const trap = codes.find((l) => l.role === 'trap-instruction');
  const trampoline = !input.symbol && bytes !== undefined && TRAMPOLINE_STARTS[input.arch].some((w) => bytes.startsWith(w));
  const landmark: Landmark | undefined = trampoline ? variant.landmarks.find((l) => l.role === 'trampoline') : (trap ?? named ?? codes.find((l) => l.role === 'host-syscall'));

  const move = parseMove(text);
  const sysreg = sysregOf(move);
  const nowhere = !input.symbol && !input.instruction;
  const behaviour = nowhere
    ? { host: 'Unknown: the address is in none of this binary\'s functions or code sections (a mapping of its own, e.g. the vDSO, or a stack or heap address).', guest: 'Unknown, for the same reason.' }
    : modes(input.arch, text, bytes, move, trampoline);
  const pitfalls: string[] = [];
  const guestWarning = input.symbol ? guestBreakpointWarning(judgeFunction(input.symbol, input.arch)) : undefined;
  if (guestWarning) pitfalls.push(`A software breakpoint here is unsafe: ${guestWarning}`);
  if (trap) pitfalls.push('Stepping one instruction here (si) lands in the signal handler, not on the next instruction: the trap is delivered first.');
  if (named?.role === 'sighandler') pitfalls.push('This runs on the signal stack: unwinding past the handler gives junk frames, and the interrupted context is in the ucontext, not in the caller frames.');
  if (trampoline) pitfalls.push('No symbol: dlv cannot disassemble here (error 2013); bluepill-lens decodes it from memory.');
  if (named?.role === 'guest-exit') pitfalls.push('The ucontext written here decides where the host resumes: a breakpoint elsewhere in guest code changes it.');

  const where = input.symbol ? `${input.symbol}${input.offset ? `+0x${input.offset.toString(16)}` : ''}` : trampoline ? trampolineLabel(input.arch) : 'no symbol';
  return {
    address: `0x${input.address.toString(16)}`,
    where,
    source: input.source ? `${input.source.file}:${input.source.line}` : undefined,
    // Bytes without text: amd64 code the small decoder does not know, whose length it cannot tell.
    instruction: text ? (annotateInstruction(text) ?? text) : bytes ? `not decoded here (its bytes start ${bytes})` : undefined,
    sysreg,
    landmark: landmark ? { role: landmark.role, words: landmark.words, phase: landmark.phase, phaseTitle: PHASES.find((p) => p.phase === landmark.phase)!.title } : undefined,
    inHost: behaviour.host,
    inGuest: behaviour.guest,
    pitfalls,
    special: trampoline ? `The rt_sigreturn trampoline (${input.arch === 'arm64' ? 'the vDSO\'s __kernel_rt_sigreturn: MOVD $139, R8; SVC $0' : 'MOVQ $15, AX; SYSCALL'}): a signal handler returns here, and the kernel restores the ucontext.` : undefined,
    origin: input.origin,
  };
}

/** The instruction as an MRS/MSR (a system register, or a PSTATE field written with an immediate), if it is one. */
function parseMove(text: string | undefined): ParsedSysreg | undefined {
  if (!text || !/^(MRS|MSR)\s/.test(text)) return undefined;
  try {
    return parseSysreg(text.split('//')[0]);
  } catch {
    return undefined;
  }
}

function sysregOf(move: ParsedSysreg | undefined): Explanation['sysreg'] {
  if (move?.kind !== 'sysreg') return undefined;
  const info = sysregInfo(move.field);
  const direction = move.direction ?? 'mrs';
  return { name: nameFor(move.field, direction), field: move.field, generic: info.generic, access: accessSummary(info, direction), description: info.description };
}

function modes(arch: 'arm64' | 'amd64', text: string | undefined, bytes: string | undefined, move: ParsedSysreg | undefined, trampoline: boolean): { host: string; guest: string } {
  if (trampoline) return { host: 'Returns from the signal handler: rt_sigreturn restores the saved context, so the thread continues at the ucontext PC.', guest: 'Not reached in the guest: it is host signal machinery.' };
  if (move?.kind === 'sysreg') {
    const { field } = move;
    const info = sysregInfo(field);
    const direction = move.direction ?? 'mrs';
    const name = nameFor(field, direction);
    const host = hostAccess(name, field, direction, info.minEl);
    const guest = info.minEl <= 1 ? `Accesses ${name} at EL1.${field === 18052 ? ' TPIDR_EL1 holds the per-CPU pointer in the guest.' : ''}` : `Traps to EL${info.minEl} (KVM): a VM exit.`;
    return { host, guest };
  }
  if (move?.kind === 'pstate') {
    const pstate = move.name.toUpperCase();
    const outcome = el0PstateOutcome(pstate);
    const host =
      outcome === 'completes'
        ? `Runs at EL0 (measured on ${EL0_MEASURED_ON}).`
        : outcome === 'sigill'
          ? `Raises SIGILL at EL0: writing PSTATE through ${pstate} is not allowed to user space (measured on ${EL0_MEASURED_ON}).`
          : `Writes PSTATE through ${pstate} where EL1 lets EL0 do so (by its encoding; not measured at EL0).`;
    return { host, guest: `At EL1 it writes PSTATE through ${pstate}.` };
  }
  if ((text && /^SVC\b/.test(text)) || bytes?.startsWith('010000d4')) {
    return { host: 'A Linux system call (number in X8). After a guest exit the host may resume here to run the system call the guest stopped at.', guest: 'An exception to EL1: ring0\'s El1_sync → HaltEl1SvcAndResume leaves the guest, and the host re-executes the SVC (redpill, X8 = -1, only leaves the guest).' };
  }
  if ((text && /^CLI\b/.test(text)) || bytes === 'fa') {
    return { host: 'Privileged at ring 3: #GP, delivered as SIGSEGV. In gVisor before 2024 this is the bluepill.', guest: 'At ring 0 it masks interrupts.' };
  }
  if ((text && /^SYSCALL\b/.test(text)) || bytes?.startsWith('0f05')) {
    return { host: 'A Linux system call (number in RAX); after a guest exit the host may resume here to run it for the guest.', guest: 'In the guest it enters ring0\'s system call entry, which exits to the host.' };
  }
  if ((text && /^ERET\b/.test(text)) || bytes === le32(0xd69f03e0)) return { host: 'Undefined at EL0 (SIGILL).', guest: 'Returns from EL1 to the level in SPSR_EL1: ring0 uses it to enter the application.' };
  const hostTrap = hostTrapOf(arch, bytes);
  if (hostTrap) {
    return {
      host: `${hostTrap.name} traps at ${arch === 'arm64' ? 'EL0' : 'ring 3'}: Linux delivers ${hostTrap.signal} (measured by running it${arch === 'arm64' ? ', under qemu-aarch64' : ''}).`,
      guest: `Not measured in the guest: at ${arch === 'arm64' ? 'EL1' : 'ring 0'} what it does depends on the guest kernel and KVM.`,
    };
  }
  return { host: 'Ordinary host code: runs the same at EL0 (ring 3).', guest: 'Where it runs in the guest (gVisor\'s Sentry runs its own code there too, at EL1, ring 0), its behaviour does not differ.' };
}


/** What an MRS/MSR does at EL0 under Linux: measured (el0Access.ts), or by the encoding where the write was not tried. */
function hostAccess(name: string, field: number, direction: 'mrs' | 'msr', minEl: number): string {
  const measuredOn = `(measured on ${EL0_MEASURED_ON})`;
  const verb = direction === 'mrs' ? 'read' : 'write';
  switch (el0Outcome(field, direction)) {
    case 'completes':
      return `${direction === 'mrs' ? 'Reads' : 'Writes'} ${name} at EL0 ${measuredOn}.`;
    case 'emulated':
      return `Completes at EL0 although ${name} is EL1's: Linux traps the read and emulates it, giving the value it chooses to show user space ${measuredOn}.`;
    case 'sigill':
      if (field === 18052 && direction === 'mrs') return `Undefined at EL0: the kernel delivers SIGILL ${measuredOn}. This is the bluepill: kvm.sighandler takes it and enters the guest.`;
      return minEl === 0 ? `Raises SIGILL at EL0: the ${verb} of ${name} is not allowed to user space ${measuredOn}.` : `Undefined at EL0: the kernel delivers SIGILL ${measuredOn}.`;
    case 'sigill-by-encoding':
      return `Undefined at EL0: ${name} is EL${minEl}'s by its encoding, and Linux emulates no write, so the kernel delivers SIGILL (not measured: the probe wrote back only what it could read).`;
    case 'unmeasured':
      return `Writes ${name} where EL1 lets EL0 do so (by its encoding; a write of it at EL0 was not measured).`;
  }
}

export function explanationMarkdown(e: Explanation): string {
  const lines = [`## ${e.address} · ${e.where}`, ''];
  if (e.source) lines.push(`Source: \`${e.source}\``, '');
  if (e.instruction) lines.push(`Instruction: \`${e.instruction}\``, '');
  if (e.sysreg) lines.push(`System register: **${e.sysreg.name}** (field ${e.sysreg.field}, \`${e.sysreg.generic}\`): ${e.sysreg.access}. ${e.sysreg.description}`, '');
  if (e.landmark) lines.push(`Bluepill landmark: **${e.landmark.role}**, phase **${e.landmark.phaseTitle}**. ${e.landmark.words}`, '');
  if (e.special) lines.push(e.special, '');
  lines.push('| runs as | what happens |', '|---|---|', `| host (EL0 / ring 3) | ${e.inHost} |`, `| guest (EL1 / ring 0) | ${e.inGuest} |`, '');
  if (e.pitfalls.length) lines.push('Pitfalls:', ...e.pitfalls.map((p) => `- ${p}`), '');
  lines.push(`_From ${e.origin}._`);
  return lines.join('\n');
}

export function explanationText(e: Explanation): string {
  const lines = [`${e.address}  ${e.where}`];
  if (e.source) lines.push(`  source       ${e.source}`);
  if (e.instruction) lines.push(`  instruction  ${e.instruction}`);
  if (e.sysreg) lines.push(`  register     ${e.sysreg.name} (field ${e.sysreg.field}, ${e.sysreg.generic}): ${e.sysreg.access}`, `               ${e.sysreg.description}`);
  if (e.landmark) lines.push(`  bluepill     ${e.landmark.role}, phase "${e.landmark.phaseTitle}": ${e.landmark.words}`);
  if (e.special) lines.push(`  note         ${e.special}`);
  lines.push(`  on the host  ${e.inHost}`, `  in the guest ${e.inGuest}`);
  for (const p of e.pitfalls) lines.push(`  pitfall      ${p}`);
  lines.push(`  (from ${e.origin})`);
  return lines.join('\n');
}
