// What launch/attach arguments say about where the debuggee is, in one place: the
// validation, the preflight checks, the choice of dlv and the bluepill session all
// ask here.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type LaunchArgs = Readonly<Record<string, unknown>>;

/** A dlv already listening elsewhere (a board): its paths and pids are not this machine's. */
export function isRemote(args: LaunchArgs): boolean {
  return args.host !== undefined || args.port !== undefined || args.mode === 'remote';
}

/** The `program` the arguments name, when it is an absolute path to a file on this machine (a remote session may name its local copy). */
export function namedProgram(args: LaunchArgs | undefined): string | undefined {
  const program = args?.program;
  return typeof program === 'string' && path.isAbsolute(program) && fs.existsSync(program) ? program : undefined;
}

/** The debuggee's binary on this machine: the launched program, or the attached process's executable. */
export function localBinary(args: LaunchArgs | undefined): string | undefined {
  if (!args || isRemote(args)) return undefined;
  if (typeof args.program === 'string' && fs.existsSync(args.program)) return args.program;
  if (typeof args.processId === 'number') return `/proc/${args.processId}/exe`;
  return undefined;
}
