import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { validateArguments } from '../../adapter/config/validate';

describe('validateArguments', () => {
  it('fills defaults: mode and showRegisters', () => {
    const { args, errors } = validateArguments('launch', { program: '/bin/x' });
    assert.deepEqual(errors, []);
    assert.equal(args.mode, 'exec');
    assert.equal(args.showRegisters, true);
  });

  it('keeps an explicit showRegisters: false', () => {
    assert.equal(validateArguments('launch', { program: '/x', showRegisters: false }).args.showRegisters, false);
  });

  it('turns a numeric processId string (from ${command:...}) into a number', () => {
    const { args, errors } = validateArguments('attach', { processId: ' 4989 ' });
    assert.deepEqual(errors, []);
    assert.equal(args.processId, 4989);
  });

  it('rejects negative and fractional numbers', () => {
    assert.match(validateArguments('attach', { processId: -1 }).errors[0], /whole number/);
    assert.match(validateArguments('attach', { mode: 'remote', host: 'h', port: 1.5 }).errors[0], /"port" must be a whole number/);
  });

  it('names every wrong attribute at once', () => {
    const { errors } = validateArguments('launch', { program: 1, args: [1, 'a'], env: 'X=1' });
    assert.equal(errors.length, 3);
    assert.match(errors.join('\n'), /"args" must be an array of strings, but it holds number 1, string "a"/);
    assert.match(errors.join('\n'), /"env" must be a object/);
  });

  it('asks for what each mode needs', () => {
    assert.match(validateArguments('launch', { mode: 'core', program: '/x' }).errors[0], /needs "coreFilePath"/);
    assert.match(validateArguments('attach', { mode: 'remote' }).errors[0], /needs "host" and "port"/);
    assert.deepEqual(validateArguments('attach', { mode: 'remote', host: 'board', port: '2345' }).errors, []);
  });

  it('refuses arguments that are not an object', () => {
    assert.match(validateArguments('launch', [1]).errors[0], /must be an object/);
    assert.match(validateArguments('attach', null).errors[0], /must be an object/);
  });
});
