// Source paths and the program's surroundings (issue 10): substitutePath, cwd and env
// are what vscode-go users put in their configurations. Validation must explain a
// wrong substitutePath in one sentence, and the proxy must hand all three to dlv as
// they came, so dlv's own semantics apply (from = this machine, to = dlv's side).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { validateArguments } from '../../adapter/config/validate';
import { buildFixture, fixtureSource, lineOf } from '../support/fixtures';
import { dlvDapServer } from '../support/client';
import { InProcessSession } from '../support/inProcess';
import { tapBetween } from '../support/tap';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { repoRoot } from '../support/paths';

const remote = { mode: 'remote', host: 'board', port: 2345 };

/** Until launchAttributes.ts/validate.ts check the items' shape (itemProperties), these fail. */

describe('validateArguments: substitutePath', () => {
  it('accepts pairs of strings, and passes them on unchanged', () => {
    const pairs = [
      { from: '/work/gvisor', to: '/home/ubuntu/repo/bbb/gvisor' },
      { from: '/root/go/pkg/mod', to: '' }, // dlv: an empty side adds or removes a prefix (binaries built with -trimpath)
    ];
    for (const kind of ['attach', 'launch'] as const) {
      const raw = kind === 'attach' ? { ...remote, substitutePath: pairs } : { program: '/bin/x', substitutePath: pairs };
      const { args, errors } = validateArguments(kind, raw);
      assert.deepEqual(errors, [], kind);
      assert.deepEqual(args.substitutePath, pairs, kind);
    }
    assert.deepEqual(validateArguments('attach', { ...remote, substitutePath: [] }).errors, []);
  });

  it('refuses something that is not an array, naming the attribute', () => {
    const [error] = validateArguments('attach', { ...remote, substitutePath: { from: '/a', to: '/b' } }).errors;
    assert.match(error, /^"substitutePath" must be an array/);
    assert.match(error, /object \{"from":"\/a","to":"\/b"\}/, 'and shows what it got');
  });

  it('says which pair is wrong and what a pair is', () => {
    const shape = '{"from": string, "to": string}';
    const errorFor = (substitutePath: unknown) => {
      const { errors } = validateArguments('attach', { ...remote, substitutePath });
      assert.equal(errors.length, 1, `one error for ${JSON.stringify(substitutePath)}: ${errors.join(' | ')}`);
      assert.ok(errors[0].startsWith(`"substitutePath" must be an array of ${shape} objects, but `), errors[0]);
      return errors[0];
    };
    assert.match(errorFor([{ from: '/a', to: '/b' }, { from: '/c' }]), /item 2 \(object \{"from":"\/c"\}\) has no "to"\.$/);
    assert.match(errorFor([{ to: '/b' }]), /item 1 \(object \{"to":"\/b"\}\) has no "from"\.$/);
    assert.match(errorFor([{ form: '/a', to: '/b' }]), /item 1 .* has no "from"\.$/, 'a misspelt key');
    assert.match(errorFor([{ from: 1, to: '/b' }]), /item 1 \(object \{"from":1,"to":"\/b"\}\) has "from" of type number\.$/);
    assert.match(errorFor([{ from: '/a', to: null }]), /item 1 .* has "to" of type null\.$/);
    assert.match(errorFor([['/a', '/b']]), /item 1 \(array \["\/a","\/b"\]\) is not an object\.$/);
    assert.match(errorFor(['/a:/b']), /item 1 \(string "\/a:\/b"\) is not an object\.$/);
    // Not an array at all: the same sentence names the shape.
    assert.match(errorFor({ from: '/a', to: '/b' }), /but it is object \{"from":"\/a","to":"\/b"\}\.$/);
  });

  it('tells VS Code the shape too, in the manifest\'s schema (launch.json is checked as it is typed)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const attributes = manifest.contributes.debuggers[0].configurationAttributes;
    const pair = { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } }, required: ['from', 'to'] };
    assert.deepEqual(attributes.attach.properties.substitutePath.items, pair);
    assert.deepEqual(attributes.launch.properties.substitutePath.items, pair);
  });
});

