// `bluepill-lens explain --pid PID ADDRESS`, live: the CLI reads a running hello fixture's
// /proc and ELF itself; each kind of address is checked against what the program prints of its
// own addresses, against /proc/PID/maps and against readelf -S, read here independently.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { buildFixture } from '../support/fixtures';
import { cliBundle, ensureBundles } from '../support/paths';
import { readelfSections, startHelloWithAddresses } from '../support/helloAddresses';

function explainJson(pid: number, address: bigint | string): Record<string, any> {
  const text = typeof address === 'string' ? address : `0x${address.toString(16)}`;
  return JSON.parse(execFileSync(process.execPath, [cliBundle, 'explain', '--pid', String(pid), text, '--json'], { encoding: 'utf8' }));
}

function explainFails(args: string[]): string {
  try {
    execFileSync(process.execPath, [cliBundle, 'explain', ...args], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    return String((e as { stderr: string }).stderr);
  }
  throw new Error(`explain ${args.join(' ')} succeeded`);
}

describe('bluepill-lens explain --pid, on a live process', () => {
  let binary: string;
  let child: ChildProcess | undefined;
  let pid: number;
  let printed: Record<string, bigint>;

  before(async () => {
    ensureBundles();
    binary = buildFixture('hello');
    ({ child, printed } = await startHelloWithAddresses(binary));
    pid = child!.pid!;
    await new Promise((r) => setTimeout(r, 200)); // let its threads block in the kernel
  });
  after(() => {
    child?.kill('SIGKILL'); // our own child, by its handle
  });

  it('text, rodata, data, bss: the mapping and the section readelf -S names; code also gets the PC explanation', () => {
    const sections = readelfSections(binary);
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    for (const [what, kind] of [['text', 'code'], ['rodata', 'rodata'], ['noptrdata', 'data'], ['data', 'data'], ['bss', 'bss'], ['noptrbss', 'bss']]) {
      const e = explainJson(pid, printed[what]);
      assert.equal(e.kind, kind, what);
      assert.equal(e.section, sections.find((s) => s.start <= printed[what] && printed[what] < s.end)?.name, what);
      const [from, to] = e.mapping.range.split('-').map((x: string) => x.replace(/^0x/, ''));
      assert.ok(maps.split('\n').some((l) => l.startsWith(`${from.padStart(8, '0')}-${to.padStart(8, '0')} ${e.mapping.perms}`)), `${what}: ${e.mapping.range} is a line of /proc/PID/maps`);
    }
    const code = explainJson(pid, printed.text);
    assert.equal(code.code.where, 'main.square');
    assert.equal(code.mapping.path, fs.readlinkSync(`/proc/${pid}/exe`));
  });

  it('a heap object and a goroutine stack variable: Go heap, arena N, the span said to be unknown', () => {
    for (const what of ['heap', 'stack']) {
      const e = explainJson(pid, printed[what]);
      assert.equal(e.kind, 'go-heap', `${what}: ${e.summary}`);
      assert.match(e.summary, /arena \d+/);
      assert.equal(e.mapping.path, '(anonymous)');
      assert.ok(e.unknown.some((u: string) => /span class/.test(u)));
    }
  });

  it('a thread\'s stack pointer, the vDSO and an unmapped address', () => {
    const syscall = fs.readFileSync(`/proc/${pid}/task/${pid}/syscall`, 'utf8').trim().split(/\s+/);
    if (syscall.length === 9) {
      // The thread may have moved on by the time the CLI reads its SP: then it is still the main thread's stack.
      const e = explainJson(pid, BigInt(syscall[7]) + 8n);
      assert.ok(e.kind === 'thread-stack' ? new RegExp(`thread ${pid}\\b`).test(e.summary) : e.kind === 'main-stack', e.summary);
      assert.equal(e.mapping.path, '[stack]');
    }
    const vdso = /^([0-9a-f]+)-[0-9a-f]+ .*\[vdso\]$/m.exec(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'))!;
    assert.equal(explainJson(pid, `0x${vdso[1]}`).kind, 'vdso');
    assert.equal(explainJson(pid, '0x10').kind, 'unmapped');
  });

  it('bad input: a clear error with what to do', () => {
    assert.match(explainFails(['--pid', 'abc', '0x1']), /--pid takes a process id/);
    assert.match(explainFails(['--pid', '999999999', '0x1']), /no process 999999999 on this machine/);
    assert.match(explainFails(['--pid', String(pid), '--binary', binary, '0x1']), /give one of --pid PID/);
  });
});
