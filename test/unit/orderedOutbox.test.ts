import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { OrderedOutbox } from '../../adapter/session/orderedOutbox';

const later = <T>(value: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(value), ms));

describe('OrderedOutbox', () => {
  it('delivers plain items at once, in order', () => {
    const out: number[] = [];
    const box = new OrderedOutbox<number>((n) => out.push(n), (e) => assert.fail(String(e)));
    box.push(1);
    box.push(2);
    assert.deepEqual(out, [1, 2]);
  });

  it('holds later items behind one that is still being rewritten', async () => {
    const out: number[] = [];
    const box = new OrderedOutbox<number>((n) => out.push(n), (e) => assert.fail(String(e)));
    box.push(1);
    box.push(later(2, 30));
    box.push(3);
    box.push(later(4, 5));
    assert.deepEqual(out, [1]);
    await box.idle();
    assert.deepEqual(out, [1, 2, 3, 4]);
  });

  it('drops undefined, reports a rejected item and goes on', async () => {
    const out: number[] = [];
    const errors: unknown[] = [];
    const box = new OrderedOutbox<number>((n) => out.push(n), (e) => errors.push(e));
    box.push(Promise.reject(new Error('boom')));
    box.push(undefined);
    box.push(5);
    await box.idle();
    assert.deepEqual(out, [5]);
    assert.equal((errors[0] as Error).message, 'boom');
  });
});
