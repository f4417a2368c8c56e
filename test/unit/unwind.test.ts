// The frame-pointer unwinder, pure: stacks laid out word by word in a map (a fake only
// of memory), garbage and loops included.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { stripPointerAuth, unwindFramePointers, type StackMemory } from '../../adapter/bluepill/unwind';
import { clientPath, dlvRange } from '../../adapter/hooks/bluepill/signalStack';

/** Memory holding the given words; anything else is unreadable. Counts the reads. */
function memory(words: Record<string, bigint>): StackMemory & { reads: number } {
  const m = new Map(Object.entries(words).map(([a, v]) => [BigInt(a), v]));
  return {
    reads: 0,
    async words(address, count) {
      this.reads++;
      const out: bigint[] = [];
      for (let i = 0n; i < BigInt(count); i++) {
        const v = m.get(address + 8n * i);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    },
  };
}

/** Three functions: leaf at 0x1000, middle at 0x2000, outer at 0x3000 (each 0x1000 long). */
const functionStart = (pc: bigint) => (pc >= 0x1000n && pc < 0x4000n ? pc & ~0xfffn : undefined);

describe('unwindFramePointers', () => {
  it('arm64: a leaf without a record returns through LR, then follows the frame records to FP 0', async () => {
    const mem = memory({
      '0x8000': 0x8100n, // middle's record: outer's FP,
      '0x8008': 0x3010n, //   return into outer
      '0x8100': 0n, // outer's record: the outermost
      '0x8108': 0x9999n,
    });
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n, lr: 0x2020n }, mem, { functionStart });
    assert.deepEqual(u.frames.map((f) => [f.pc, f.from]), [[0x1004n, 'context pc'], [0x2020n, 'link register'], [0x3010n, 'frame record'], [0x9999n, 'frame record']]);
    assert.match(u.end, /outermost/);
  });

  it('arm64: a function past its prologue has LR saved in its own record: LR is not a second frame', async () => {
    const mem = memory({ '0x8000': 0n, '0x8008': 0x2020n });
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n, lr: 0x2020n }, mem, { functionStart });
    assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x2020n]);
  });

  it('arm64: an LR back into the interrupted function itself (after a call returned) is no caller', async () => {
    const mem = memory({ '0x8000': 0n, '0x8008': 0x2020n });
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n, lr: 0x1040n }, mem, { functionStart });
    assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x2020n]);
  });

  it('arm64: strips pointer-authentication bits from LR and return addresses', async () => {
    const signed = 0x002d000000002020n; // PAC in bits 48..54
    assert.equal(stripPointerAuth(signed), 0x2020n);
    assert.equal(stripPointerAuth(0x7fad_ffff_0000_1234n), 0xffff_ffff_0000_1234n, 'bit 55 set: a kernel address, the top bits set');
    const mem = memory({ '0x8000': 0n, '0x8008': 0x0011000000003010n });
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n, lr: signed }, mem, { functionStart });
    assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x2020n, 0x3010n]);
  });

  it('amd64: a frameless function returns through the word on top of the stack, then the RBP chain', async () => {
    const mem = memory({
      '0x7ff0': 0x2020n, // [RSP]: return into middle
      '0x8000': 0x8100n,
      '0x8008': 0x3010n,
      '0x8100': 0n,
      '0x8108': 0x3500n,
    });
    const u = await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, mem, { functionStart });
    assert.deepEqual(u.frames.map((f) => [f.pc, f.from]), [[0x1004n, 'context pc'], [0x2020n, 'stack top'], [0x3010n, 'frame record'], [0x3500n, 'frame record']]);
  });

  it('amd64: data on top of the stack (not code of another function) is not taken for a return address', async () => {
    for (const top of [0x12345678n, 0x1010n]) {
      const mem = memory({ '0x7ff0': top, '0x8000': 0n, '0x8008': 0x3010n });
      const u = await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, mem, { functionStart });
      assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x3010n], `top of stack 0x${top.toString(16)}`);
    }
    // Without symbols a stack word proves nothing.
    const mem = memory({ '0x7ff0': 0x2020n, '0x8000': 0n, '0x8008': 0x3010n });
    assert.deepEqual((await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, mem)).frames.map((f) => f.pc), [0x1004n, 0x3010n]);
  });

  it('stops at a loop: a frame record that points at itself, or back down the stack', async () => {
    const self = memory({ '0x8000': 0x8000n, '0x8008': 0x2020n });
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, self, { functionStart });
    assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x2020n]);
    assert.match(u.end, /not above 0x8000/);
    assert.equal(self.reads, 1);

    const cycle = memory({ '0x8000': 0x8100n, '0x8008': 0x2020n, '0x8100': 0x8000n, '0x8108': 0x3010n });
    const v = await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, cycle, { functionStart });
    assert.deepEqual(v.frames.map((f) => f.pc), [0x1004n, 0x2020n, 0x3010n]);
    assert.match(v.end, /0x8000 is not above 0x8100/);
  });

  it('stops at garbage: a frame pointer off the stack, misaligned, or unreadable', async () => {
    const cases: Array<[string, bigint, Record<string, bigint>, RegExp]> = [
      ['below SP', 0x100n, {}, /0x100 is not on the interrupted stack/],
      ['far above SP', 0x7ff0n + (64n << 20n), {}, /is not on the interrupted stack/],
      ['misaligned', 0x8003n, {}, /0x8003 is not on the interrupted stack/],
      ['unreadable', 0x9000n, {}, /0x9000 is not readable/],
    ];
    for (const [what, fp, words, end] of cases) {
      const u = await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp }, memory(words), { functionStart });
      assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n], what);
      assert.match(u.end, end, what);
    }
    // A chain that walks off the stack after one good record.
    const off = memory({ '0x8000': 0x7ff0n + (64n << 20n), '0x8008': 0x2020n });
    const w = await unwindFramePointers({ arch: 'amd64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, off, { functionStart });
    assert.deepEqual(w.frames.map((f) => f.pc), [0x1004n, 0x2020n]);
    assert.match(w.end, /is not on the interrupted stack/);
  });

  it('stops at the depth limit on an endless, well-formed chain', async () => {
    const words: Record<string, bigint> = {};
    for (let i = 0n; i < 200n; i++) {
      words[`0x${(0x8000n + 0x20n * i).toString(16)}`] = 0x8000n + 0x20n * (i + 1n);
      words[`0x${(0x8008n + 0x20n * i).toString(16)}`] = 0x2020n;
    }
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n }, memory(words), { functionStart, maxFrames: 10 });
    assert.equal(u.frames.length, 10);
    assert.match(u.end, /stopped at 10 frames/);
  });
});

