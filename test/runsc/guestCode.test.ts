// The table of where gVisor's code runs (generated from the pinned gVisor's source) against the
// real runsc built from that source: every function it names is in runsc (compiled, or inlined:
// DWARF lists both), and a real dlv session on runsc gets the breakpoint warnings right, for
// function, source line and instruction breakpoints. runsc is only loaded by dlv, never run.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { GUEST_CODE } from '../../adapter/bluepill/guestCode.generated';
import { shortName } from '../../adapter/bluepill/symbols';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { dlvPids, expectNoNewDlv } from '../support/processes';
import { repoRoot } from '../support/paths';
import { GVISOR_VERSION, runscBinaries } from '../support/runsc';

const GUEST_WARNING = /runs in guest mode.*never enables KVM_SET_GUEST_DEBUG/s;

/** Every function runsc's DWARF describes, named as the table names them. */
function functionNames(binary: string): Set<string> {
  const out = execFileSync('go', ['run', path.join(repoRoot, 'test', 'support', 'funcnames', 'main.go'), binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return new Set(out.split('\n').filter(Boolean).map(shortName));
}

/** gVisor's source as runsc was built from it (the module cache; runsc's DWARF points there). */
let sourceDir: string | undefined;
function gvisorSource(): string {
  if (sourceDir) return sourceDir;
  const dir = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `gvisor.dev/gvisor@${GVISOR_VERSION}`], { encoding: 'utf8', cwd: path.join(repoRoot, 'tools', 'guestcode') })).Dir as string;
  assert.ok(fs.existsSync(dir), `gVisor's source at ${dir}`);
  return (sourceDir = dir);
}

/** Whether gVisor's source for an architecture declares a function named as the table names it. */
function declaredInSource(source: string, name: string, arch: 'amd64' | 'arm64'): boolean {
  const m = /^(\w+)\.(?:\((\*?)(\w+)\)\.|(\w+)\.)?(\w+)$/.exec(name);
  if (!m) return false;
  const [, pkg, star, ptrType, valueType, fn] = m;
  const receiver = ptrType ?? valueType;
  const escape = (t: string) => t.replace(/[*()]/g, '\\$&');
  const declaration = receiver
    ? new RegExp(`^func \\((\\w+ )?${escape(star ?? '')}${receiver}\\) ${fn}\\(`, 'm')
    : new RegExp(`^(func ${fn}\\(|TEXT ·${fn}\\(SB\\))`, 'm');
  const other = arch === 'amd64' ? 'arm64' : 'amd64';
  const dirs = execFileSync('find', [path.join(source, 'pkg'), '-type', 'd', '-name', pkg], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return dirs.some((dir) =>
    fs.readdirSync(dir)
      .filter((f) => /\.(go|s)$/.test(f) && !f.endsWith('_test.go') && !f.includes(`_${other}`))
      .some((f) => declaration.test(fs.readFileSync(path.join(dir, f), 'utf8'))),
  );
}

/** The first statement line after `func ...name(` in a file: inside that function's body. */
function lineInside(file: string, declaration: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.startsWith(declaration));
  assert.ok(index >= 0, `${declaration} in ${file}`);
  const statement = lines.findIndex((l, i) => i > index && !/^\s*(\/\/.*)?$/.test(l));
  return statement + 1;
}

