// Checks a JSON value against the shape a Go struct of dlv's DAP library would decode
// it into. Go's decoder fails the whole message on a field of the wrong JSON type (a
// string for an int, 20.5 for an int, an array for a struct), matches keys without
// regard to case, accepts null for anything and ignores unknown keys; so do we.

/** 'int': a Go int (whole, within 64 bits). 'object': any JSON object (a map). */
export type Shape = 'int' | 'string' | 'boolean' | 'any' | 'object' | ['array', Shape] | ['ref', string] | ['union', ...Shape[]];

export type Types = Record<string, Record<string, Shape>>;

const INT64_MAX = 2 ** 63;

/** What is wrong with `value` as `shape`, as "\"path\" must be ..., but it is ...", or undefined. */
export function shapeProblem(value: unknown, shape: Shape, types: Types, where = ''): string | undefined {
  if (value === null || value === undefined || shape === 'any') return undefined;
  if (shape === 'int') {
    return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < INT64_MAX ? undefined : mismatch(where, 'a whole number', value);
  }
  if (shape === 'string' || shape === 'boolean') return typeof value === shape ? undefined : mismatch(where, `a ${shape}`, value);
  if (shape === 'object') return isObject(value) ? undefined : mismatch(where, 'an object', value);
  const [kind, ...rest] = shape;
  if (kind === 'array') {
    if (!Array.isArray(value)) return mismatch(where, 'an array', value);
    for (const [i, item] of value.entries()) {
      const wrong = shapeProblem(item, rest[0] as Shape, types, `${where}[${i}]`);
      if (wrong) return wrong;
    }
    return undefined;
  }
  if (kind === 'union') {
    const wrongs = (rest as Shape[]).map((s) => shapeProblem(value, s, types, where));
    return wrongs.some((w) => w === undefined) ? undefined : wrongs[0];
  }
  if (!isObject(value)) return mismatch(where, 'an object', value);
  const fields = fieldsByLowerName(rest[0] as string, types);
  for (const [key, item] of Object.entries(value)) {
    const field = fields.get(key.toLowerCase());
    if (!field) continue;
    const wrong = shapeProblem(item, field, types, where ? `${where}.${key}` : key);
    if (wrong) return wrong;
  }
  return undefined;
}

const lowered = new WeakMap<Record<string, Shape>, Map<string, Shape>>();

function fieldsByLowerName(name: string, types: Types): Map<string, Shape> {
  const fields = types[name] ?? {};
  let map = lowered.get(fields);
  if (!map) {
    map = new Map(Object.entries(fields).map(([k, s]) => [k.toLowerCase(), s]));
    lowered.set(fields, map);
  }
  return map;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mismatch(where: string, want: string, value: unknown): string {
  return `"${where || 'arguments'}" must be ${want}, but it is ${describeValue(value)}`;
}

export function describeValue(v: unknown): string {
  const type = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
  const json = JSON.stringify(v);
  return `${type} ${json && json.length > 40 ? json.slice(0, 40) + '…' : json}`;
}
