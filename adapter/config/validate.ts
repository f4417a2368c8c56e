// Checks launch and attach arguments against the attribute table before anything is
// spawned, so a wrong type ends in one clear sentence instead of a dlv stack trace.
import * as path from 'node:path';
import { pickProcessAdvice, type ClientKind } from './clientTerms';
import { isRemote } from './launchArgs';
import { attachAttributes, launchAttributes, type AttributeSpec, type AttributeType } from './launchAttributes';

export type RequestKind = 'launch' | 'attach';

export interface ValidationResult {
  /** Arguments with numeric strings turned into numbers and defaults filled in. */
  args: Record<string, unknown>;
  errors: string[];
  /** Said to the user, but the session goes on (e.g. a misspelt attribute, which is ignored). */
  warnings: string[];
}

export function attributesFor(kind: RequestKind): Record<string, AttributeSpec> {
  return kind === 'launch' ? launchAttributes : attachAttributes;
}

export function validateArguments(kind: RequestKind, raw: unknown, client: ClientKind = 'other'): ValidationResult {
  const errors: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { args: {}, errors: [`The ${kind} arguments must be an object.`], warnings: [] };
  }
  const args: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const specs = attributesFor(kind);
  const warnings = caseVariants(args, Object.keys(specs));
  for (const [name, spec] of Object.entries(specs)) {
    const value = args[name];
    if (value === undefined) continue;
    const checked = checkValue(name, spec, value);
    if (typeof checked === 'string') errors.push(checked);
    else args[name] = checked.value;
  }
  if (args.mode === undefined) args.mode = specs.mode.default;
  if (kind === 'launch') defaultDlvCwd(args);
  if (args.showRegisters === undefined) args.showRegisters = true;
  errors.push(...checkRequired(kind, args, client), ...checkPaths(args), ...checkDlvFlags(args));
  return { args, errors, warnings: [...warnings, ...misspeltAttributes(kind, args)] };
}

/**
 * dlv reads attribute names without regard to case (Go's JSON decoder), so "stopOnentry"
 * is its "stopOnEntry": it is checked and used under its real name here too.
 */
function caseVariants(args: Record<string, unknown>, names: string[]): string[] {
  const warnings: string[] = [];
  for (const key of Object.keys(args)) {
    const name = names.find((n) => n !== key && n.toLowerCase() === key.toLowerCase());
    if (!name) continue;
    if (args[name] === undefined) args[name] = args[key];
    delete args[key];
    warnings.push(`"${key}" is read as "${name}"; write it so.`);
  }
  return warnings;
}

/** Attributes that are not ours but mean something to VS Code or to dlv: never taken for typos. */
const OTHER_ATTRIBUTES = new Set(
  [
    // VS Code's own
    'type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'debugServer', 'internalConsoleOptions', 'presentation',
    'serverReadyAction', 'suppressMultipleSessionWarning', '__configurationTarget', '__sessionId', '__workspaceFolder',
    // dlv's launch and attach configuration (service/dap/types.go, v1.27.2)
    'backend', 'output', 'outputMode', 'noDebug', 'traceDirPath', 'stackTraceDepth', 'showGlobalVariables',
    'hideSystemGoroutines', 'goroutineFilters', 'showPprofLabels', 'showRawStrings', 'maxArrayValues', 'maxStringLen',
    'followExec', 'followExecRegex', 'guessSubstitutePath', 'stdinFrom', 'stdoutTo', 'stderrTo',
  ].map((n) => n.toLowerCase()),
);

/**
 * An attribute that is none of ours, VS Code's or dlv's, but one or two letters from one
 * of ours, is most likely that one misspelt: it would be ignored without a word.
 */
function misspeltAttributes(kind: RequestKind, args: Record<string, unknown>): string[] {
  const ours = Object.keys(attributesFor(kind));
  const warnings: string[] = [];
  for (const key of Object.keys(args)) {
    if (ours.includes(key) || OTHER_ATTRIBUTES.has(key.toLowerCase())) continue;
    const near = ours.find((name) => editDistance(key.toLowerCase(), name.toLowerCase()) <= (name.length < 6 ? 1 : 2));
    if (near) warnings.push(`"${key}" is ignored: a bluepill ${kind} has no such attribute. Did you mean "${near}"?`);
  }
  return warnings;
}

/** Levenshtein distance, for short attribute names. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/**
 * In mode debug (test) dlv runs `go build` (`go test -c`) in its own folder, which must be inside the program's
 * module: like vscode-go, dlv works in the program's folder (the package folder, or a
 * .go file's folder) unless "dlvCwd" says otherwise.
 */
function defaultDlvCwd(args: Record<string, unknown>): void {
  if ((args.mode !== 'debug' && args.mode !== 'test') || args.dlvCwd !== undefined || isRemote(args)) return;
  const program = args.program;
  if (typeof program !== 'string' || !path.isAbsolute(program)) return;
  args.dlvCwd = program.endsWith('.go') ? path.dirname(program) : program;
}

