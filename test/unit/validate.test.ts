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

describe('launch configurations: every wrong one names the attribute and what is expected', () => {
  const table: Array<[string, 'launch' | 'attach', unknown, RegExp]> = [
    ['not an object', 'launch', 'program=/x', /The launch arguments must be an object/],
    ['an array', 'attach', [], /The attach arguments must be an object/],
    ['unknown launch mode', 'launch', { mode: 'run', program: '/x' }, /"mode" must be one of "exec", "core", "debug", "test", but it is string "run"/],
    ['unknown attach mode', 'attach', { mode: 'ssh', processId: 1 }, /"mode" must be one of "local", "remote", but it is string "ssh"/],
    ['mode of the wrong type', 'launch', { mode: 1, program: '/x' }, /"mode" must be a string, but it is number 1/],
    ['program missing', 'launch', { mode: 'exec' }, /launch mode "exec" needs "program"/],
    ['package missing (debug)', 'launch', { mode: 'debug' }, /launch mode "debug" needs "program": set it to the absolute path of the Go package/],
    ['core file missing', 'launch', { mode: 'core', program: '/x' }, /launch mode "core" needs "coreFilePath"/],
    ['processId missing', 'attach', { mode: 'local' }, /attach mode "local" needs "processId"/],
    ['processId not a number', 'attach', { processId: 'runsc' }, /"processId" must be a whole number, 0 or more, but it is string "runsc"/],
    ['processId negative', 'attach', { processId: -5 }, /"processId" must be a whole number, 0 or more, but it is number -5/],
    ['port missing', 'attach', { mode: 'remote', host: 'pi' }, /attach mode "remote" needs "port"/],
    ['port a word', 'attach', { mode: 'remote', host: 'pi', port: 'dlv' }, /"port" must be a whole number/],
    ['args not strings', 'launch', { program: '/x', args: ['-n', 3] }, /"args" must be an array of strings/],
    ['env not an object', 'launch', { program: '/x', env: ['A=1'] }, /"env" must be a object, but it is array/],
    ['buildFlags an array', 'launch', { mode: 'debug', program: '/src', buildFlags: ['-tags=kvm'] }, /"buildFlags" must be a string/],
    ['substitutePath of strings', 'launch', { program: '/x', substitutePath: ['/a=/b'] }, /"substitutePath" must be an array of \{"from": string, "to": string\} objects, but item 1 \(string "\/a=\/b"\) is not an object/],
    ['relative program', 'launch', { program: 'bin/runsc' }, /"program" must be an absolute path, but it is "bin\/runsc": write \$\{workspaceFolder\}\/bin\/runsc/],
    ['relative core file', 'launch', { mode: 'core', program: '/x', coreFilePath: 'core.1' }, /"coreFilePath" must be an absolute path/],
    ['relative cwd', 'launch', { program: '/x', cwd: '.' }, /"cwd" must be an absolute path/],
    ['dlvFlags widening the listen address', 'launch', { program: '/x', dlvFlags: ['--listen=0.0.0.0:4000'] }, /"dlvFlags" may not hold "--listen=0.0.0.0:4000": a dlv started by bluepill-lens listens on 127\.0\.0\.1 only/],
    ['dlvFlags -l', 'attach', { processId: 1, dlvFlags: ['-l', ':4000'] }, /"dlvFlags" may not hold "-l"/],
    ['dlvFlags -lHOST (issue 19.8)', 'launch', { program: '/x', dlvFlags: ['-l127.0.0.2:0'] }, /"dlvFlags" may not hold "-l127\.0\.0\.2:0"/],
    ['dlvFlags -l=HOST', 'launch', { program: '/x', dlvFlags: ['-l=0.0.0.0:0'] }, /"dlvFlags" may not hold "-l=0\.0\.0\.0:0"/],
    ['dlvFlags --listen HOST', 'launch', { program: '/x', dlvFlags: ['--listen', '0.0.0.0:0'] }, /"dlvFlags" may not hold "--listen"/],
    ['dlvFlags -log (pflag reads -l "og")', 'launch', { program: '/x', dlvFlags: ['-log'] }, /"dlvFlags" may not hold "-log"/],
  ];
  for (const [what, kind, raw, expected] of table) {
    it(what, () => {
      const { errors } = validateArguments(kind, raw);
      assert.match(errors.join('\n'), expected);
    });
  }

  it('relative paths on a remote board are dlv\'s business', () => {
    assert.deepEqual(validateArguments('attach', { mode: 'remote', host: 'pi', port: 2345, cwd: 'repo' }).errors, []);
  });

  it('a good debug-mode launch passes, with its build flags', () => {
    const { args, errors } = validateArguments('launch', { mode: 'debug', program: '/src/runsc', buildFlags: '-tags=kvm' });
    assert.deepEqual(errors, []);
    assert.equal(args.buildFlags, '-tags=kvm');
  });

  it('reads an attribute in another case as dlv does, under its real name, and says so', () => {
    const { args, errors, warnings } = validateArguments('attach', { processid: '42', StopOnEntry: true });
    assert.deepEqual(errors, []);
    assert.deepEqual([args.processId, args.stopOnEntry, 'processid' in args], [42, true, false]);
    assert.deepEqual(warnings, ['"processid" is read as "processId"; write it so.', '"StopOnEntry" is read as "stopOnEntry"; write it so.']);
  });

  it('warns of an attribute one or two letters from one of ours (issue 19.5), not of VS Code\'s or dlv\'s', () => {
    const { errors, warnings } = validateArguments('launch', { program: '/x', stopOnEntyr: true, coreFilpath: '/c', argz: [], name: 'Launch', dlvCwd: '/', output: '/tmp/b', type: 'bluepill' });
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, [
      '"stopOnEntyr" is ignored: a bluepill launch has no such attribute. Did you mean "stopOnEntry"?',
      '"coreFilpath" is ignored: a bluepill launch has no such attribute. Did you mean "coreFilePath"?',
      '"argz" is ignored: a bluepill launch has no such attribute. Did you mean "args"?',
    ]);
    assert.deepEqual(validateArguments('attach', { processId: 1, procesId: 2 }).warnings, ['"procesId" is ignored: a bluepill attach has no such attribute. Did you mean "processId"?']);
  });
});