describe('substitutePath, cwd and env reach dlv unchanged (real dlv, local launch of hello)', () => {
  const dlvBefore = dlvPids();
  let program: string;
  let workDir: string;
  before(() => {
    program = buildFixture('hello');
    workDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bluepill-cwd-')));
  });
  after(async () => {
    fs.rmSync(workDir, { recursive: true, force: true });
    await expectNoNewDlv(dlvBefore);
  });

  it('forwards launch as sent; the program sees cwd and env; breakpoints and frames use the client\'s paths', async () => {
    const server = await dlvDapServer();
    let dlvStdout = '';
    server.dlv.stdout!.on('data', (d: Buffer) => (dlvStdout += d.toString())); // the launched program writes here
    const tap = await tapBetween(server.port);
    const s = new InProcessSession({ initialTarget: { kind: 'remote', host: '127.0.0.1', port: tap.port } });
    try {
      // The client sees the fixture under a folder of its own; dlv (and the DWARF) under the real one.
      const clientDir = '/client/checkout/hello';
      const clientFile = path.join(clientDir, path.basename(fixtureSource('hello')));
      const line = lineOf('hello', 'breakpoint target');
      const launch = {
        mode: 'exec',
        program,
        args: ['-print-env', 'BLUEPILL_PROBE', '-print-cwd'],
        cwd: workDir,
        env: { BLUEPILL_PROBE: 'a value, with spaces = and "quotes"' },
        substitutePath: [{ from: clientDir, to: path.join(repoRoot, 'test', 'fixtures', 'hello') }],
        showRegisters: true,
      };
      assert.ok((await s.request('initialize', { adapterID: 'bluepill', pathFormat: 'path' }))?.success);
      const launched = await s.request('launch', launch);
      assert.ok(launched?.success, `launch: ${launched?.message}`);
      assert.ok(await s.event('initialized', 0));

      const forwarded = tap.toDlv.filter((r) => r.command === 'launch');
      assert.equal(forwarded.length, 1);
      assert.deepEqual(forwarded[0].arguments, launch, 'dlv got the launch arguments as the client sent them');

      const bps = (await s.request('setBreakpoints', { source: { path: clientFile }, breakpoints: [{ line }] })) as DebugProtocol.SetBreakpointsResponse;
      assert.equal(bps.body.breakpoints[0].verified, true, `bound through substitutePath: ${bps.body.breakpoints[0].message ?? ''}`);
      assert.equal(bps.body.breakpoints[0].line, line);
      await s.request('configurationDone');
      const stopped = (await s.event('stopped', 0)) as DebugProtocol.StoppedEvent;
      assert.ok(stopped, 'stopped at the breakpoint');
      const frames = ((await s.request('stackTrace', { threadId: stopped.body.threadId, levels: 5 })) as DebugProtocol.StackTraceResponse).body.stackFrames;
      assert.equal(frames[0].name, 'main.square');
      assert.deepEqual(frames.filter((f) => f.name.startsWith('main.')).map((f) => f.source?.path), [clientFile, clientFile, clientFile], 'frames name the client\'s file');

      await s.request('setBreakpoints', { source: { path: clientFile }, breakpoints: [] });
      await s.request('continue', { threadId: stopped.body.threadId });
      assert.ok(await s.event('terminated', 0), 'the program ran to its end');
      assert.match(dlvStdout, /^env BLUEPILL_PROBE="a value, with spaces = and \\"quotes\\"" set=true$/m, 'the program saw env');
      assert.match(dlvStdout, new RegExp(`^cwd ${workDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} <nil>$`, 'm'), 'the program ran in cwd');
      await s.request('disconnect', {});
    } finally {
      await s.close();
      tap.close();
      await server.stop();
    }
  });
});
