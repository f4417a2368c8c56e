// Mutations of real DAP messages for fuzzing: a field replaced by any JSON value or
// removed, a flipped byte, a truncated body, a wrong Content-Length. Each mutation is
// drawn by fast-check, so a failure shrinks and reports its seed.
import fc from 'fast-check';
import { frame } from '../../adapter/dap/framing';

export type Mutation =
  | { kind: 'replace'; pathPick: number; value: unknown }
  | { kind: 'delete'; pathPick: number }
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; delta: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), pathPick: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pathPick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -8, max: 8 }).filter((d) => d !== 0) }) },
);

/** Every path to a value inside `value` (the root excluded). */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  }
  return out;
}

/** The mutated frame's bytes, and whether its framing is still intact. */
export function mutate(message: object, m: Mutation): { bytes: string; intactFraming: boolean } {
  if (m.kind === 'replace' || m.kind === 'delete') {
    const copy = structuredClone(message) as Record<string, unknown>;
    const all = paths(copy);
    const path = all[m.pathPick % all.length];
    let parent: Record<string | number, unknown> = copy;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else parent[last] = m.value;
    return { bytes: frame(JSON.stringify(copy)), intactFraming: true };
  }
  const json = JSON.stringify(message);
  if (m.kind === 'flip') {
    const at = m.at % json.length;
    return { bytes: frame(json.slice(0, at) + m.char + json.slice(at + 1)), intactFraming: true };
  }
  if (m.kind === 'truncate') return { bytes: frame(json.slice(0, m.at % json.length)), intactFraming: true };
  const length = Math.max(0, Buffer.byteLength(json) + m.delta);
  return { bytes: `Content-Length: ${length}\r\n\r\n${json}`, intactFraming: false };
}