describe(`where gVisor's code runs, on runsc ${GVISOR_VERSION}`, () => {
  let binaries: { amd64: string; arm64: string };
  before(() => {
    binaries = runscBinaries();
    assert.equal(GUEST_CODE.gvisorVersion, GVISOR_VERSION, 'the table is generated from the pinned gVisor (tools/gen-guest-code.sh)');
  });

  for (const arch of ['amd64', 'arm64'] as const) {
    it(`every function of the table is in runsc for ${arch}, or declared in gVisor's source and left without code`, () => {
      const names = functionNames(binaries[arch]);
      const rows = GUEST_CODE.functions.filter((r) => !r[3] || r[3] === arch);
      assert.ok(rows.length > 100, `${rows.length} rows for ${arch}`);
      const missing = rows.filter((r) => !names.has(r[0])).map((r) => r[0]);
      // The source-level call graph cannot see what the compiler leaves without code (one-line
      // bodies inlined to nothing, branches dead on this architecture): such a function takes no
      // breakpoint, but its name must still be a real declaration of gVisor's for this architecture.
      const undeclared = missing.filter((name) => !declaredInSource(gvisorSource(), name, arch));
      assert.deepEqual(undeclared, [], `named by the table, neither in runsc for ${arch} nor declared in gVisor's source`);
      assert.ok(missing.length <= rows.length / 10, `${missing.length} of ${rows.length} without code: ${missing.join(', ')}`);
    });
  }

  describe('through a real dlv session on runsc (amd64, loaded, not run)', () => {
    let dc: RecordingClient;
    let pidsBefore: number[];
    let source: string;
    const warning = (bp: DebugProtocol.Breakpoint) => bp.message ?? '';

    before(async () => {
      pidsBefore = dlvPids();
      source = gvisorSource();
      dc = await proxyClient();
      await openSession(dc, 'launch', { mode: 'exec', program: binaries.amd64, args: ['--version'] });
    });
    after(async () => {
      await dc.stop();
      await expectNoNewDlv(pidsBefore);
    });

    it('function breakpoints: guest code is warned with its reason, the host side of the round trip is not', async () => {
      const names = ['gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillGuestExit', 'gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser', 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.(*addressSpace).mapLocked', 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillHandler', 'main.main'];
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: names.map((name) => ({ name })) });
      const [guestExit, switchToUser, mapLocked, handler, main] = r.body.breakpoints;
      assert.ok(r.body.breakpoints.every((b) => b.verified), `dlv placed them all: ${JSON.stringify(r.body.breakpoints.map((b) => b.message))}`);
      assert.equal(guestExit.message, undefined, 'kvm.bluepillGuestExit runs in the host signal handler');
      assert.equal(handler.message, undefined, 'kvm.bluepillHandler runs in the host signal handler');
      assert.equal(main.message, undefined);
      assert.match(warning(switchToUser), GUEST_WARNING);
      assert.match(warning(switchToUser), /called after bluepill\(\) in kvm\.\(\*vCPU\)\.SwitchToUser \(machine_amd64\.go:\d+\)/);
      assert.match(warning(mapLocked), /called after bluepill\(\) in kvm\.\(\*addressSpace\)\.MapFile/);
      assert.equal(dc.events('bluepill/warning').length, 1, 'one notification');
    });

    it('source line breakpoints: judged by the function the line is in', async () => {
      const kernel = path.join(source, 'pkg', 'ring0', 'kernel_amd64.go');
      const ring0 = await dc.setBreakpointsRequest({ source: { path: kernel }, breakpoints: [{ line: lineInside(kernel, 'func (c *CPU) SwitchToUser(') }] });
      assert.equal(ring0.body.breakpoints[0].verified, true, JSON.stringify(ring0.body.breakpoints[0]));
      assert.match(warning(ring0.body.breakpoints[0]), /^ring0\.\(\*CPU\)\.SwitchToUser runs in guest mode/);
      const bluepill = path.join(source, 'pkg', 'sentry', 'platform', 'kvm', 'bluepill_unsafe.go');
      const host = await dc.setBreakpointsRequest({ source: { path: bluepill }, breakpoints: [{ line: lineInside(bluepill, 'func bluepillGuestExit(') }] });
      assert.equal(host.body.breakpoints[0].verified, true, JSON.stringify(host.body.breakpoints[0]));
      assert.equal(host.body.breakpoints[0].message, undefined, 'a line of bluepillGuestExit is host code');
    });

    it('instruction breakpoints: judged by the function at the address', async () => {
      const functions = readElfFunctions(binaries.amd64).functions;
      const address = (name: string) => `0x${functions.find((f) => f.name === name)!.address.toString(16)}`;
      const r = (await dc.customRequest('setInstructionBreakpoints', {
        breakpoints: [{ instructionReference: address('gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser') }, { instructionReference: address('gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepillGuestExit') }],
      })) as DebugProtocol.SetInstructionBreakpointsResponse;
      assert.match(warning(r.body.breakpoints[0]), /^ring0\.\(\*CPU\)\.SwitchToUser runs in guest mode/);
      assert.equal(r.body.breakpoints[1].message, undefined);
    });
  });
});
