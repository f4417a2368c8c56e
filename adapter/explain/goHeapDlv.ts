// What a stopped dlv session can say of a Go heap address: the runtime's own tables, read with
// plain variable reads (no function calls): mheap_.arenas[0][arena] → heapArena.spans[page] →
// mspan (state, spanclass, elemsize, startAddr), and the object's type where the runtime records
// one (goObjectType.ts). The layout is the Go runtime's (see the generated facts).
import { GO_HEAP } from './addressFacts.generated';
import type { AddressExplanation, Arch } from './addressKinds';

import { dlvInteger, type Evaluate } from './dlvValue';
import { objectType } from './goObjectType';

export { dlvInteger, type Evaluate } from './dlvValue';

export interface GoHeapSpan {
  arena: bigint;
  /** The arena is one the heap has (mheap_.arenas holds it). */
  inHeap: boolean;
  span?: {
    state: number;
    stateWords: string;
    spanclass?: number;
    sizeclass?: number;
    noscan?: boolean;
    elemsize?: bigint;
    startAddr?: bigint;
    /** The object holding the address: its start and its index in the span. */
    object?: { start: bigint; index: bigint };
    /** The object's Go type, where the runtime records it (see goObjectType.ts). */
    type?: string;
  };
  /** dlv could not read the runtime's tables (a running program): nothing is said either way. */
  unreadable?: boolean;
  /** Sentences for the explanation; and what stayed unknown. */
  details: string[];
  unknown: string[];
}

export function arenaIndex(address: bigint, arch: Arch): bigint {
  return ((address - BigInt(GO_HEAP.arenaBaseOffset[arch])) & ((1n << 64n) - 1n)) / BigInt(GO_HEAP.heapArenaBytes);
}

export function spanExpression(address: bigint, arch: Arch): string {
  const arena = arenaIndex(address, arch);
  const page = (address / BigInt(GO_HEAP.pageBytes)) % (BigInt(GO_HEAP.heapArenaBytes) / BigInt(GO_HEAP.pageBytes));
  return `runtime.mheap_.arenas[${GO_HEAP.arenaL1Bits === 0 ? 0 : 'L1'}][${arena}].spans[${page}]`;
}

const isNil = (v: string | undefined) => v === undefined || v === 'nil' || /\bnil$/.test(v) || /\(0x0\)$/.test(v);


