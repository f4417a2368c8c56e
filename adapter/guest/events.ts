// What each KVM trace event says about a guest, read from its text. The table says what kind
// of event it is and how to find its reason; where the guest PC sits in the text is read from
// the kernel's own format file at run time (each kernel and architecture prints it its own way),
// with the layouts seen on x86 6.18 and arm64 6.1 as the default.
import type { TraceLine } from './traceLine';

export type GuestEventKind =
  | 'entry'
  | 'exit'
  | 'userspace-exit'
  | 'emulate'
  | 'exception'
  | 'page-fault'
  | 'mmio'
  | 'hypercall'
  /** KVM walking the guest's page tables (kvmmmu): the address, each level's entry, the error. */
  | 'walk'
  | 'walk-entry'
  | 'walk-error'
  | 'other';

export interface GuestEvent {
  tid: number;
  timeUs: number;
  /** The kernel's event name, e.g. kvm_exit. */
  event: string;
  kind: GuestEventKind;
  /** Guest PC in lower-case hex without 0x (kept as text: most events are only counted). */
  pc?: string;
  /** Exit reason, exception name, MMIO direction, hypercall number. */
  reason?: string;
  /** The rest worth showing: fault address, instruction bytes, MMIO address. */
  detail?: string;
}

interface EventRule {
  kind: GuestEventKind;
  reason?: (payload: string) => string | undefined;
  detail?: (payload: string) => string | undefined;
}

/** Text between `start` and `end` (or the end of the line). */
function between(s: string, start: string, end?: string): string | undefined {
  const i = s.indexOf(start);
  if (i < 0) return undefined;
  const from = i + start.length;
  const j = end === undefined ? -1 : s.indexOf(end, from);
  return s.slice(from, j < 0 ? undefined : j);
}

const word = (s: string, start: string) => between(s, start, ' ');

/** arm64: "TRAP DABT_LOW" (the exception class says why), "IRQ" (an interrupt: its class is meaningless). */
function arm64ExitReason(p: string): string | undefined {
  const type = p.slice(0, Math.max(0, p.indexOf(':')));
  const ec = between(p, ' (', ')');
  return type === 'TRAP' && ec ? `TRAP ${ec}` : type || ec;
}

export const EVENT_RULES: Record<string, EventRule> = {
  kvm_entry: { kind: 'entry' },
  // x86: "vcpu 0 reason EXTERNAL_INTERRUPT rip 0x…"; arm64: "TRAP: HSR_EC: 0x0024 (DABT_LOW), PC: 0x…"
  kvm_exit: { kind: 'exit', reason: (p) => between(p, 'reason ', ' rip ') ?? arm64ExitReason(p) },
  kvm_userspace_exit: { kind: 'userspace-exit', reason: (p) => between(p, 'reason ', ' (') },
  // "csbase:rip:bytes (mode)[ failed]"
  kvm_emulate_insn: { kind: 'emulate', reason: (p) => (p.endsWith(' failed') ? 'failed' : 'emulated'), detail: (p) => p.slice(p.indexOf(':', p.indexOf(':') + 1) + 1, p.lastIndexOf(' (')) },
  // "#PF (0x2)", "#GP (0x0) [reinjected]", "#UD"
  kvm_inj_exception: { kind: 'exception', reason: (p) => p.split(' ')[0], detail: (p) => between(p, '(', ')') },
  kvm_page_fault: { kind: 'page-fault', reason: () => 'page fault', detail: (p) => word(p, 'address ') },
  kvm_mmio: { kind: 'mmio', reason: (p) => word(p, 'mmio '), detail: (p) => word(p, 'gpa ') },
  kvm_hypercall: { kind: 'hypercall', reason: (p) => word(p, 'nr ') },
  // kvmmmu: "addr ffff800000f620c2 pferr 2 W", "pte 800023e1400000e3 level 3", "pferr 9 P|RSVD".
  // Walks are many and rarely fail: their text is kept whole (detail) and read only for a failed one (walkFields).
  kvm_mmu_pagetable_walk: { kind: 'walk', detail: (p) => p },
  kvm_mmu_paging_element: { kind: 'walk-entry', detail: (p) => p },
  kvm_mmu_walker_error: { kind: 'walk-error', reason: (p) => between(p, 'pferr ')?.trim() },
  kvm_pio: { kind: 'other', reason: (p) => p.split(' ')[0] },
  kvm_msr: { kind: 'other', reason: (p) => p.split(' ')[0], detail: (p) => p.split(' ')[1] },
  kvm_cr: { kind: 'other', reason: (p) => p.split(' ')[0] },
  // arm64: "ipa 0xa18000, hsr 0x93c0804f, hxfar 0xffff000000a18000, pc 0x…": the abort's whole ESR (exceptionLevel.ts reads it).
  kvm_guest_fault: { kind: 'other', reason: () => 'guest fault', detail: (p) => between(p, 'hsr ', ',') },
};

