import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { adviceFor } from '../../adapter/dlv/errorHints';

// dlv's attach/launch error texts (service/dap/server.go and proc/native), as users see them.
const cases: Array<[string, RegExp | undefined]> = [
  ['Failed to attach: Could not attach to pid 4989: this could be caused by a kernel security setting, try writing "0" to /proc/sys/kernel/yama/ptrace_scope', /asRoot/],
  ['Could not attach to pid 4989: current user does not own the process', /asRoot/],
  ['Failed to attach: operation not permitted', /ptrace_scope/],
  ['Failed to attach: no such process', /exited/],
  ['Failed to launch: could not open debug info', /Go program/],
  ['Failed to launch: open /x: no such file or directory', /Check the paths/],
  ['Failed to attach: no debugger found', /started as `dlv dap`, which waits for a launch/],
  ['Failed to launch: something new', undefined],
];

describe('adviceFor', () => {
  for (const [message, expected] of cases) {
    it(message, () => {
      const advice = adviceFor(message);
      if (expected) assert.match(advice ?? '', expected);
      else assert.equal(advice, undefined);
    });
  }
});