describe('clientPath (source paths of spliced frames)', () => {
  it('maps a path where the binary was built to the path here, as substitutePath says', () => {
    const args = { substitutePath: [{ from: '/home/me/gvisor', to: '/build/gvisor' }, { from: '/x', to: '' }] };
    assert.equal(clientPath(args, '/build/gvisor/pkg/ring0/kernel.go'), '/home/me/gvisor/pkg/ring0/kernel.go');
    assert.equal(clientPath(args, '/build/gvisor2/a.go'), '/build/gvisor2/a.go', 'a path that only starts with the same letters');
    assert.equal(clientPath(undefined, '/build/gvisor/a.go'), '/build/gvisor/a.go');
  });
});

describe('unwindFramePointers: records that hold no code', () => {
  it('stops at a return address that is not code, before reading further', async () => {
    const mem = memory({ '0x8000': 0x8100n, '0x8008': 0x2020n, '0x8100': 0x8200n, '0x8108': 0x1b6321452000n, '0x8200': 0n, '0x8208': 0x3010n });
    const isCode = async (pc: bigint) => functionStart(pc) !== undefined;
    const u = await unwindFramePointers({ arch: 'arm64', pc: 0x1004n, sp: 0x7ff0n, fp: 0x8000n, lr: 0x2020n }, mem, { functionStart, isCode });
    assert.deepEqual(u.frames.map((f) => f.pc), [0x1004n, 0x2020n]);
    assert.match(u.end, /return address 0x1b6321452000 in the record at 0x8100 is not code/);
    assert.equal(mem.reads, 2);
  });
});

describe('dlvRange (a client page of the spliced stack in dlv\'s numbering)', () => {
  // dlv has frames 0..; 3 spliced frames go before dlv's frame 4: client frames 4, 5, 6 are spliced.
  const cases: Array<[number, number, { start: number; end: number }, string]> = [
    [0, 1, { start: 0, end: 1 }, 'the top frame'],
    [1, 4, { start: 1, end: 4 }, 'dlv\'s frames before the insertion point'],
    [1, 20, { start: 1, end: 17 }, 'across the spliced frames: 3 fewer of dlv\'s'],
    [5, 6, { start: 4, end: 4 }, 'spliced frames only: none of dlv\'s'],
    [5, 10, { start: 4, end: 7 }, 'from inside the spliced frames on'],
    [7, 27, { start: 4, end: 24 }, 'after them: shifted by 3'],
  ];
  for (const [start, end, expected, what] of cases) {
    it(what, () => assert.deepEqual(dlvRange(start, end, 4, 3), expected));
  }
});
