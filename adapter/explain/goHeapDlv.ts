// What a stopped dlv session can say of a Go heap address: the runtime's own tables, read with
// plain variable reads (no function calls): mheap_.arenas[0][arena] → heapArena.spans[page] →
// mspan (state, spanclass, elemsize, startAddr, largeType). The layout is the Go runtime's
// (see the generated facts); the object's type is known only for large objects (largeType).
import { GO_HEAP } from './addressFacts.generated';
import type { AddressExplanation, Arch } from './addressKinds';

/** Evaluates a Go expression in the stopped session; undefined when dlv cannot (an error). */
export type Evaluate = (expression: string) => Promise<string | undefined>;

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
    largeType?: string;
  };
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

/** An integer as dlv shows it: "37", "runtime.spanClass(37)", or a uintptr's "14426966769664 = 0xd1f0a3ac000". */
export function dlvInteger(v: string | undefined): bigint | undefined {
  const m = v === undefined ? undefined : /^(?:[\w.]+\()?(0x[0-9a-f]+|\d+)\)?(?: = 0x[0-9a-f]+)?$/i.exec(v.trim());
  return m ? BigInt(m[1]) : undefined;
}

export async function goHeapSpan(address: bigint, arch: Arch, evaluate: Evaluate): Promise<GoHeapSpan> {
  const arena = arenaIndex(address, arch);
  const details: string[] = [];
  const unknown: string[] = [];
  const arenaExpr = `runtime.mheap_.arenas[0][${arena}]`;
  const arenaValue = await evaluate(arenaExpr);
  if (isNil(arenaValue)) {
    return { arena, inHeap: false, details: [`dlv: ${arenaExpr} is ${arenaValue ?? 'unreadable'}: not an arena of the Go heap.`], unknown };
  }
  const spanExpr = spanExpression(address, arch);
  if (isNil(await evaluate(spanExpr))) {
    details.push(`dlv: the Go heap's arena ${arena}, but no span holds this page (${spanExpr} is nil): free or never-used heap memory.`);
    return { arena, inHeap: true, details, unknown };
  }
  const [state, spanclass, elemsize, startAddr, largeType] = await Promise.all([
    evaluate(`${spanExpr}.state.s.${GO_HEAP.spanState.field}`),
    evaluate(`${spanExpr}.spanclass`),
    evaluate(`${spanExpr}.elemsize`),
    evaluate(`${spanExpr}.startAddr`),
    evaluate(`${spanExpr}.largeType`),
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
  if (largeType && !isNil(largeType)) span.largeType = largeType;
  details.push(`dlv: the Go heap's arena ${arena}, in a span at ${start !== undefined ? `0x${start.toString(16)}` : '?'}: ${stateWords}.`);
  if (stateNumber === 2) details.push('A manually managed span: in practice a goroutine stack (or a Go thread\'s system or signal stack without cgo); which goroutine\'s, dlv\'s goroutine list can say (g.stack.lo ≤ address < g.stack.hi).');
  if (stateNumber === 1) {
    details.push(`Span class ${span.spanclass ?? '?'} (size class ${span.sizeclass ?? '?'}, ${span.noscan ? 'noscan: holds no pointers' : 'holds pointers'}), objects of ${size ?? '?'} bytes.`);
    if (span.object) details.push(`The object at 0x${span.object.start.toString(16)} (index ${span.object.index} in its span), +${address - span.object.start} bytes in.`);
    if (span.largeType) details.push(`Its type (the large object's malloc header, mspan.largeType): ${span.largeType}.`);
    else unknown.push('The object\'s type: only large objects record it in their span (largeType); a small object\'s type is in no table dlv can read by address.');
  }
  return { arena, inHeap: true, span, details, unknown };
}

/** The explanation with what dlv read: for a heap address (or a thread stack in the heap) its span; for an address /proc could not place (remote), whether it is heap. */
export function withDlvHeapFacts(e: AddressExplanation, s: GoHeapSpan): AddressExplanation {
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
