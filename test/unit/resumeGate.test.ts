// When a resume may go to dlv: at once with nothing pending; after the latest stop's reads; after
// a step in flight has stopped and its reads are sent; never held by a step dlv refused.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ResumeGate } from '../../adapter/hooks/bluepill/resumeGate';

const step = (seq: number): DebugProtocol.Request => ({ seq, type: 'request', command: 'stepIn', arguments: { threadId: 1 } });
const turn = () => new Promise((r) => setImmediate(r));

/** Whether `p` has settled after the current microtasks and one turn. */
async function settled(p: Promise<void> | undefined): Promise<boolean> {
  if (!p) return true;
  let done = false;
  void p.then(() => (done = true));
  await turn();
  return done;
}

describe('ResumeGate', () => {
  it('lets a resume go at once when nothing is pending', () => {
    assert.equal(new ResumeGate().wait(), undefined);
  });

  it('holds a resume until the latest stop\'s analysis has sent its reads', async () => {
    const gate = new ResumeGate();
    const sent = gate.stopped();
    const waiting = gate.wait();
    assert.equal(await settled(waiting), false);
    sent();
    assert.equal(await settled(waiting), true);
    assert.equal(gate.wait(), undefined, 'and nothing is pending after');
  });

  it('holds a resume sent behind a step until that step has stopped and its stop\'s reads are sent', async () => {
    const gate = new ResumeGate();
    gate.stepSent(step(1));
    const second = gate.wait();
    assert.equal(await settled(second), false, 'the first step has not stopped');
    const sent = gate.stopped();
    assert.equal(await settled(second), false, 'stopped, its reads not sent yet');
    sent();
    assert.equal(await settled(second), true);
  });

  it('a step dlv refused, or the end of the program, holds nothing', async () => {
    const gate = new ResumeGate();
    const refused = step(1);
    gate.stepSent(refused);
    const behind = gate.wait();
    gate.noStopComing(step(2)); // another request's refusal: still held
    assert.equal(await settled(behind), false);
    gate.noStopComing(refused);
    assert.equal(await settled(behind), true);
    gate.stepSent(step(3));
    const atEnd = gate.wait();
    gate.noStopComing();
    assert.equal(await settled(atEnd), true);
  });

  it('a reads-sent call of an older stop does not open the gate for a newer one', async () => {
    const gate = new ResumeGate();
    const older = gate.stopped();
    const newer = gate.stopped();
    const waiting = gate.wait();
    older();
    assert.equal(await settled(waiting), false);
    newer();
    assert.equal(await settled(waiting), true);
  });
});
