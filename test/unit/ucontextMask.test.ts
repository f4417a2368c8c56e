// The ucontext as the tracker reads it (one run of words from byte 40), decoded: registers
// where they were, and the signal mask (uc_sigmask) in words.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeUcontext, describeSignalMask, UCONTEXT_LAYOUTS } from '../../adapter/bluepill/ucontext';

describe('ucontext signal mask', () => {
  it('ARM64: uc_sigmask at byte 40, pc at 176 + 33 words', () => {
    const layout = UCONTEXT_LAYOUTS.arm64;
    const words = Array.from({ length: layout.words }, () => 0n);
    words[0] = (1n << 3n) | (1n << 10n); // SIGILL, SIGSEGV
    words[(176 - 40) / 8 + 33] = 0x4000n;
    words[(176 - 40) / 8 + 34] = 0n; // EL0t
    const u = decodeUcontext(layout, 0x1000n, words)!;
    assert.equal(u.pc, 0x4000n);
    assert.equal(u.mode, 'EL0t');
    assert.equal(describeSignalMask(u.sigmask), '2 blocked: SIGILL, SIGSEGV');
  });
  it('amd64: uc_sigmask at byte 296, after the 256-byte sigcontext', () => {
    const layout = UCONTEXT_LAYOUTS.amd64;
    const words = Array.from({ length: layout.words }, () => 0n);
    words[16] = 0x401000n;
    words[(296 - 40) / 8] = 0xffffffffffffffffn;
    const u = decodeUcontext(layout, 0x1000n, words)!;
    assert.equal(u.pc, 0x401000n);
    assert.equal(describeSignalMask(u.sigmask), 'all blocked');
    assert.equal(describeSignalMask(0n), 'none blocked');
    assert.equal(describeSignalMask(1n << 33n), '1 blocked: SIGRT2');
  });
});
