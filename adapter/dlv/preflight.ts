// Checks a local launch/attach before dlv sees it, where dlv's own answer would be
// missing or obscure: files that are not there, and processes that are not Go.
// Remote targets are skipped: their paths and pids live on the board.
import * as fs from 'node:fs';
import { looksLikeGo, NotElfError, readElfSections } from '../elf/sections';
import type { RequestKind } from '../config/validate';
import { isRemote } from '../config/launchArgs';

export function preflight(kind: RequestKind, args: Record<string, unknown>): string | undefined {
  if (isRemote(args)) return undefined;
  if (kind === 'launch') {
    return missingFile('program', args.program as string) ?? (args.mode === 'core' ? missingFile('coreFilePath', args.coreFilePath as string) : undefined);
  }
  return notGoProcess(args.processId as number);
}

function missingFile(attribute: string, file: string): string | undefined {
  try {
    fs.statSync(file);
    return undefined;
  } catch (e) {
    // Only "no such file" is certain: a folder this user may not enter can still be open to dlv as root.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  return `"${attribute}" is "${file}", and there is no such file here. Give an absolute path (\${workspaceFolder} helps), and build the program first.`;
}

function notGoProcess(pid: number): string | undefined {
  let exe: string;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `There is no process ${pid} on this machine (it may have exited). Pick it again with "Bluepill: Pick Sandbox Process".`;
    return undefined; // not ours to read (EACCES): dlv's permission error says more
  }
  try {
    if (looksLikeGo(readElfSections(`/proc/${pid}/exe`))) return undefined;
  } catch (e) {
    if (!(e instanceof NotElfError)) return undefined;
  }
  return (
    `Process ${pid} (${exe}) does not look like a Go program dlv can debug: its binary has no Go build information. ` +
    'Attach to the runsc process itself (`runsc-sandbox boot`, not a shell or a program inside the container).'
  );
}
