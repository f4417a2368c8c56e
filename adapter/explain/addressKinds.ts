// "Explain This Address": what any address of a process is, from what can be known of the
// process (its /proc/PID/maps, its threads' stack pointers, its executable's ELF sections), or,
// for a board without /proc, from the ELF alone. Pure: the facts come in, the words go out.
// The rules are a table, tried in order; the first that recognises the address names it.
// Facts about the Go heap and gVisor's reservation come from the generated table (their sources).
import { SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, type ElfSection } from '../elf/sections';
import { guestToHost } from '../guest/addressMap';
import { GO_HEAP } from './addressFacts.generated';
import { anonymousRun, isAnonymous, mappingAt, sizeText, type Mapping } from './procMaps';
import { isReservationCandidate, noReservationNote, RESERVATION_WHY, reservationFacts } from './gvisorReservation';

export { expectedReservation } from './gvisorReservation';
export { sizeText } from './procMaps';
export type { Arch, ProcessFacts, ThreadFacts } from './processFacts';
import type { ProcessFacts } from './processFacts';


export type AddressKind =
  | 'code' | 'rodata' | 'data' | 'bss' | 'program' // the executable's sections
  | 'vdso' | 'vvar' | 'vsyscall'
  | 'thread-stack' | 'main-stack'
  | 'go-heap' | 'brk-heap'
  | 'gvisor-reservation' | 'gvisor-memory-file' | 'kvm-vcpu'
  | 'kernel-half'
  | 'file' | 'shared-memory' | 'anonymous' | 'unmapped' | 'unknown';

export interface AddressExplanation {
  address: string;
  kind: AddressKind;
  /** One sentence: what it is. */
  summary: string;
  mapping?: { range: string; perms: string; offset: string; path: string; size: string };
  section?: string;
  /** Further facts, each a sentence. */
  details: string[];
  /** What cannot be known from these facts, said plainly. */
  unknown: string[];
  origin: string;
}

interface Context {
  address: bigint;
  p: ProcessFacts;
  mapping?: Mapping;
}

type Verdict = Omit<AddressExplanation, 'address' | 'mapping' | 'origin' | 'details' | 'unknown'> & { details?: string[]; unknown?: string[] };