export async function goHeapSpan(address: bigint, arch: Arch, evaluate: Evaluate): Promise<GoHeapSpan> {
  const arena = arenaIndex(address, arch);
  const details: string[] = [];
  const unknown: string[] = [];
  const arenaExpr = `runtime.mheap_.arenas[0][${arena}]`;
  const arenaValue = await evaluate(arenaExpr);
  if (arenaValue === undefined) {
    // dlv reads nothing while the program runs (or outside a Go program): no verdict either way.
    return { arena, inHeap: false, unreadable: true, details: [], unknown: ['The object, its type and its span class: dlv could not read the runtime\'s tables (runtime.mheap_). Pause the program (a stopped session), then explain the address again.'] };
  }
  if (isNil(arenaValue)) {
    return { arena, inHeap: false, details: [`dlv: ${arenaExpr} is ${arenaValue ?? 'unreadable'}: not an arena of the Go heap.`], unknown };
  }
  const spanExpr = spanExpression(address, arch);
  if (isNil(await evaluate(spanExpr))) {
    details.push(`dlv: the Go heap's arena ${arena}, but no span holds this page (${spanExpr} is nil): free or never-used heap memory.`);
    return { arena, inHeap: true, details, unknown };
  }
  const [state, spanclass, elemsize, startAddr] = await Promise.all([
    evaluate(`${spanExpr}.state.s.${GO_HEAP.spanState.field}`),
    evaluate(`${spanExpr}.spanclass`),
    evaluate(`${spanExpr}.elemsize`),
    evaluate(`${spanExpr}.startAddr`),
  ]);
  const stateNumber = Number(dlvInteger(state) ?? -1n);
  const stateWords = stateNumber === 1 ? `mSpanInUse (${GO_HEAP.spanState[1]})` : stateNumber === 2 ? `mSpanManual (${GO_HEAP.spanState[2]})` : stateNumber === 0 ? 'mSpanDead (free)' : `state ${state ?? 'unreadable'}`;
  const sc = dlvInteger(spanclass);
  const size = dlvInteger(elemsize);
  const start = dlvInteger(startAddr);
  const span: NonNullable<GoHeapSpan['span']> = { state: stateNumber, stateWords };
  if (sc !== undefined) Object.assign(span, { spanclass: Number(sc), sizeclass: Number(sc >> 1n), noscan: (sc & 1n) === 1n });
  if (size !== undefined) span.elemsize = size;
  if (start !== undefined) span.startAddr = start;
  if (stateNumber === 1 && size && start !== undefined && address >= start) {
    const index = (address - start) / size;
    span.object = { index, start: start + index * size };
  }
  details.push(`dlv: the Go heap's arena ${arena}, in a span at ${start !== undefined ? `0x${start.toString(16)}` : '?'}: ${stateWords}.`);
  if (stateNumber === 2) {
    details.push('A manually managed span: in practice a goroutine stack (or a Go thread\'s system or signal stack without cgo).');
    const owner = await stackOwner(address, evaluate);
    if (owner.kind === 'goroutine') details.push(`dlv: the stack of goroutine ${owner.id} (runtime.allgs: its stack is 0x${owner.lo.toString(16)}–0x${owner.hi.toString(16)}).`);
    else if (owner.kind !== 'unknown') details.push(`dlv: the ${owner.kind === 'g0' ? 'system (g0)' : 'signal (gsignal)'} stack of thread M${owner.id} (runtime.allm: 0x${owner.lo.toString(16)}–0x${owner.hi.toString(16)}), not a goroutine's.`);
    else unknown.push(`Whose stack it is: ${owner.why}.`);
  }
  if (stateNumber === 1) {
    details.push(`Span class ${span.spanclass ?? '?'} (size class ${span.sizeclass ?? '?'}, ${span.noscan ? 'noscan: holds no pointers' : 'holds pointers'}), objects of ${size ?? '?'} bytes.`);
    if (span.object) details.push(`The object at 0x${span.object.start.toString(16)} (index ${span.object.index} in its span), +${address - span.object.start} bytes in.`);
    if (span.object && span.sizeclass !== undefined && span.noscan !== undefined && size !== undefined) {
      const type = await objectType(evaluate, { expression: spanExpr, sizeclass: span.sizeclass, noscan: span.noscan, elemsize: size, object: span.object });
      if ('name' in type) {
        span.type = type.name;
        details.push(`dlv: its type is ${type.name} (${type.how}).`);
      } else unknown.push(type.unknown);
    }
  }
  return { arena, inHeap: true, span, details, unknown };
}

/** Goroutines and threads searched at most, for a stack's owner (runsc has hundreds; each is one read). */
export const MAX_STACK_OWNERS = 4096;
const BATCH = 64;

export type StackOwner =
  | { kind: 'goroutine'; id: bigint; lo: bigint; hi: bigint }
  | { kind: 'g0' | 'gsignal'; id: bigint; lo: bigint; hi: bigint }
  | { kind: 'unknown'; why: string };

/** dlv's rendering of a runtime.stack: "runtime.stack {lo: 824634392576, hi: 824634400768}". */
function stackBounds(v: string | undefined): { lo: bigint; hi: bigint } | undefined {
  const m = v === undefined ? undefined : /\blo: (\d+), hi: (\d+)/.exec(v);
  return m ? { lo: BigInt(m[1]), hi: BigInt(m[2]) } : undefined;
}