/** Local paths must be absolute: relative to what would depend on where dlv happens to start. */
function checkPaths(args: Record<string, unknown>): string[] {
  if (isRemote(args)) return []; // paths on the board are dlv's business
  return ['program', 'coreFilePath', 'cwd', 'dlvCwd']
    .filter((name) => typeof args[name] === 'string' && args[name] !== '' && !path.isAbsolute(args[name] as string))
    .map((name) => `"${name}" must be an absolute path, but it is ${JSON.stringify(args[name])}: write \${workspaceFolder}/${args[name]} for a path in the workspace.`);
}

/** A dlv spawned here listens on loopback only; no flag may widen that. */
function checkDlvFlags(args: Record<string, unknown>): string[] {
  const flags = Array.isArray(args.dlvFlags) ? (args.dlvFlags as unknown[]) : [];
  // pflag reads -lADDR, -l=ADDR, -l ADDR, --listen=ADDR and --listen ADDR (and -log as -l "og").
  const listen = flags.find((f) => typeof f === 'string' && /^(--listen(=|$)|-l)/.test(f));
  return listen === undefined
    ? []
    : [`"dlvFlags" may not hold ${JSON.stringify(listen)}: a dlv started by bluepill-lens listens on 127.0.0.1 only. To debug on another machine, start \`dlv --headless\` there and use attach mode "remote" (through an SSH tunnel).`];
}

function checkValue(name: string, spec: AttributeSpec, value: unknown): { value: unknown } | string {
  if (spec.type === 'number') {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { value };
    if (spec.numericString && typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return { value: Number(value) };
    return `"${name}" must be a whole number, 0 or more, but it is ${describe(value)}.`;
  }
  if (spec.type === 'array') {
    const what = spec.itemProperties ? `an array of ${shapeOf(spec.itemProperties)} objects` : 'an array';
    if (!Array.isArray(value)) return `"${name}" must be ${what}, but it is ${describe(value)}.`;
    if (spec.itemProperties) {
      for (const [i, item] of value.entries()) {
        const wrong = itemProblem(item, spec.itemProperties);
        if (wrong) return `"${name}" must be ${what}, but item ${i + 1} (${describe(item)}) ${wrong}.`;
      }
      return { value };
    }
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

function checkRequired(kind: RequestKind, args: Record<string, unknown>, client: ClientKind): string[] {
  const missing = (names: string[]) => names.filter((n) => args[n] === undefined || args[n] === '');
  const need = (mode: string, names: string[], hint: string) => {
    const absent = missing(names);
    return absent.length ? [`${kind} mode "${mode}" needs ${absent.map((n) => `"${n}"`).join(' and ')}: ${hint}`] : [];
  };
  if (kind === 'launch' && args.mode === 'exec') {
    return need('exec', ['program'], 'set it to the absolute path of a Go binary built with `-gcflags=all=-N -l`.');
  }
  if (kind === 'launch' && (args.mode === 'debug' || args.mode === 'test')) {
    return need(args.mode, ['program'], `set it to the absolute path of the Go package (a folder) dlv should build${args.mode === 'test' ? ' the tests of' : ''}.`);
  }
  if (kind === 'launch' && args.mode === 'core') {
    return need('core', ['program', 'coreFilePath'], 'set "program" to the binary that crashed and "coreFilePath" to its core file.');
  }
  if (kind === 'attach' && args.mode === 'local') {
    if (args.processId !== undefined && args.processId !== '' && args.waitFor !== undefined && args.waitFor !== '') {
      return ['attach mode "local" takes "processId" or "waitFor", not both: keep "processId" for a running process, "waitFor" for one about to start.'];
    }
    if (typeof args.waitFor === 'string' && args.waitFor !== '') return [];
    return need('local', ['processId'], `${pickProcessAdvice(client)} For a process that has not started yet, set "waitFor" to the start of its command line instead (e.g. "runsc-sandbox").`);
  }
  if (kind === 'attach' && args.mode === 'remote') {
    return need('remote', ['host', 'port'], 'set them to where `dlv --headless --listen=HOST:PORT` is listening on the board.');
  }
  return [];
}

function shapeOf(properties: Record<string, AttributeType>): string {
  return `{${Object.entries(properties).map(([k, t]) => `"${k}": ${t}`).join(', ')}}`;
}

/** What is wrong with one item of an array of objects, or undefined. */
function itemProblem(item: unknown, properties: Record<string, AttributeType>): string | undefined {
  if (typeOf(item) !== 'object') return 'is not an object';
  const fields = item as Record<string, unknown>;
  for (const [key, type] of Object.entries(properties)) {
    if (fields[key] === undefined) return `has no "${key}"`;
    if (typeOf(fields[key]) !== type) return `has "${key}" of type ${typeOf(fields[key])}`;
  }
  return undefined;
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