interface Rule {
  name: string;
  /** Needs /proc (maps) to judge, or works from the ELF alone. */
  needsMaps: boolean;
  judge(c: Context): Verdict | undefined;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;


/** The executable's section holding the address (sections carry link-time addresses; bias is where it is loaded). */
export function sectionAt(sections: ElfSection[], address: bigint, bias = 0n): ElfSection | undefined {
  return sections.find((s) => s.flags & SHF_ALLOC && s.size > 0 && s.addr + bias <= address && address < s.addr + bias + BigInt(s.size));
}

function sectionKind(s: ElfSection): AddressKind {
  if (s.flags & SHF_EXECINSTR) return 'code';
  if (s.type === SHT_NOBITS) return 'bss';
  if (/rodata|typelink|itablink|gopclntab|gosymtab|go\.buildinfo|note|eh_frame|rela|dynsym|dynstr|interp|hash/.test(s.name)) return 'rodata';
  return 'data';
}

const SECTION_WORDS: Record<string, string> = {
  '.text': 'machine code',
  '.rodata': 'read-only data: constants, string literals, type descriptors',
  '.typelink': 'the offsets of the program\'s type descriptors',
  '.itablink': 'the program\'s interface tables',
  '.gopclntab': 'the Go PC → line/function table (what stack traces and dlv use)',
  '.go.buildinfo': 'the Go build information (version, module path, settings)',
  '.noptrdata': 'initialised global variables that hold no pointers (the Go GC does not scan it)',
  '.data': 'initialised global variables (scanned by the Go GC)',
  '.bss': 'zero-initialised global variables (scanned by the Go GC)',
  '.noptrbss': 'zero-initialised global variables that hold no pointers',
  '.go.fuzzcntrs': 'fuzzing counters',
};

/** The stack of a Go thread (its g0) is 16 KiB (runtime/proc.go, allocm: malg(16384 * StackGuardMultiplier)). */
const NEAR_SP = 16n * 1024n;

const RULES: Rule[] = [
  {
    name: 'vdso, vvar, vsyscall',
    needsMaps: true,
    judge({ mapping }) {
      const path = mapping?.path ?? '';
      if (path === '[vdso]') return { kind: 'vdso', summary: 'The vDSO: code the kernel maps into every process (clock_gettime without a system call; on ARM64 also __kernel_rt_sigreturn, the signal return trampoline).', details: ['Its functions are named by the vDSO\'s own ELF image (not the program\'s): the Bluepill Call Stack labels the rt_sigreturn trampoline.'] };
      if (path.startsWith('[vvar')) return { kind: 'vvar', summary: `The vDSO's data page (${path}): the kernel's clock data read by the vDSO. gVisor may leave it out of the guest's memory (excludeVirtualRegion in pkg/sentry/platform/kvm/virtual_map.go).` };
      if (path === '[vsyscall]') return { kind: 'vsyscall', summary: 'The legacy vsyscall page (x86-64): fixed at 0xffffffffff600000, execute-only, emulated by the kernel.' };
      return undefined;
    },
  },
  {
    name: 'kernel half',
    needsMaps: false,
    judge({ address, p }) {
      const { host, half } = guestToHost(p.arch, address);
      if (half !== 'upper') return undefined;
      const sandbox = p.isGvisorKvm;
      return {
        kind: 'kernel-half',
        summary: `A kernel-half address (${p.arch}): no host process can map it.${sandbox ? ` In gVisor's KVM guest it is the upper-half alias of host address ${hex(host)} (ring0.KernelStartAddress | host address: mapUpperHalf in machine_${p.arch}.go), where ring0's entry points and exception vectors run.` : ''}`,
        details: sandbox ? [`Explain ${hex(host)} for the code or data it aliases.`] : [],
        unknown: sandbox ? [] : ['Whose it is: outside a gVisor sandbox, an address here belongs to the host kernel.'],
      };
    },
  },
  {
    name: 'the executable\'s sections',
    needsMaps: false,
    judge({ address, p }) {
      const s = p.sections && sectionAt(p.sections, address, p.loadBias ?? 0n);
      if (!s) return undefined;
      const name = s.name || '(unnamed section)';
      const words = SECTION_WORDS[name];
      const offset = address - (s.addr + (p.loadBias ?? 0n));
      return {
        kind: sectionKind(s),
        section: name,
        summary: `In ${name} of ${p.exePath ?? 'the program'}, at +${hex(offset)}${words ? `: ${words}` : ''}.`,
        details: [`${name} spans ${hex(s.addr + (p.loadBias ?? 0n))}–${hex(s.addr + (p.loadBias ?? 0n) + BigInt(s.size))} (${sizeText(BigInt(s.size))}, ${s.flags & SHF_EXECINSTR ? 'executable' : s.type === SHT_NOBITS ? 'not in the file: zero-filled at start' : 'from the file'}).`],
      };
    },
  },
  {
    name: 'a thread\'s stack, by its stack pointer',
    needsMaps: true,
    judge({ address, p, mapping }) {
      if (!mapping) return undefined;
      const near = (p.threads ?? []).filter((t) => t.sp !== undefined && mappingAt([mapping], t.sp) && address + 256n >= t.sp && address - t.sp < NEAR_SP);
      if (!near.length) return undefined;
      const t = near.sort((a, b) => (a.sp! < b.sp! ? 1 : -1))[0];
      const delta = address - t.sp!;
      const main = mapping.path === '[stack]';
      const where = main ? 'the main thread\'s stack ([stack])' : p.isGo ? 'a Go thread\'s system stack (its g0, in memory the Go runtime allocated)' : 'a thread stack';
      return {
        kind: 'thread-stack',
        summary: `On the stack of thread ${t.tid}${t.name ? ` (${t.name})` : ''}: ${delta >= 0n ? `${delta} bytes above` : `${-delta} bytes below`} its stack pointer ${hex(t.sp!)}, in ${where}.`,
        details: [`Stack pointers from /proc/${p.pid ?? 'PID'}/task/TID/syscall, read now: the thread was blocked in the kernel.`],
        unknown: [p.isGo ? 'Which goroutine, if the thread was on a goroutine stack: goroutine stacks live in the Go heap and their bounds are the runtime\'s (g.stack), not in /proc; a debug session (dlv goroutines) can say.' : 'The stack\'s exact bounds for threads other than the main one.'],
      };
    },
  },
  {
    name: 'the main thread\'s stack',
    needsMaps: true,
    judge({ mapping }) {
      if (mapping?.path !== '[stack]') return undefined;
      return { kind: 'main-stack', summary: 'On the main thread\'s stack ([stack], the one the kernel set up at exec).', unknown: ['Which frame: the main thread\'s stack pointer was not near it (or not readable).'] };
    },
  },
  {
    name: 'gVisor\'s guest-physical reservation',
    needsMaps: true,
    judge({ p, mapping }) {
      if (!p.isGvisorKvm || !mapping || !isReservationCandidate(mapping)) return undefined;
      const r = reservationFacts(p);
      return {
        kind: 'gvisor-reservation',
        summary: `gVisor's KVM guest-physical reservation: ${sizeText(mapping.end - mapping.start)} of PROT_NONE address space that holds nothing. ${RESERVATION_WHY}`,
        details: r.details,
        unknown: r.unknown,
      };
    },
  },
  {
    name: 'the Go heap',
    needsMaps: true,
    judge({ address, p, mapping }) {
      if (!p.isGo || !mapping || !isAnonymous(mapping) || !mapping.perms.endsWith('p') || !p.maps) return undefined;
      const arena = BigInt(GO_HEAP.heapArenaBytes);
      const run = anonymousRun(p.maps, mapping);
      if (run.start % arena !== 0n || run.end % arena !== 0n) return undefined;
      // The heap has used part of its arenas; a run that is all PROT_NONE is someone else's reservation.
      if (!p.maps.some((m) => isAnonymous(m) && m.perms.startsWith('rw') && run.start <= m.start && m.end <= run.end)) return undefined;
      const index = ((address - BigInt(GO_HEAP.arenaBaseOffset[p.arch])) & ((1n << 64n) - 1n)) / arena;
      const reserved = mapping.perms === '---p';
      return {
        kind: 'go-heap',
        summary: `The Go heap, arena ${index} (${sizeText(arena)} arenas; the runtime's arenaIndex): ${reserved ? 'reserved address space the heap has not used yet (PROT_NONE)' : 'memory the heap has mapped'}.`,
        details: [
          `Recognised by the runtime's layout (Go ${GO_HEAP.version}, ${GO_HEAP.sources[0]}): anonymous memory reserved in whole ${sizeText(arena)} arenas; this region spans ${hex(run.start)}–${hex(run.end)}.`,
          GO_HEAP.randomizedHeapBaseByDefault
            ? `Since Go 1.26 the heap's base is random by default (GOEXPERIMENT randomizedheapbase64, ${GO_HEAP.sources[1] ?? 'internal/buildcfg'}); without it the arenas start at the hints i<<${GO_HEAP.hints[p.arch].shift} | ${GO_HEAP.hints[p.arch].base} (${p.arch}).`
            : `The arenas start at the hints i<<${GO_HEAP.hints[p.arch].shift} | ${GO_HEAP.hints[p.arch].base} (${p.arch}).`,
          'Goroutine stacks, and the system and signal stacks of a Go thread without cgo, are allocated here too.',
        ],
        unknown: ['The object, its type and its span class: they are in the runtime\'s own tables (mheap_.arenas → heapArena.spans → mspan.spanclass), which /proc does not show; a dlv session can read them.'],
      };
    },
  },
  {
    name: 'brk heap',
    needsMaps: true,
    judge({ mapping, p }) {
      if (mapping?.path !== '[heap]') return undefined;
      return { kind: 'brk-heap', summary: `The brk heap ([heap]): C malloc's memory.${p.isGo ? ' A Go program without cgo does not allocate here; the Go heap is in anonymous arenas.' : ''}` };
    },
  },
  {
    name: 'gVisor\'s memory file, KVM vCPUs',
    needsMaps: true,
    judge({ mapping }) {
      const path = mapping?.path ?? '';
      if (path.startsWith('/memfd:runsc-memory')) return { kind: 'gvisor-memory-file', summary: 'gVisor\'s memory file (memfd "runsc-memory", runsc/boot/loader.go createMemoryFile): the sandbox application\'s memory, and the Sentry\'s own allocations from it.' };
      const vcpu = /^anon_inode:kvm-vcpu:(\d+)/.exec(path);
      if (vcpu) return { kind: 'kvm-vcpu', summary: `KVM vCPU ${vcpu[1]}'s shared run structure (struct kvm_run, the mmap of the vCPU file descriptor): where KVM_RUN reports why the guest exited.` };
      return undefined;
    },
  },
  {
    name: 'a file, shared memory, anonymous memory',
    needsMaps: true,
    judge({ address, mapping }) {
      if (!mapping) return undefined;
      const fileOffset = mapping.offset + (address - mapping.start);
      if (mapping.path.startsWith('/memfd:') || mapping.path.startsWith('/dev/') || mapping.path.startsWith('anon_inode:') || mapping.path.startsWith('/SYSV')) {
        return { kind: 'shared-memory', summary: `Mapped from ${mapping.path} (${mapping.perms.endsWith('s') ? 'shared' : 'private'}), at offset ${hex(fileOffset)}.` };
      }
      if (mapping.path) return { kind: 'file', summary: `Mapped from the file ${mapping.path}, at file offset ${hex(fileOffset)}${/\.so(\.|$)/.test(mapping.path) ? ' (a shared library)' : ''}.` };
      return {
        kind: 'anonymous',
        summary: `Anonymous memory (${mapping.perms === '---p' ? 'PROT_NONE: reserved, not usable' : mapping.perms}): an mmap without a file.`,
        unknown: ['Who mapped it and what it holds: /proc/PID/maps does not say.'],
      };
    },
  },
];

export function explainAddress(address: bigint, p: ProcessFacts, origin: string): AddressExplanation {
  const mapping = p.maps ? mappingAt(p.maps, address) : undefined;
  const c: Context = { address, p, mapping };
  let verdict: Verdict | undefined;
  for (const rule of RULES) {
    if (rule.needsMaps && !p.maps) continue;
    verdict = rule.judge(c);
    if (verdict) break;
  }
  if (!verdict) verdict = p.maps ? unmapped(p) : notInBinary(address, p);
  const details = [...(verdict.details ?? [])];
  const note = noReservationNote(p);
  if (note && (verdict.kind === 'anonymous' || verdict.kind === 'unmapped' || verdict.kind === 'go-heap')) details.push(note);
  return {
    address: hex(address),
    kind: verdict.kind,
    summary: verdict.summary,
    section: verdict.section,
    mapping: mapping ? { range: `${hex(mapping.start)}-${hex(mapping.end)}`, perms: mapping.perms, offset: hex(mapping.offset), path: mapping.path || '(anonymous)', size: sizeText(mapping.end - mapping.start) } : undefined,
    details,
    unknown: verdict.unknown ?? [],
    origin,
  };
}

function unmapped(p: ProcessFacts): Verdict {
  return { kind: 'unmapped', summary: `Not mapped in process ${p.pid ?? ''}: no mapping in its /proc/PID/maps holds it. Reading it would fault (SIGSEGV); a pointer with this value is stale, corrupt, or from another process.` };
}

/** Without /proc (a remote board): what the ELF and the layouts of Go and gVisor allow, and no more. */
function notInBinary(address: bigint, p: ProcessFacts): Verdict {
  const details: string[] = [];
  const hint = GO_HEAP.hints[p.arch];
  const low = address & ((1n << BigInt(hint.shift)) - 1n);
  if (p.isGo && low >= BigInt(hint.base) && low - BigInt(hint.base) < 1n << 36n) {
    details.push(`It fits the Go runtime's fixed arena hints (i<<${hint.shift} | ${hint.base}, ${p.arch}; ${GO_HEAP.sources[0].split(' (')[0]}): if the program was built without a random heap base (before Go 1.26, or GOEXPERIMENT=norandomizedheapbase64), it is likely Go heap.`);
  }
  return {
    kind: 'unknown',
    summary: `Not in ${p.exePath ?? 'the program'}'s sections: it is in memory mapped at run time (heap, a stack, the vDSO, an mmap), which the ELF cannot tell apart.`,
    details,
    unknown: ['Which mapping holds it: that needs the process\'s /proc/PID/maps, on the machine it runs on (e.g. bluepill-lens explain --pid PID ADDRESS there).'],
  };
}

export function addressExplanationText(e: AddressExplanation): string {
  const lines = [`${e.address}  ${e.kind}`, `  what         ${e.summary}`];
  if (e.mapping) lines.push(`  mapping      ${e.mapping.range} ${e.mapping.perms} offset ${e.mapping.offset} ${e.mapping.path} (${e.mapping.size})`);
  if (e.section) lines.push(`  section      ${e.section}`);
  for (const d of e.details) lines.push(`  detail       ${d}`);
  for (const u of e.unknown) lines.push(`  unknown      ${u}`);
  lines.push(`  (from ${e.origin})`);
  return lines.join('\n');
}

export function addressExplanationMarkdown(e: AddressExplanation): string {
  const lines = [`## ${e.address} · ${e.kind}`, '', e.summary, ''];
  if (e.mapping) lines.push(`Mapping: \`${e.mapping.range}\` \`${e.mapping.perms}\` offset \`${e.mapping.offset}\` ${e.mapping.path} (${e.mapping.size})`, '');
  if (e.section) lines.push(`Section: \`${e.section}\``, '');
  if (e.details.length) lines.push(...e.details.map((d) => `- ${d}`), '');
  if (e.unknown.length) lines.push('Not known:', ...e.unknown.map((u) => `- ${u}`), '');
  lines.push(`_From ${e.origin}._`);
  return lines.join('\n');
}
