// The Go type of a heap object, as the runtime itself records it (Go 1.22 and later; see the
// generated facts): an object of more than MinSizeForMallocHeader bytes in a span with pointers
// starts with a *_type header; a large object's type is its span's largeType; smaller objects and
// objects without pointers keep no type at all. The type's name is read as the runtime reads it:
// at moduledata.types + Type.Str, a flag byte, a uvarint length and the bytes.
import { GO_HEAP } from './addressFacts.generated';
import { parseWordArray } from '../bluepill/ucontext';
import { dlvInteger as integer, type Evaluate } from './dlvValue';

const FACTS = GO_HEAP.objectType;
/** dlv returns at most this many elements of an array in one evaluate (its maxArrayValues). */
const PER_READ = 64;
/** Longer names are cut: a type name of a kilobyte is a generic instantiation nobody reads whole. */
const MAX_NAME = 1024;

export interface ObjectSpan {
  /** The span's expression (runtime.mheap_.arenas[…].spans[…]). */
  expression: string;
  sizeclass: number;
  noscan: boolean;
  elemsize: bigint;
  /** The object's start (its slot in the span) and its index there. */
  object: { start: bigint; index: bigint };
}

export type ObjectType = { name: string; how: string } | { unknown: string };

const hex = (n: bigint) => `0x${n.toString(16)}`;

async function readBytes(evaluate: Evaluate, address: bigint, count: number): Promise<number[] | undefined> {
  const out: number[] = [];
  for (let at = 0; at < count; at += PER_READ) {
    const n = Math.min(PER_READ, count - at);
    const text = await evaluate(`*(*[${n}]uint8)(uintptr(${hex(address + BigInt(at))}))`);
    const values = text === undefined ? undefined : parseWordArray(text);
    if (!values || values.length !== n) return undefined;
    out.push(...values.map(Number));
  }
  return out;
}

/** A type's name, from the type descriptor at `type`: only one of the program's own (moduledata.types..etypes). */
export async function typeName(evaluate: Evaluate, type: bigint): Promise<string | undefined> {
  const [types, etypes] = (await Promise.all([evaluate('runtime.firstmoduledata.types'), evaluate('runtime.firstmoduledata.etypes')])).map(integer);
  if (types === undefined || etypes === undefined || type < types || type >= etypes) return undefined;
  const descriptor = await readBytes(evaluate, type, FACTS.typeStrOffset + 4);
  if (!descriptor) return undefined;
  const str = Buffer.from(descriptor).readInt32LE(FACTS.typeStrOffset);
  const tflag = descriptor[FACTS.typeTFlagOffset];
  const at = types + BigInt(str);
  const head = await readBytes(evaluate, at, 1 + 10);
  if (!head) return undefined;
  // A uvarint length after the flag byte.
  let length = 0;
  let i = 1;
  for (let shift = 0; i < head.length; i++, shift += 7) {
    length += (head[i] & 0x7f) * 2 ** shift;
    if ((head[i] & 0x80) === 0) break;
  }
  if (i >= head.length) return undefined;
  const bytes = await readBytes(evaluate, at + BigInt(i + 1), Math.min(length, MAX_NAME));
  if (!bytes) return undefined;
  const name = Buffer.from(bytes).toString('utf8') + (length > MAX_NAME ? '…' : '');
  return tflag & FACTS.tflagExtraStar ? name.slice(1) : name;
}

/** Whether the span's slot `index` is free (the runtime's mspan.isFree: at or past freeindex, its allocBits bit clear). */
async function slotIsFree(evaluate: Evaluate, span: ObjectSpan): Promise<boolean | undefined> {
  const [freeindex, allocBits] = (await Promise.all([evaluate(`${span.expression}.freeindex`), evaluate(`uintptr(unsafe.Pointer(${span.expression}.allocBits))`)])).map(integer);
  if (freeindex === undefined || !allocBits) return undefined;
  if (span.object.index < freeindex) return false;
  const byte = await readBytes(evaluate, allocBits + span.object.index / 8n, 1);
  return byte ? (byte[0] & (1 << Number(span.object.index % 8n))) === 0 : undefined;
}

export async function objectType(evaluate: Evaluate, span: ObjectSpan): Promise<ObjectType> {
  if (span.noscan) return { unknown: 'The object\'s type: its span holds objects without pointers, for which the runtime keeps no type.' };
  let type: bigint | undefined;
  let how: string;
  if (span.sizeclass === 0) {
    type = integer(await evaluate(`uintptr(unsafe.Pointer(${span.expression}.largeType))`));
    how = 'a large object: its span\'s largeType';
  } else {
    if (span.elemsize <= BigInt(FACTS.minSizeForMallocHeader)) {
      return { unknown: `The object's type: objects of ${FACTS.minSizeForMallocHeader} bytes or less keep only pointer bits in their span, no type.` };
    }
    const free = await slotIsFree(evaluate, span);
    if (free) return { unknown: 'The object\'s type: its slot in the span is free (no object lives there now).' };
    const header = await readBytes(evaluate, span.object.start, FACTS.mallocHeaderBytes);
    type = header ? Buffer.from(header).readBigUInt64LE(0) : undefined;
    how = `its malloc header: the first ${FACTS.mallocHeaderBytes} bytes of its slot at ${hex(span.object.start)}, so the value starts ${FACTS.mallocHeaderBytes} bytes in`;
  }
  if (!type) return { unknown: 'The object\'s type: dlv could not read where the runtime keeps it.' };
  const name = await typeName(evaluate, type);
  if (!name) return { unknown: `The object's type: its descriptor at ${hex(type)} is not among the program's own (a type made at run time, or a stale header).` };
  return { name, how };
}
