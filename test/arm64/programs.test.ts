// Real ARM64 Go programs that read and write system registers, disassembled two
// ways: `go tool objdump` through `bluepill-lens annotate`, and dlv's disassemble
// through the proxy on a core file made under qemu-user. Every MRS/MSR line must
// carry the name binutils gives the same word.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture } from '../support/fixtures';
import { binutilsMoves, goObjdump, makeQemuCore, type BinutilsMove } from '../support/arm64';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { cliBundle } from '../support/paths';
import { dlvPids, expectNoNewDlv } from '../support/processes';

/** The name our annotation shows for an instruction text, e.g. "MRS TPIDR_EL1, R18  // ..." → TPIDR_EL1. */
function annotatedName(instruction: string): string | undefined {
  const m = /^MRS (\S+), (?:R\d+|ZR)  \/\/ |^MSR (?:R\d+|ZR), (\S+)  \/\/ /.exec(instruction);
  return m ? m[1] ?? m[2] : undefined;
}

describe('system registers in real ARM64 programs', () => {
  let binary: string;
  let moves: BinutilsMove[];
  const before_ = dlvPids();

  before(() => {
    binary = buildFixture('sysregs', { goarch: 'arm64' });
    moves = binutilsMoves(binary).filter((m) => m.symbol.startsWith('main.'));
  });
  after(() => expectNoNewDlv(before_));

  it('runs under qemu-user, reading EL0 registers for real', () => {
    const out = execFileSync('qemu-aarch64-static', [binary], { encoding: 'utf8' });
    assert.match(out, /tpidr_el0=0x1234 cntvct=\d+ cntfrq=\d+/);
  });

  it('`annotate` names every MRS/MSR of `go tool objdump` as binutils does', () => {
    const listing = goObjdump(binary, '^main\\.');
    const annotated = execFileSync(process.execPath, [cliBundle, 'annotate', '-'], { input: listing, encoding: 'utf8' });
    const byAddress = new Map(moves.map((m) => [m.address, m]));
    let checked = 0;
    for (const line of annotated.split('\n')) {
      const m = /\t0x([0-9a-f]+)\t.*\t(M[RS][RS] [^\t]*?)\s*$/.exec(line);
      if (!m || /\$\d+, DAIF/.test(m[2])) continue;
      const move = byAddress.get(parseInt(m[1], 16));
      assert.ok(move, `binutils sees a system register move at 0x${m[1]}: ${line}`);
      assert.equal(annotatedName(m[2]), move.name, line);
      checked++;
    }
    assert.ok(checked >= 25, `checked ${checked} instructions`);
    // Nothing else changed: remove the notes and the listing is what go tool objdump printed.
    assert.equal(annotated.split('\n').length, listing.split('\n').length);
  });

  it('`annotate` of a `go tool objdump -gnu` listing: the note goes between Go\'s text and binutils\', which stays', () => {
    const listing = execFileSync('go', ['tool', 'objdump', '-gnu', '-s', '^main\\.', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const annotated = execFileSync(process.execPath, [cliBundle, 'annotate', '-'], { input: listing, encoding: 'utf8' });
    const byAddress = new Map(moves.map((m) => [m.address, m]));
    let checked = 0;
    for (const [i, line] of annotated.split('\n').entries()) {
      const m = /\t0x([0-9a-f]+)\t.*\t(M[RS][RS] [^\t]*?)(\s+\/\/ (?:mrs|msr) [^\t]*?)\s*$/.exec(line);
      if (!m || /\$\d+, DAIF/.test(m[2])) continue;
      const move = byAddress.get(parseInt(m[1], 16))!;
      assert.ok(move, line);
      assert.equal(annotatedName(m[2]), move.name, line);
      assert.ok(listing.split('\n')[i].endsWith(`${m[3]}\t`) || listing.split('\n')[i].endsWith(m[3]), `binutils' text kept: ${line}`);
      checked++;
    }
    assert.ok(checked >= 25, `checked ${checked} instructions`);
    assert.equal(execFileSync(process.execPath, [cliBundle, 'annotate', '-'], { input: annotated, encoding: 'utf8' }), annotated, 'annotating twice changes nothing');
  });

  describe('through the proxy, on a core file made under qemu-user', () => {
    let dc: RecordingClient;
    let core: ReturnType<typeof makeQemuCore>;

    before(async () => {
      core = makeQemuCore(binary, ['-crash']);
      dc = await proxyClient();
    });
    after(async () => {
      await dc.stop();
      core.cleanup();
    });

    it('disassembles every MRS/MSR with the name binutils gives', async () => {
      await openSession(dc, 'launch', { mode: 'core', program: binary, coreFilePath: core.core });
      const stopped = dc.waitForEvent('stopped');
      await dc.configurationDoneRequest();
      await stopped;
      const threads = await dc.threadsRequest();
      const stack = await dc.stackTraceRequest({ threadId: threads.body.threads[0].id, levels: 20 });
      assert.ok(stack.body.stackFrames.some((f) => f.name === 'main.crashHere'), 'the core stopped in the fixture');

      const first = Math.min(...moves.map((m) => m.address));
      const last = Math.max(...moves.map((m) => m.address));
      const count = (last - first) / 4 + 1;
      const dis = (await dc.customRequest('disassemble', { memoryReference: `0x${first.toString(16)}`, instructionCount: count })) as DebugProtocol.DisassembleResponse;
      const byAddress = new Map(dis.body!.instructions.map((i) => [parseInt(i.address, 16), i]));
      for (const move of moves) {
        const ins = byAddress.get(move.address);
        assert.ok(ins, `dlv disassembled 0x${move.address.toString(16)}`);
        assert.equal(annotatedName(ins.instruction), move.name, ins.instruction);
        assert.match(ins.instruction, /  \/\/ (\$\d+|S[23]_\d_C\d+_C\d+_\d) · EL[0-3]/, 'the raw operand stays visible');
        assert.equal(ins.instructionBytes, Buffer.from(move.word.toString(16).padStart(8, '0'), 'hex').reverse().toString('hex'));
      }
    });
  });
});