/**
 * Whose stack holds `address`: a goroutine's (runtime.allgs, g.stack.lo ≤ address < g.stack.hi),
 * else a thread's g0 or signal stack (runtime.allm's g0 and gsignal, which allgs does not hold).
 * Plain variable reads, in batches; at most MAX_STACK_OWNERS of each.
 */
export async function stackOwner(address: bigint, evaluate: Evaluate): Promise<StackOwner> {
  const inside = (b: { lo: bigint; hi: bigint } | undefined) => b !== undefined && b.lo <= address && address < b.hi;
  const count = dlvInteger(await evaluate('len(runtime.allgs)'));
  if (count === undefined) return { kind: 'unknown', why: 'dlv could not read runtime.allgs (a session that is not stopped, or not a Go program)' };
  const n = Number(count < BigInt(MAX_STACK_OWNERS) ? count : BigInt(MAX_STACK_OWNERS));
  for (let from = 0; from < n; from += BATCH) {
    const indexes = Array.from({ length: Math.min(BATCH, n - from) }, (_, k) => from + k);
    const bounds = await Promise.all(indexes.map((i) => evaluate(`runtime.allgs[${i}].stack`).then(stackBounds)));
    const hit = bounds.findIndex(inside);
    if (hit >= 0) {
      const id = dlvInteger(await evaluate(`runtime.allgs[${indexes[hit]}].goid`));
      if (id !== undefined) return { kind: 'goroutine', id, ...bounds[hit]! };
    }
  }
  // The threads: runtime.allm, linked through alllink.
  let m = dlvInteger(await evaluate('uintptr(unsafe.Pointer(runtime.allm))'));
  for (let seen = 0; m && seen < MAX_STACK_OWNERS; seen++) {
    const at = `(*runtime.m)(0x${m.toString(16)})`;
    const [g0, gsignal, id, next] = await Promise.all([evaluate(`${at}.g0.stack`), evaluate(`${at}.gsignal.stack`), evaluate(`${at}.id`), evaluate(`uintptr(unsafe.Pointer(${at}.alllink))`)]);
    const mid = dlvInteger(id);
    if (mid !== undefined && inside(stackBounds(g0))) return { kind: 'g0', id: mid, ...stackBounds(g0)! };
    if (mid !== undefined && inside(stackBounds(gsignal))) return { kind: 'gsignal', id: mid, ...stackBounds(gsignal)! };
    m = dlvInteger(next);
  }
  return { kind: 'unknown', why: `no goroutine's stack (${n === Number(count) ? `all ${n}` : `the first ${n} of ${count}`} in runtime.allgs) and no thread's g0 or signal stack holds it: a stack freed, or memory of another user of the span` };
}

/** The explanation with what dlv read: for a heap address (or a thread stack in the heap) its span; for an address /proc could not place (remote), whether it is heap. */
export function withDlvHeapFacts(e: AddressExplanation, s: GoHeapSpan): AddressExplanation {
  if (s.unreadable) return e.kind === 'go-heap' ? { ...e, unknown: [...e.unknown.filter((u) => !/a dlv session can read them/.test(u)), ...s.unknown] } : e;
  if (!s.inHeap) return e.kind === 'go-heap' ? { ...e, details: [...e.details, ...s.details] } : e;
  const spanUnknown = /span class/;
  // A thread's stack found by its SP stays one: dlv adds that the memory is a stack span of the heap.
  const named = e.kind === 'go-heap' || e.kind === 'thread-stack';
  return {
    ...e,
    kind: e.kind === 'thread-stack' ? e.kind : 'go-heap',
    summary: named ? e.summary : `The Go heap, arena ${s.arena} (read through dlv: the runtime's mheap_.arenas holds it).`,
    details: [...e.details, ...s.details],
    unknown: [...e.unknown.filter((u) => !(s.span && spanUnknown.test(u)) && !/Which mapping holds it/.test(u)), ...s.unknown],
  };
}
