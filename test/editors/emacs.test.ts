// Emacs: editors/emacs/bluepill-lens.el registers the adapter with dap-mode (Debian's
// elpa-dap-mode 0.7). emacs --batch runs a whole session through `bluepill-lens adapter` on
// stdio and prints, from Emacs's side, the frame it stopped in.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { cliBundle, ensureBundles, ensureDlv, repoRoot } from '../support/paths';
import { dlvPids, isAlive, startProcess } from '../support/processes';

const emacsDir = path.join(repoRoot, 'editors', 'emacs');
const driver = path.join(repoRoot, 'test', 'editors', 'emacs-session.el');

/** Runs emacs --batch with `args` (and `input` as what it reads); kills it (by its pid) after `timeoutMs`. */
function runEmacs(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('emacs', ['--batch', '-L', emacsDir, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emacs did not finish within ${timeoutMs} ms; it printed:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run emacs (${e.message}): install emacs-nox and elpa-dap-mode (scripts/setup.sh does).`));
    });
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('Emacs dap-mode registration', () => {
  // A HOME of its own: dap-mode writes its breakpoints file and Emacs its state there.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-emacs-home-'));
  after(() => fs.rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, HOME: home };

  it('registers the provider and its three templates', async () => {
    const { status, stdout, stderr } = await runEmacs(
      ['-l', 'bluepill-lens', '--eval', `(progn (princ (gethash "bluepill" dap--debug-providers)) (terpri)
         (dolist (t_ dap-debug-template-configurations) (when (string-prefix-p "bluepill" (car t_)) (princ (car t_)) (terpri))))`],
      env,
      60_000,
    );
    assert.equal(status, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n').sort(), [
      'bluepill-lens--populate',
      'bluepill: attach to runsc sandbox',
      'bluepill: connect to remote dlv',
      'bluepill: launch executable',
    ]);
  });

  it('the sandbox picker reads `bluepill-lens processes --json` (it lists this test\'s own process)', async () => {
    ensureBundles();
    const { status, stdout, stderr } = await runEmacs(
      ['-l', 'bluepill-lens', '--eval', `(progn (setq bluepill-lens-adapter-command (list "node" ${JSON.stringify(cliBundle)} "adapter"))
         (dolist (p (bluepill-lens-processes)) (princ (alist-get 'pid p)) (terpri)))`],
      env,
      60_000,
    );
    assert.equal(status, 0, stderr);
    assert.ok(stdout.split('\n').includes(String(process.pid)), stdout);
  });

  /** One session run by emacs-session.el; checks Emacs's milestones and that this session's dlv is gone. */
  async function session(extraEnv: NodeJS.ProcessEnv, input = ''): Promise<void> {
    ensureBundles();
    const line = lineOf('hello', 'breakpoint target');
    const ours = () => dlvPids().filter((pid) => isAlive(pid) && environOf(pid).includes(`HOME=${home}`));
    let sawOurDlv = false; // proves the check below can see this session's dlv
    const watch = setInterval(() => (sawOurDlv ||= ours().length > 0), 50);
    const { status, stdout, stderr } = await runEmacs(
      ['-l', driver],
      { ...env, BLUEPILL_CLI: cliBundle, BLUEPILL_DLV: ensureDlv(), BLUEPILL_SOURCE: fixtureSource('hello'), BLUEPILL_LINE: String(line), ...extraEnv },
      120_000,
      input,
    ).finally(() => clearInterval(watch));
    assert.equal(status, 0, `${stdout}\n${stderr}`);
    assert.ok(sawOurDlv, 'no dlv with this test\'s HOME was seen during the session');
    const lines = stdout.trim().split('\n').map((l) => l.replace(/^Attach to \(\* = runsc sandbox\): /, ''));
    assert.equal(lines[0], 'session created');
    assert.equal(lines[1], `stopped main.square ${line}`);
    assert.ok(lines.includes('terminated'), stdout);
    // dap-mode deletes the adapter's process itself (SIGKILL, status 9) when it sees "terminated".
    assert.match(lines[lines.length - 1], /^adapter exited \d+$/);
    // dlv went: none runs with this test's HOME (other sessions on the machine run dlv too).
    await waitUntil(() => ours().length === 0, 'a dlv started by this session is still running');
  }

  it('launch: a dap-mode session through the stdio adapter stops at a breakpoint, then ends with no process left', async () => {
    const program = buildFixture('hello');
    await session({ BLUEPILL_PROGRAM: program });
    // The debuggee went with dlv: no process runs the fixture built for this test.
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && isAlive(Number(p)) && exeOf(p) === program);
    assert.deepEqual(left, []);
  });

  it('attach: the sandbox template picks the pid from the list, stops at a breakpoint, and detaches', async () => {
    const program = buildFixture('hello');
    const target = await startProcess(program, ['-forever'], /ready/);
    try {
      // completing-read in batch mode reads the choice from standard input.
      await session({}, `${target.pid} ${program} -forever\n`);
      assert.ok(isAlive(target.pid), 'the attached program should keep running after the detach');
    } finally {
      await target.stop();
    }
  });
});

function environOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

async function waitUntil(done: () => boolean, failure: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exeOf(pid: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
