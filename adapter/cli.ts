#!/usr/bin/env node
// bluepill-lens: the terminal front end. Each subcommand is thin glue over adapter/.
import { runStdioAdapter } from './stdio';
import { listProcesses } from './processes/procfs';
import { describeProcess, orderForPicker } from './processes/sandboxes';

const USAGE = `Usage: bluepill-lens <command> [options]

Commands:
  adapter [--dlv-path PATH] [--connect HOST:PORT] [--verbose]
                 Run the debug adapter (the dlv proxy) on stdin/stdout, for DAP
                 clients such as nvim-dap or Emacs dap-mode.
  processes [--json]
                 List processes as the VS Code picker does: runsc sandboxes first.
  help           Show this text.
`;

export function main(argv: string[]): number | undefined {
  const [command, ...rest] = argv;
  switch (command) {
    case 'adapter':
      return adapterCommand(rest);
    case 'processes':
      return processesCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`bluepill-lens: unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

function adapterCommand(args: string[]): number | undefined {
  const flags = parseFlags(args, ['dlv-path', 'connect'], ['verbose']);
  if (typeof flags === 'string') return usageError(flags);
  let connect: { host: string; port: number } | undefined;
  if (flags.connect) {
    const m = /^(.*):(\d+)$/.exec(flags.connect as string);
    if (!m) return usageError(`--connect wants HOST:PORT, e.g. 127.0.0.1:2345; got "${flags.connect}".`);
    connect = { host: m[1] || '127.0.0.1', port: Number(m[2]) };
  }
  runStdioAdapter({ dlvPath: flags['dlv-path'] as string | undefined, connect, verbose: flags.verbose === true });
  return undefined; // keeps running until the client goes away
}

function processesCommand(args: string[]): number {
  const flags = parseFlags(args, [], ['json']);
  if (typeof flags === 'string') return usageError(flags);
  const ordered = orderForPicker(listProcesses());
  if (flags.json) {
    process.stdout.write(JSON.stringify(ordered, null, 2) + '\n');
  } else {
    if (!ordered.some((p) => p.sandbox)) process.stdout.write('# no runsc sandbox is running on this machine\n');
    for (const p of ordered) process.stdout.write(`${p.sandbox ? '*' : ' '} ${describeProcess(p)}  ${p.argv.join(' ')}\n`);
  }
  return 0;
}

/** Minimal flag parser: `--name value`, `--name=value`, and boolean `--name`. */
function parseFlags(args: string[], valued: string[], booleans: string[]): Record<string, string | boolean> | string {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) return `unexpected argument "${args[i]}".`;
    const [, name, inline] = m;
    if (booleans.includes(name)) out[name] = true;
    else if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) return `--${name} needs a value.`;
      out[name] = value;
    } else return `unknown option --${name}.`;
  }
  return out;
}

function usageError(message: string): number {
  process.stderr.write(`bluepill-lens: ${message}\n\n${USAGE}`);
  return 2;
}

if (require.main === module) {
  const code = main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}
