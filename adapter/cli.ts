#!/usr/bin/env -S node --max-semi-space-size=4
// bluepill-lens: the terminal front end. Each command is one module (adapter/cli/*Command.ts)
// exporting a CliCommand (adapter/cli/command.ts): its node:util.parseArgs options, a one-line
// synopsis, its help text, how many positional arguments it takes, and run(). To add a command,
// write that module and add it to COMMANDS below: this file gives every command the same
// -h/--help, `--` (ends options), exit status 2 with a usage line for unknown options and
// extra arguments, and a quiet exit 0 when a reader such as `head` closes standard output.
//
// --max-semi-space-size=4 (in the #! line: V8 reads it only at start): `guest` in a flood makes
// hundreds of thousands of short-lived objects a second, and V8's young generation grew to its
// default 16 MB semi-spaces and kept the RSS there (peak 103 MB for 15 s of the hang, 86 MB with 4).
//
// Exit status: 0 success, 1 a failure the message explains (a file, an address), 2 a usage error.
// --json: explain prints one object; sysreg and processes print one array (see each --help).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, UsageError, type CliCommand, type CliIo } from './cli/command';
import { adapterCommand } from './cli/adapterCommand';
import { annotateCommand } from './cli/annotateCommand';
import { crashCommand } from './cli/crashCommand';
import { explainCommand } from './cli/explainCommand';
import { guestCommand } from './cli/guestCommand';
import { processesCommand } from './cli/processesCommand';
import { sysregCommand } from './cli/sysregCommand';
import { printable } from './cli/terminalText';

const COMMANDS: CliCommand[] = [sysregCommand, annotateCommand, explainCommand, crashCommand, guestCommand, adapterCommand, processesCommand];

const PROGRAM = 'bluepill-lens';

function overview(): string {
  const commands = COMMANDS.map((c) => `  ${c.name} ${c.synopsis}\n${indent(c.summary, 17)}`).join('\n');
  return `Usage: ${PROGRAM} <command> [options] [--] [arguments]

Commands:
${commands}
  help [COMMAND]  Show this text, or a command's.

Options: --version; -h/--help (for every command). Run \`${PROGRAM} COMMAND --help\` for more.
`;
}

function commandHelp(c: CliCommand): string {
  return `Usage: ${PROGRAM} ${c.name} ${c.synopsis}\n\n${c.help}\n  -h, --help  show this text\n`;
}

export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr, stdin: process.stdin }): Promise<number | undefined> {
  const [name, ...rest] = argv;
  // The adapter's stdout carries DAP, and it handles its own end; every other output is text for a reader.
  if (io.out === process.stdout && !COMMANDS.find((c) => c.name === name)?.ownsStdout) endOnOutputError(io);
  if (name === undefined) {
    io.err.write(overview());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    io.out.write(overview());
    return 0;
  }
  if (name === '--version') {
    if (rest.length) return usageError(io, PROGRAM, `--version takes no arguments; got "${printable(rest[0])}".`, `${PROGRAM} --version`);
    io.out.write(`${PROGRAM} ${version()}\n`);
    return 0;
  }
  if (name === 'help') {
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) rest.length = 0; // help about help: the overview
    const about = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    if (rest.length > 1 || (rest[0] !== undefined && !about)) return usageError(io, PROGRAM, `help takes one command name (${COMMANDS.map((c) => c.name).join(', ')}); got "${printable(rest.join(' '))}".`, `${PROGRAM} help [COMMAND]`);
    io.out.write(about ? commandHelp(about) : overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command && name.startsWith('-')) return usageError(io, PROGRAM, `unknown option ${printable(name)}: options go after the command, as in ${PROGRAM} processes --json.`, `${PROGRAM} <command> [options]`);
  if (!command) return usageError(io, PROGRAM, `unknown command "${printable(name)}" (the commands are ${COMMANDS.map((c) => c.name).join(', ')}).`, `${PROGRAM} <command> [options]`);
  const hint = `${PROGRAM} ${command.name} ${command.synopsis}`;

  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    return usageError(io, `${PROGRAM} ${command.name}`, parseError(e as NodeJS.ErrnoException), hint);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out.write(commandHelp(command));
    return 0;
  }
  if (positionals.length > command.maxPositionals) {
    const extra = positionals.slice(command.maxPositionals).map((a) => `"${printable(a)}"`).join(' ');
    return usageError(io, `${PROGRAM} ${command.name}`, `unexpected argument${positionals.length - command.maxPositionals > 1 ? 's' : ''} ${extra}.`, hint);
  }
  try {
    return await command.run({ values: values as Record<string, string | boolean | undefined>, positionals }, io);
  } catch (e) {
    if (e instanceof UsageError) return usageError(io, `${PROGRAM} ${command.name}`, e.message, hint);
    if (e instanceof CliError) {
      io.err.write(`${PROGRAM} ${command.name}: ${e.message}\n`);
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0; // `| head` closed the pipe
    throw e;
  }
}

/** parseArgs's errors, said in the user's terms. */
function parseError(e: NodeJS.ErrnoException): string {
  const option = /'(-[^' ]*)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${printable(option ?? e.message)}. (An argument that starts with - goes after --, as in: -- ${printable(option ?? '-ARG')})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(e.message) ? `${printable(option ?? 'the option')} needs a value.` : `${printable(option ?? 'the option')} ${/ambiguous/.test(e.message) ? 'is followed by something that looks like an option; write --name=VALUE' : 'takes no value'}.`;
    default:
      return printable(e.message);
  }
}

function usageError(io: CliIo, who: string, message: string, hint: string): number {
  io.err.write(`${who}: ${message}\nUsage: ${hint}   (more: ${who} --help)\n`);
  return 2;
}

/**
 * `bluepill-lens annotate big.objdump | head -1`: the reader is done, which is no error. Any other
 * failure to write (a full disk) is said in one line, and the exit status says it failed.
 */
function endOnOutputError(io: CliIo): void {
  io.out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    io.err.write(`${PROGRAM}: cannot write the output: ${e.code === 'ENOSPC' ? 'no space left on the device' : e.message}.\n`);
    process.exit(1);
  });
}

/** The version of the package this bundle came in: dist/cli.js sits one folder below package.json. */
function version(): string {
  for (const file of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (manifest.name === PROGRAM) return manifest.version;
    } catch {
      // not there: try the next place
    }
  }
  return 'unknown (no package.json beside the program)';
}

function indent(text: string, by: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(by) + l)
    .join('\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${PROGRAM}: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
