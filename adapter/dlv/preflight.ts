// Checks a local launch/attach before dlv sees it, where dlv's own answer would be
// missing or obscure: files that are not there, processes that are not there or run no
// program. What dlv can still do but the user should know (a process that is not Go)
// is a warning. Remote targets are skipped: their paths and pids live on the board.
import * as fs from 'node:fs';
import { looksLikeGo, NotElfError, readElfSections, withElfFile } from '../elf/sections';
import type { RequestKind } from '../config/validate';
import { isRemote } from '../config/launchArgs';
import { pickProcessAdvice, type ClientKind } from '../config/clientTerms';

export interface PreflightResult {
  /** Why the request cannot go on, if it cannot. */
  problem?: string;
  /** Said to the user; the request goes on. */
  warnings: string[];
}

export function preflight(kind: RequestKind, args: Record<string, unknown>, client: ClientKind = 'other'): PreflightResult {
  if (isRemote(args)) return { warnings: [] };
  if (kind === 'launch') {
    const asRoot = args.asRoot === true;
    const problem =
      args.mode === 'debug' || args.mode === 'test'
        ? missingFile('program', args.program as string, 'Check the path of the Go package dlv is to build.') ?? notFileOrFolder('program', args.program as string, args.mode)
        : checkElf('program', args.program as string, 'program', asRoot) ??
          (args.mode === 'core' ? checkElf('coreFilePath', args.coreFilePath as string, 'core', asRoot) : notExecutable('program', args.program as string));
    return { problem, warnings: [] };
  }
  if (typeof args.processId !== 'number') return { warnings: [] }; // waitFor: the process is not there yet
  const process = checkProcess(args.processId, client);
  return typeof process === 'string' ? { problem: process, warnings: [] } : { warnings: process.warnings };
}

function missingFile(attribute: string, file: string, advice?: string): string | undefined {
  try {
    fs.statSync(file);
    return undefined;
  } catch (e) {
    // Only "no such file" is certain: a folder this user may not enter can still be open to dlv as root.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  const what = advice ?? (attribute === 'coreFilePath' ? 'Check the path: where the crash left its core file (see /proc/sys/kernel/core_pattern).' : 'Check the path, and build the program first.');
  return `"${attribute}" is "${file}", and there is no such file here. ${what}`;
}

const ET_CORE = 4;
const WANTED = {
  program: 'the Go binary to debug (a regular ELF file, built with `-gcflags=all=-N -l`)',
  core: 'the core file the crash left (a regular ELF core file, e.g. /var/crash/core.4989)',
} as const;

/**
 * `file` must be a readable regular ELF file (a core file for `core`). Checked with stat
 * first: a FIFO is never opened (that blocks), a device never read (dlv reading /dev/zero
 * grows without end).
 */
function checkElf(attribute: string, file: string, want: keyof typeof WANTED, asRoot: boolean): string | undefined {
  const missing = missingFile(attribute, file);
  if (missing) return missing;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined; // not ours to see (EACCES): dlv as root may
  }
  if (!stat.isFile()) return `"${attribute}" is "${file}", ${kindOf(stat)}, not a file. Give ${WANTED[want]}.`;
  let type: number | 'not ELF';
  try {
    type = withElfFile(file, (read) => {
      const ident = read(0, Math.min(18, stat.size));
      if (ident.length < 18 || ident.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
      return ident[5] === 2 ? ident.readUInt16BE(16) : ident.readUInt16LE(16);
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' && !asRoot) return `"${attribute}" is "${file}", which this user may not read. Make it readable (chmod), or set "asRoot": true if it belongs to root.`;
    return undefined;
  }
  if (type === 'not ELF') return `"${attribute}" is "${file}", which is not an ELF file. Give ${WANTED[want]}.`;
  if (want === 'core' && type !== ET_CORE) return `"${attribute}" is "${file}", an ELF file that is not a core file (its type is ${elfTypeName(type)}, a core is ET_CORE). Give ${WANTED.core}.`;
  if (want === 'program' && type === ET_CORE) return `"${attribute}" is "${file}", a core file, not a program. Put it in "coreFilePath" (mode "core") and give the binary that crashed as "program".`;
  return undefined;
}

/** In mode exec dlv runs `program`: a file nobody may execute fails there with obscure words. */
function notExecutable(attribute: string, file: string): string | undefined {
  try {
    if ((fs.statSync(file).mode & 0o111) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return `"${attribute}" is "${file}", which may not be executed (no x permission). Run \`chmod +x ${file}\`, or copy the binary again keeping its mode.`;
}

/** In mode debug (test) dlv builds `program` (its tests): a Go package folder or a .go file, never a device or a FIFO. */
function notFileOrFolder(attribute: string, file: string, mode: unknown): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (stat.isFile() || stat.isDirectory()) return undefined;
  return `"${attribute}" is "${file}", ${kindOf(stat)}. In mode "${String(mode)}" give the folder of the Go package to build.`;
}

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function elfTypeName(type: number): string {
  return ({ 1: 'ET_REL (an object file)', 2: 'ET_EXEC (a program)', 3: 'ET_DYN (a program or library)' } as Record<number, string>)[type] ?? `${type}`;
}

/** A problem that stops the attach, or warnings about a process dlv can still attach to. */
function checkProcess(pid: number, client: ClientKind): string | { warnings: string[] } {
  let exe: string;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { warnings: [] }; // not ours to read (EACCES): dlv's permission error says more
    return runsNoProgram(pid, client);
  }
  try {
    if (looksLikeGo(readElfSections(`/proc/${pid}/exe`))) return { warnings: [] };
  } catch (e) {
    if (!(e instanceof NotElfError)) return { warnings: [] };
  }
  return {
    warnings: [
      `Process ${pid} (${exe}) has no Go build information: dlv attaches, but without Go's symbols it shows little (no goroutines, no Go stack). ` +
        'For gVisor, attach to the runsc process itself (`runsc-sandbox boot`, not a shell or a program inside the container).',
    ],
  };
}

/** /proc/PID/exe is missing: no such process, a kernel thread, or a zombie. */
function runsNoProgram(pid: number, client: ClientKind): string {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return `There is no process ${pid} on this machine (it may have exited). ${pickProcessAdvice(client)}`;
  }
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  const what = state === 'Z' ? 'has exited (a zombie not yet reaped by its parent)' : 'is a kernel thread: it runs no program';
  return `Process ${pid} (${name}) ${what}, so there is nothing to attach to. ${pickProcessAdvice(client)}`;
}
