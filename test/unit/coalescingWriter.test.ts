// The client's writer: frames of one turn leave in one write, and written() tells when
// they have left (the tracker starts a stop's analysis after its event is written).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CoalescingWriter } from '../../adapter/dap/coalescingWriter';

function recordingStream(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes };
}

describe('CoalescingWriter', () => {
  it('writes the frames of one turn in one write, in order', async () => {
    const { stream, writes } = recordingStream();
    const writer = new CoalescingWriter(stream);
    writer.write('a');
    writer.write('b');
    assert.deepEqual(writes, [], 'nothing leaves before the turn ends');
    await new Promise((r) => setImmediate(r));
    writer.write('c');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes, ['ab', 'c']);
  });

  it('written(): undefined when nothing waits; otherwise resolves once the frames have been written', async () => {
    const { stream, writes } = recordingStream();
    const writer = new CoalescingWriter(stream);
    assert.equal(writer.written(), undefined);
    writer.write('stopped');
    const left = writer.written();
    assert.ok(left instanceof Promise);
    let seen: string[] | undefined;
    await left!.then(() => (seen = [...writes]));
    assert.deepEqual(seen, ['stopped'], 'resolved after the write, not before');
    // What is written after the wait goes in a write of its own.
    writer.write('state');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes, ['stopped', 'state']);
    assert.equal(writer.written(), undefined);
  });

  it('end() writes what is pending and settles its waiters', async () => {
    const { stream, writes } = recordingStream();
    const writer = new CoalescingWriter(stream);
    writer.write('last');
    const left = writer.written();
    writer.end();
    await left;
    assert.deepEqual(writes, ['last']);
  });
});
