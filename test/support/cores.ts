// Makes a core file of a running fixture with gdb's gcore, for dlv's core mode.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startProcess } from './processes';

/** Runs `program args`, waits for `ready`, dumps its core, kills it. Returns the core's path. */
export async function makeCore(program: string, args: string[], ready: RegExp): Promise<{ core: string; dir: string; cleanup(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-core-'));
  const running = await startProcess(program, args, ready);
  try {
    const prefix = path.join(dir, 'core');
    execFileSync('gcore', ['-o', prefix, String(running.pid)], { stdio: 'ignore' });
    return { core: `${prefix}.${running.pid}`, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } finally {
    await running.stop();
  }
}
