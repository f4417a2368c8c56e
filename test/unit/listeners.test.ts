// Addresses as /proc/net/tcp and tcp6 write them (32-bit words in host order), read
// back and judged loopback or not.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseAddress } from '../../adapter/dlv/listeners';

describe('listening addresses from /proc', () => {
  const table: [string, string, string, boolean][] = [
    ['127.0.0.1', '0100007F', '127.0.0.1', true],
    ['127.0.0.2', '0200007F', '127.0.0.2', true],
    ['0.0.0.0', '00000000', '0.0.0.0', false],
    ['192.0.2.10', '0A0200C0', '192.0.2.10', false],
    ['::1', '00000000000000000000000001000000', '0:0:0:0:0:0:0:1', true],
    ['::', '00000000000000000000000000000000', '0:0:0:0:0:0:0:0', false],
    ['::ffff:127.0.0.1', '0000000000000000FFFF00000100007F', '0:0:0:0:0:ffff:7f00:1', true],
    ['::ffff:192.0.2.10', '0000000000000000FFFF00000A0200C0', '0:0:0:0:0:ffff:c000:20a', false],
  ];
  for (const [what, hex, ip, loopback] of table) {
    it(what, () => assert.deepEqual(parseAddress(hex), { ip, loopback }));
  }
});
