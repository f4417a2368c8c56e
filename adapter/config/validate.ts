// Checks launch and attach arguments against the attribute table before anything is
// spawned, so a wrong type ends in one clear sentence instead of a dlv stack trace.
import { attachAttributes, launchAttributes, type AttributeSpec } from './launchAttributes';

export type RequestKind = 'launch' | 'attach';

export interface ValidationResult {
  /** Arguments with numeric strings turned into numbers and defaults filled in. */
  args: Record<string, unknown>;
  errors: string[];
}

export function attributesFor(kind: RequestKind): Record<string, AttributeSpec> {
  return kind === 'launch' ? launchAttributes : attachAttributes;
}

export function validateArguments(kind: RequestKind, raw: unknown): ValidationResult {
  const errors: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { args: {}, errors: [`The ${kind} arguments must be an object.`] };
  }
  const args: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const specs = attributesFor(kind);
  for (const [name, spec] of Object.entries(specs)) {
    const value = args[name];
    if (value === undefined) continue;
    const checked = checkValue(name, spec, value);
    if (typeof checked === 'string') errors.push(checked);
    else args[name] = checked.value;
  }
  if (args.mode === undefined) args.mode = specs.mode.default;
  if (args.showRegisters === undefined) args.showRegisters = true;
  errors.push(...checkRequired(kind, args));
  return { args, errors };
}

function checkValue(name: string, spec: AttributeSpec, value: unknown): { value: unknown } | string {
  if (spec.type === 'number') {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { value };
    if (spec.numericString && typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return { value: Number(value) };
    return `"${name}" must be a whole number, but it is ${describe(value)}.`;
  }
  if (spec.type === 'array') {
    if (!Array.isArray(value)) return `"${name}" must be an array, but it is ${describe(value)}.`;
    if (spec.items && value.some((v) => typeOf(v) !== spec.items)) {
      return `"${name}" must be an array of ${spec.items}s, but it holds ${value.map(describe).join(', ')}.`;
    }
    return { value };
  }
  if (typeOf(value) !== spec.type) return `"${name}" must be a ${spec.type}, but it is ${describe(value)}.`;
  if (spec.enum && !spec.enum.includes(value as string)) {
    return `"${name}" must be one of ${spec.enum.map((e) => `"${e}"`).join(', ')}, but it is ${describe(value)}.`;
  }
  return { value };
}

function checkRequired(kind: RequestKind, args: Record<string, unknown>): string[] {
  const missing = (names: string[]) => names.filter((n) => args[n] === undefined || args[n] === '');
  const need = (mode: string, names: string[], hint: string) => {
    const absent = missing(names);
    return absent.length ? [`${kind} mode "${mode}" needs ${absent.map((n) => `"${n}"`).join(' and ')}: ${hint}`] : [];
  };
  if (kind === 'launch' && args.mode === 'exec') {
    return need('exec', ['program'], 'set it to the absolute path of a Go binary built with `-gcflags=all=-N -l`.');
  }
  if (kind === 'launch' && args.mode === 'core') {
    return need('core', ['program', 'coreFilePath'], 'set "program" to the binary that crashed and "coreFilePath" to its core file.');
  }
  if (kind === 'attach' && args.mode === 'local') {
    return need('local', ['processId'], 'set it to a pid, or to "${command:bluepill.pickSandboxProcess}" to pick the runsc-sandbox process.');
  }
  if (kind === 'attach' && args.mode === 'remote') {
    return need('remote', ['host', 'port'], 'set them to where `dlv --headless --listen=HOST:PORT` is listening on the board.');
  }
  return [];
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function describe(v: unknown): string {
  const json = JSON.stringify(v);
  return `${typeOf(v)} ${json && json.length > 60 ? json.slice(0, 60) + '…' : json}`;
}
