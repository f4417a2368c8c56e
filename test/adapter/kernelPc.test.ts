// The PC of a thread stepped by instruction, read from the kernel (/proc/PID/task/TID/
// syscall) when dlv runs the debuggee on this machine: at every stop it must be the PC
// dlv itself gives, with the name dlv gives it; through a dlv the proxy reaches over the
// network (remote: no pid to read), every PC comes from dlv, and steps sent back to back
// go to dlv behind the tracker's one read also after a jump or a call whose targets are
// known. amd64, live, pinned dlv.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { dlvDapServer } from '../support/client';
import { ensureDlv } from '../support/paths';
import { InProcessSession } from '../support/inProcess';
import { defaultHooks } from '../../adapter/hooks';
import type { ProxyOptions } from '../../adapter/session/proxy';
import type { BluepillState, StopView } from '../../adapter/bluepill/state';
import { startProcess, type Running } from '../support/processes';

const STEPS = 100;
const BACK_TO_BACK = 60;

interface Run {
  compared: Compared[];
  /** The states of steps sent back to back afterwards, in stop order. */
  backToBack: StopView[];
  /** For each of those steps as it went to dlv: whether a stackTrace of the proxy's own was still unanswered. */
  behindRead: boolean[];
}

interface Compared {
  stop: StopView;
  /** dlv's own top frame at that stop, asked by the test through the proxy. */
  dlvPc: string;
  dlvName: string;
}

/**
 * A session stopped at square() in hello's endless compute loop, then STEPS instruction
 * steps, each compared with dlv's answer, then BACK_TO_BACK steps sent as fast as dlv answers.
 */
async function stepAndCompare(options: ProxyOptions, start: { command: 'launch' | 'attach'; args: Record<string, unknown> } = { command: 'launch', args: { mode: 'exec', program: buildFixture('hello'), args: ['-spin'] } }): Promise<Run> {
  // The proxy's own requests to dlv, unanswered, when each stepIn leaves for dlv.
  const pending = new Set<number>();
  const behindRead: boolean[] = [];
  let counting = false;
  const observe: ProxyOptions['observe'] = (direction, m) => {
    const message = m as DebugProtocol.Request & DebugProtocol.Response;
    if (direction === 'proxy→dlv' && message.type === 'request' && message.command === 'stackTrace') pending.add(message.seq);
    if (direction === 'dlv→proxy' && message.type === 'response') pending.delete(message.request_seq);
    if (direction === 'proxy→dlv' && message.type === 'request' && message.command === 'stepIn' && counting) behindRead.push(pending.size > 0);
  };
  const s = new InProcessSession({ ...options, hooks: defaultHooks(), observe });
  try {
    await s.request('initialize', { adapterID: 'bluepill' });
    assert.ok((await s.request(start.command, start.args))?.success);
    const source = { path: fixtureSource('hello') };
    await s.request('setBreakpoints', { source, breakpoints: [{ line: lineOf('hello', 'breakpoint target') }] });
    await s.request('configurationDone');
    const threadId = ((await s.event('stopped', 0)) as DebugProtocol.StoppedEvent).body.threadId!;
    await s.request('setBreakpoints', { source, breakpoints: [] });
    const compared: Compared[] = [];
    for (let i = 1; i <= STEPS; i++) {
      assert.ok((await s.request('stepIn', { threadId, granularity: 'instruction' }))?.success);
      assert.ok(await s.event('stopped', i), `stop ${i}`);
      // The state of this stop (index i + 1: the breakpoint's stop was 1), then dlv's answer while the thread stands there.
      assert.ok(await s.until(() => s.events('bluepill/state').some((e) => (e.body as BluepillState).stop?.index === i + 1), 10_000), `state of stop ${i + 1}`);
      const state = s.events('bluepill/state').find((e) => (e.body as BluepillState).stop?.index === i + 1)!.body as BluepillState;
      const top = ((await s.request('stackTrace', { threadId, startFrame: 0, levels: 1 })) as DebugProtocol.StackTraceResponse).body.stackFrames[0];
      compared.push({ stop: state.stop!, dlvPc: top.instructionPointerReference!, dlvName: top.name });
    }
    // Back to back: the next step as soon as `stopped` arrives, never waiting for a state.
    counting = true;
    for (let i = STEPS + 1; i <= STEPS + BACK_TO_BACK; i++) {
      assert.ok((await s.request('stepIn', { threadId, granularity: 'instruction' }))?.success);
      assert.ok(await s.event('stopped', i), `stop ${i}`);
    }
    const last = STEPS + BACK_TO_BACK + 1;
    assert.ok(await s.until(() => s.events('bluepill/state').some((e) => (e.body as BluepillState).stop?.index === last), 10_000), 'every back-to-back stop analysed');
    const backToBack: StopView[] = [];
    for (const e of s.events('bluepill/state')) {
      const stop = (e.body as BluepillState).stop;
      if (stop && stop.index > STEPS + 1 && stop.index > (backToBack.at(-1)?.index ?? 0)) backToBack.push(stop);
    }
    assert.deepEqual(s.log.filter((l) => /not analysed/.test(l)), []);
    return { compared, backToBack, behindRead };
  } finally {
    await s.request('disconnect', { terminateDebuggee: true }).catch(() => undefined);
    await s.close();
  }
}

