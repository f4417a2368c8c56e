// The shape of one CLI command: its node:util.parseArgs options, its usage and help text,
// and its run function. adapter/cli.ts keeps a table of these and does the rest once for all:
// -h/--help, `--`, unknown options and extra arguments (exit status 2), EPIPE.
import type { ParseArgsConfig } from 'node:util';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export interface CliArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CliCommand {
  name: string;
  /** One line after "bluepill-lens NAME": shown with every usage error. */
  synopsis: string;
  /** One sentence for the list of commands in `bluepill-lens --help`. */
  summary: string;
  /** What `NAME --help` prints under the synopsis (and `bluepill-lens --help` under the name). */
  help: string;
  /** parseArgs options; -h/--help is added for every command. */
  options: CliOptions;
  /** The most positional arguments the command takes (after options or `--`); more is a usage error. */
  maxPositionals: number;
  /** Set when the command handles errors of standard output itself (the adapter: EPIPE is its client leaving). */
  ownsStdout?: boolean;
  /** The exit status, or undefined for a command that keeps running (the adapter). */
  run(args: CliArgs, io: CliIo): Promise<number | undefined> | number | undefined;
}

/** A mistake in how the command was called: exit status 2, with the usage line. */
export class UsageError extends Error {}

/** A failure the user can act on (a file that cannot be read, an address not in the binary): exit status 1. */
export class CliError extends Error {}
