#!/usr/bin/env node
// bluepill-lens: the terminal front end. Each subcommand is thin glue over adapter/.
import { runStdioAdapter } from './stdio';
import { listProcesses } from './processes/procfs';
import { describeProcess, orderForPicker } from './processes/sandboxes';
import { parseFlags } from './cli/flags';
import { sysregCommand } from './cli/sysregCommand';
import { annotateCommand } from './cli/annotateCommand';
import { explainCommand } from './cli/explainCommand';
import { GUEST_USAGE, guestCommand } from './cli/guestCommand';

const USAGE = `Usage: bluepill-lens <command> [options]

Commands:
  sysreg VALUE... [--json]
                 Name ARM64 system registers from any spelling: '$18052', 18052,
                 S3_0_C13_C0_4, TPIDR_EL1, 0xd538d092, 92d038d5 (dlv's bytes),
                 'MRS $18052, R18', 'MSR R10, S3_0_C13_C0_4', 'MSR $2, DAIFSet'.
  sysreg NAME --value V [--json]
                 Decode a register value field by field: PSTATE/SPSR (EL0t, EL1h,
                 DAIF, NZCV), ESR_ELx (the exception class), CurrentEL, SCTLR_EL1.
  sysreg --all --tsv
                 Every 15-bit field: field, generic, mrs_name, msr_name, min_el.
  annotate [FILE|-]
                 Copy a \`go tool objdump\` listing (default: standard input) with
                 every MRS/MSR register named, in constant memory.
  explain (--binary FILE | --objdump FILE) ADDRESS [--json]
                 Explain an address offline: its function, instruction, system
                 register, bluepill role and phase, and what it does on the host
                 and in the guest, from an ELF binary or a go tool objdump listing.
  adapter [--dlv-path PATH] [--connect HOST:PORT] [--verbose]
                 Run the debug adapter (the dlv proxy) on stdin/stdout, for DAP
                 clients such as nvim-dap or Emacs dap-mode.
  processes [--json]
                 List processes as the VS Code picker does: runsc sandboxes first.
${GUEST_USAGE}  help           Show this text.
`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sysreg':
      return sysregCommand(rest, process.stdout, process.stderr);
    case 'annotate':
      return annotateCommand(rest, process.stdout, process.stderr);
    case 'explain':
      return explainCommand(rest, process.stdout, process.stderr);
    case 'guest':
      return guestCommand(rest, process.stdout, process.stderr);
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
  const parsed = parseFlags(args, ['dlv-path', 'connect'], ['verbose']);
  if (typeof parsed === 'string') return usageError(parsed);
  const { flags } = parsed;
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
  const parsed = parseFlags(args, [], ['json']);
  if (typeof parsed === 'string') return usageError(parsed);
  const ordered = orderForPicker(listProcesses());
  if (parsed.flags.json) {
    process.stdout.write(JSON.stringify(ordered, null, 2) + '\n');
  } else {
    if (!ordered.some((p) => p.sandbox)) process.stdout.write('# no runsc sandbox is running on this machine\n');
    for (const p of ordered) process.stdout.write(`${p.sandbox ? '*' : ' '} ${describeProcess(p)}  ${p.argv.join(' ')}\n`);
  }
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`bluepill-lens: ${message}\n\n${USAGE}`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`bluepill-lens: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