describe('the PC of a stepped thread, from the kernel (amd64, live)', { skip: process.arch !== 'x64' && 'amd64 only' }, () => {
  let local: Compared[];
  let remote: Compared[];
  let remoteRun: Run;
  let attached: Compared[];
  let target: Running | undefined;
  let server: Awaited<ReturnType<typeof dlvDapServer>>;

  let optimized: Compared[];

  before(async () => {
    local = (await stepAndCompare({ defaults: { dlvPath: ensureDlv() } })).compared;
    optimized = (await stepAndCompare({ defaults: { dlvPath: ensureDlv() } }, { command: 'launch', args: { mode: 'exec', program: buildFixture('hello', { optimized: true }), args: ['-spin'] } })).compared;
    server = await dlvDapServer();
    remoteRun = await stepAndCompare({ initialTarget: { kind: 'remote', host: '127.0.0.1', port: server.port } });
    remote = remoteRun.compared;
    // Attached by pid: the pid comes from the arguments, not from dlv's children.
    target = await startProcess(buildFixture('hello'), ['-forever'], /ready/);
    attached = (await stepAndCompare({ defaults: { dlvPath: ensureDlv() } }, { command: 'attach', args: { mode: 'local', processId: target.pid } })).compared;
  });
  after(async () => {
    await server?.stop();
    await target?.stop();
  });

  it('reads from the kernel too when attached to a local process by pid, and agrees with dlv', () => {
    for (const c of attached) assert.equal(BigInt(c.stop.pc), BigInt(c.dlvPc), `stop ${c.stop.index} (${c.stop.pcFrom})`);
    const fromKernel = attached.filter((c) => c.stop.pcFrom === 'kernel').length;
    assert.ok(fromKernel >= STEPS - 30, `${fromKernel} of ${STEPS} from the kernel`);
  });

  it('agrees with dlv at every stop, PC and function', () => {
    for (const c of local) {
      assert.equal(BigInt(c.stop.pc), BigInt(c.dlvPc), `stop ${c.stop.index} (${c.stop.pcFrom})`);
      assert.equal(c.stop.symbol, c.dlvName, `stop ${c.stop.index} (${c.stop.pcFrom})`);
    }
  });

  it('reads most stops from the kernel once the loop has been stepped through (square, compute, their calls, jumps and returns)', () => {
    const fromKernel = local.filter((c) => c.stop.pcFrom === 'kernel');
    // The loop is 20 instructions: the first pass asks dlv, later passes need it only where nothing was learnt.
    assert.ok(fromKernel.length >= STEPS - 30, `${fromKernel.length} of ${STEPS} from the kernel`);
    const kinds = new Set(fromKernel.map((c) => c.dlvName));
    assert.deepEqual([...kinds].sort(), ['main.compute', 'main.square']);
    // After a call, a return, a taken and an untaken branch: each kind of instruction was followed.
    const after = new Set(fromKernel.map((c) => local[local.indexOf(c) - 1]?.stop.instruction?.split(' ')[0]));
    for (const kind of ['CALL', 'RET', 'JMP', 'JG']) assert.ok(after.has(kind), `a stop after ${kind} from the kernel (${[...after].join(', ')})`);
  });

  it('optimised code (inlining on): names a PC from the binary\'s line table only outside inlined code, and agrees with dlv at every stop', () => {
    for (const c of optimized) {
      assert.equal(BigInt(c.stop.pc), BigInt(c.dlvPc), `stop ${c.stop.index} (${c.stop.pcFrom})`);
      assert.equal(c.stop.symbol, c.dlvName, `stop ${c.stop.index} at ${c.stop.pc} (${c.stop.pcFrom})`);
    }
    const fromKernel = optimized.filter((c) => c.stop.pcFrom === 'kernel').length;
    assert.ok(fromKernel >= STEPS / 2, `${fromKernel} of ${STEPS} from the kernel`);
  });

  it('asks dlv for every PC when dlv is reached over the network (no local pid to read)', () => {
    assert.equal(remote.length, STEPS);
    for (const c of remote) {
      assert.equal(c.stop.pcFrom, 'dlv', `stop ${c.stop.index}`);
      assert.equal(BigInt(c.stop.pc), BigInt(c.dlvPc));
    }
  });

  it('sends steps back to back behind the tracker\'s one read after jumps and calls too (remote: every stop from dlv)', () => {
    const { backToBack, behindRead } = remoteRun;
    assert.equal(backToBack.length, BACK_TO_BACK, 'one state per stop, in order');
    assert.deepEqual(backToBack.map((v) => v.index), backToBack.map((_, i) => STEPS + 2 + i));
    // Every move between two stops is one the compared steps saw (each PC there was dlv's own answer).
    const seen = new Set(remote.slice(1).map((c, i) => `${remote[i].stop.pc}>${c.stop.pc}`));
    for (let i = 1; i < backToBack.length; i++) assert.ok(seen.has(`${backToBack[i - 1].pc}>${backToBack[i].pc}`), `stop ${backToBack[i].index}: ${backToBack[i - 1].pc} to ${backToBack[i].pc}`);
    // Step n left stop STEPS + n; that stop was pipelined when the step went out behind its read. The instruction
    // before it says why: straight-line code, or (new) a jump or call whose targets were known.
    const pipelinedAfter = new Set<string>();
    for (let n = 2; n < behindRead.length; n++) {
      const before = backToBack[n - 2]; // the stop before stop STEPS + n (index STEPS + n - 1)
      if (behindRead[n] && before) pipelinedAfter.add(before.instruction?.split(' ')[0] ?? '');
    }
    assert.ok(behindRead.filter(Boolean).length >= BACK_TO_BACK / 3, `${behindRead.filter(Boolean).length} of ${behindRead.length} steps behind a read`);
    for (const kind of ['JMP', 'CALL']) assert.ok(pipelinedAfter.has(kind), `pipelined after ${kind} (${[...pipelinedAfter].join(', ')})`);
  });
});