/** The address of a kvm_mmu_pagetable_walk text, the entry and level of a kvm_mmu_paging_element text. */
export function walkFields(walk: string | undefined, entry: string | undefined): { address?: string; pte?: string; level?: number } {
  const level = entry !== undefined ? between(entry, 'level ') : undefined;
  return { address: walk !== undefined ? word(walk, 'addr ') : undefined, pte: entry !== undefined ? word(entry, 'pte ') : undefined, level: level !== undefined ? Number(level) : undefined };
}

/** Where each event prints the guest PC (the text just before its hex digits). */
export type PcMarkers = Record<string, string>;

export const DEFAULT_PC_MARKERS: PcMarkers = {
  // x86 (6.18): "rip 0x%lx" / "%x:%llx:" ; arm64 (6.1): "PC: 0x%016lx"
  kvm_entry: 'rip 0x',
  kvm_exit: 'rip 0x',
  kvm_page_fault: 'rip 0x',
  kvm_emulate_insn: ':',
};

const PC_FIELDS = ['rip', 'guest_rip', 'vcpu_pc', 'pc'];

/**
 * From an events/kvm/NAME/format file: the literal text printed just before the guest PC, e.g.
 * "rip 0x" for `"vcpu %u, rip 0x%lx …", REC->vcpu_id, REC->rip` or "PC: 0x" for arm64's kvm_exit.
 * Undefined when the event prints no PC.
 */
export function pcMarkerFromFormat(format: string): string | undefined {
  const m = /^print fmt: "((?:[^"\\]|\\.)*)",(.*)$/m.exec(format);
  if (!m) return undefined;
  const [, text, args] = m;
  const conversions = [...text.matchAll(/%[-#0-9.]*(?:ll|l|h|hh|z)?[a-zA-Z]/g)].filter((c) => c[0] !== '%%');
  const argNames = splitTopLevel(args).map((a) => /^REC->(\w+)$/.exec(a.trim())?.[1]);
  const index = argNames.findIndex((a) => a !== undefined && PC_FIELDS.includes(a));
  if (index < 0 || index >= conversions.length) return undefined;
  const conv = conversions[index];
  const before = text.slice(index > 0 ? conversions[index - 1].index! + conversions[index - 1][0].length : 0, conv.index);
  // The marker must be findable: the last words before the number ("rip 0x", "PC: 0x", ":").
  const marker = before.replace(/^.*?([A-Za-z_]*:? ?(?:0x)?)$/, '$1') || before;
  // "%#016lx" prints the 0x itself (arm64's kvm_guest_fault: "pc 0x00000000401a20").
  return conv[0].includes('#') && !marker.endsWith('0x') ? `${marker}0x` : marker;
}

/** Splits "a, f(b, c), d" at the commas outside parentheses, braces and string literals. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

function hexAfter(payload: string, marker: string): string | undefined {
  const i = payload.indexOf(marker);
  if (i < 0) return undefined;
  let from = i + marker.length;
  let end = from;
  while (end < payload.length && isHex(payload.charCodeAt(end))) end++;
  // Leading zeros of %016lx would make one address look like two.
  while (from < end - 1 && payload.charCodeAt(from) === 48) from++;
  return end > from ? payload.slice(from, end).toLowerCase() : undefined;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** One trace line read as a guest event; events the table does not know count as 'other'. */
export function toGuestEvent(line: TraceLine, markers: PcMarkers = DEFAULT_PC_MARKERS): GuestEvent {
  const rule = EVENT_RULES[line.event];
  const marker = markers[line.event];
  const event: GuestEvent = { tid: line.tid, timeUs: line.timeUs, event: line.event, kind: rule?.kind ?? 'other' };
  if (marker !== undefined) event.pc = hexAfter(line.payload, marker);
  if (rule?.reason) event.reason = rule.reason(line.payload);
  if (rule?.detail) event.detail = rule.detail(line.payload);
  return event;
}
