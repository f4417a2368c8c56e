// gVisor's real runsc on amd64 with --platform=kvm, live, where the machine has
// /dev/kvm: the picker's logic finds the sandbox, the pinned dlv attaches through
// the proxy, and the proxy follows the vCPU threads of the round trip.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { listProcesses } from '../../adapter/processes/procfs';
import { orderForPicker } from '../../adapter/processes/sandboxes';
import type { BluepillState } from '../../adapter/bluepill/state';
import { openSession, proxyClient, type RecordingClient } from '../support/client';
import { GVISOR_VERSION, runscBinaries } from '../support/runsc';

const KVM = fs.existsSync('/dev/kvm');
if (!KVM) console.log('skipped: no /dev/kvm');

describe(`runsc ${GVISOR_VERSION} on amd64, --platform=kvm, live`, { skip: KVM ? false : 'no /dev/kvm' }, () => {
  let sandbox: ChildProcess;
  let root: string;
  let dc: RecordingClient | undefined;
  let sandboxPid: number;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runsc-root-'));
    const earlier = new Set(listProcesses().map((p) => p.pid));
    sandbox = spawn(runscBinaries().amd64, [`--root=${root}`, '--platform=kvm', '--network=none', 'do', 'sleep', '120'], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 300; i++) {
      // `runsc do` makes a root folder of its own: the new sandbox is the one that was not there before.
      const found = orderForPicker(listProcesses()).find((p) => p.sandbox && !earlier.has(p.pid));
      if (found) {
        sandboxPid = found.pid;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await dc?.stop();
    try {
      process.kill(-sandbox.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    for (const p of listProcesses()) if (/^runsc/.test(p.name) && (p.pid === sandboxPid || p.argv.includes('gofer'))) process.kill(p.pid, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('the picker lists the runsc sandbox first, with its container id', () => {
    assert.ok(sandboxPid, 'a runsc-sandbox process appeared within 30 s');
    const first = orderForPicker(listProcesses())[0];
    assert.ok(first.sandbox, 'sandboxes come first');
    const mine = orderForPicker(listProcesses()).find((p) => p.pid === sandboxPid)!;
    assert.match(mine.name, /runsc-sandbox/);
    assert.ok(mine.sandbox?.containerId, 'the container id is read from the boot command line');
  });

  it('attaches through the proxy and finds vCPU threads in the guest (KVM_RUN)', async () => {
    dc = await proxyClient();
    // Stay stopped after attaching: stacks can only be read while the sandbox is.
    await openSession(dc, 'attach', { mode: 'local', processId: sandboxPid, stopOnEntry: true });
    await dc.configurationDoneRequest();
    const threads = await dc.threadsRequest();
    assert.ok(threads.body.threads.length > 1);
    const inGuest: string[] = [];
    for (const t of threads.body.threads) {
      const stack = await dc.request('stackTrace', { threadId: t.id, levels: 40 });
      const names = ((stack as DebugProtocol.StackTraceResponse).body?.stackFrames ?? []).map((f) => f.name);
      if (names.some((n) => /kvm\.(bluepillHandler|bluepillUserHandler)$/.test(n))) inGuest.push(`${t.name}: ${names.slice(0, 8).join(' < ')}`);
    }
    console.log(`vCPU threads in the guest:\n${inGuest.join('\n')}`);
    assert.ok(inGuest.length > 0, 'at least one vCPU thread is inside bluepillHandler (KVM_RUN)');
    // The proxy followed the stop it was told about (the first goroutine's).
    const state = dc.events('bluepill/state').map((e) => e.body as BluepillState).pop();
    assert.equal(state?.variant?.id, 'amd64-sigframe', 'the pinned gVisor is the 2024+ amd64 variant');
    // The stopped vCPU thread is in bluepillHandler's ioctl, which the attach's stop interrupted:
    // KVM_RUN returned EINTR (measured here: RAX = -4, RSI = 0xae80). Shown as such, not as in the guest.
    if (state?.stop?.phase === 'in-guest' && /RawSyscall/.test(state.stop.symbol)) {
      // Never "in the guest": a stopped thread runs no guest code.
      assert.match(state.stop.mode, /^host: /);
      if (state.stop.mode.startsWith('host: kicked out')) {
        assert.match(state.diagnoses.find((d) => d.id === 'vcpu-kicked-out')?.message ?? '', /^Kicked out of KVM_RUN, not a guest exit: the ioctl returned EINTR \(RAX = -4, RSI = KVM_RUN 0xae80\)/);
      } else {
        // dlv lost this goroutine's frames between the stack and the register reads (see below).
        console.log(`registers unread: ${state.stop.mode}`);
      }
    } else {
      // dlv sometimes gives this goroutine (on the vCPU's signal stack) a top frame at PC 0 instead.
      console.log(`the stop the proxy analysed is not a vCPU thread in KVM_RUN (dlv gave: ${state?.stop?.symbol} at ${state?.stop?.pc})`);
    }
    // Either way the signal frame is found (bluepillHandler's `context`, or bluepillUserHandler's `frame`
    // when dlv shows no bluepillHandler), and mid-trip its RIP is where CallWithSignalFrame pointed it.
    if (state?.stop && /kvm\.bluepill(User)?Handler/.test(state.stop.because)) {
      assert.match(state.ucontext?.pcSymbol ?? '', /sigframe\.retjmp$/, JSON.stringify(state.ucontext));
      // bluepill blocks every signal, and the frame keeps the mask from before (sigframe.Sigset = oldSigMask,
      // sigframe_amd64_unsafe.go): what Sigreturn restores, here Go's none.
      assert.equal(state.ucontext?.sigmaskSummary, 'none blocked');
    }
  });
});
