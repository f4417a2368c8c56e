// The launch and attach attributes of the `bluepill` debug type, as data. The
// manifest's JSON schema (package.json contributes.debuggers) is generated from this
// table by scripts/sync-manifest.mjs, and the proxy validates requests with it, so
// VS Code's editor and other DAP clients see the same rules.

export type AttributeType = 'string' | 'number' | 'boolean' | 'array' | 'object';

export interface AttributeSpec {
  type: AttributeType;
  /** Also accept a string of decimal digits (VS Code's ${command:...} yields strings). */
  numericString?: boolean;
  enum?: string[];
  default?: unknown;
  description: string;
  /** Items of an array attribute. */
  items?: AttributeType;
  /** Items of an array of objects: the properties each must have, and their types. */
  itemProperties?: Record<string, AttributeType>;
}

const common: Record<string, AttributeSpec> = {
  dlvPath: {
    type: 'string',
    description: 'Path to the dlv binary. Defaults to the setting bluepill.dlvPath, then dlv on PATH.',
  },
  asRoot: {
    type: 'boolean',
    default: false,
    description: 'Run dlv through `sudo -n`, for sandboxes owned by root. sudo must not ask for a password.',
  },
  dlvFlags: {
    type: 'array',
    items: 'string',
    default: [],
    description: 'Extra flags for `dlv dap`, e.g. ["--log", "--log-output=dap"]. --listen is not allowed: a dlv spawned here listens on 127.0.0.1 only.',
  },
  showRegisters: {
    type: 'boolean',
    default: true,
    description: 'Show the CPU registers as a scope in the Variables view.',
  },
  stopOnEntry: {
    type: 'boolean',
    default: false,
    description: 'Stop at the program entry (launch) or right after attaching.',
  },
  cwd: {
    type: 'string',
    description: 'Working directory of the launched program (default: the adapter\'s). Ignored by attach.',
  },
  env: {
    type: 'object',
    default: {},
    description: 'Environment variables for the program, as name: value pairs.',
  },
  host: {
    type: 'string',
    description: 'Host of an existing `dlv --headless --listen` server (e.g. on the ARM64 board).',
  },
  port: {
    type: 'number',
    numericString: true,
    description: 'Port of an existing `dlv --headless --listen` server.',
  },
  bluepillVariant: {
    type: 'string',
    enum: ['auto', 'arm64', 'amd64-cli', 'amd64-sigframe'],
    default: 'auto',
    description: 'Which bluepill round trip to follow: auto (from the binary or dlv), arm64 (MRS TPIDR_EL1 -> SIGILL), amd64-cli (before 2024), amd64-sigframe (since 2024). Overrides the setting bluepill.variant.',
  },
  substitutePath: {
    type: 'array',
    items: 'object',
    itemProperties: { from: 'string', to: 'string' },
    default: [],
    description: 'Map source paths between this machine and the one the binary was built on: [{"from": "path here", "to": "path where it was built"}], as vscode-go and dlv read it.',
  },
};

export const launchAttributes: Record<string, AttributeSpec> = {
  mode: {
    type: 'string',
    enum: ['exec', 'core', 'debug', 'test'],
    default: 'exec',
    description: 'exec: run a built binary. core: open a core file of a crashed program (post-mortem). debug: let dlv build the Go package at "program" (with "buildFlags"), then run it. test: let dlv build the package\'s tests and run them ("args" such as ["-test.run", "TestName"]).',
  },
  program: {
    type: 'string',
    description: 'Absolute path of the Go binary to run or whose core file to open; in mode debug or test, of the package to build.',
  },
  buildFlags: {
    type: 'string',
    description: 'Flags for `go build` (or `go test -c`) in mode debug or test, e.g. "-tags=kvm". dlv adds `-gcflags=all=-N -l` itself.',
  },
  args: {
    type: 'array',
    items: 'string',
    default: [],
    description: 'Command-line arguments for the program (mode exec).',
  },
  dlvCwd: {
    type: 'string',
    description: "Folder dlv works in, where mode debug runs `go build` (it must be inside the program's module). Default in mode debug: the program's folder, as vscode-go does; otherwise the adapter's.",
  },
  coreFilePath: {
    type: 'string',
    description: 'Path of the core file (mode core).',
  },
  ...common,
};

export const attachAttributes: Record<string, AttributeSpec> = {
  mode: {
    type: 'string',
    enum: ['local', 'remote'],
    default: 'local',
    description: 'local: attach dlv to a process on this machine. remote: connect to dlv already attached on another machine.',
  },
  processId: {
    type: 'number',
    numericString: true,
    description: 'Process id to attach to (mode local). Use "${command:bluepill.pickSandboxProcess}" to pick one.',
  },
  waitFor: {
    type: 'string',
    description: 'Instead of "processId" (mode local): attach to the first process whose command line starts with this, as soon as one runs, e.g. "runsc-sandbox" for a sandbox about to be started. A disconnect ends the wait.',
  },
  guestTrace: {
    type: 'boolean',
    description: "Watch the process's KVM guest through the host kernel's trace events (needs root and tracefs): the Bluepill State view's Guest section and the Guest Timeline, updated while the sandbox runs. Default: on when the process is a runsc sandbox (mode local).",
  },
  ...common,
};
