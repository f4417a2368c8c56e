// The Sentry's own view of its vCPUs, read through dlv at a stop: each kvm.machine in gVisor's
// machinePool and its vCPUsByID table (field names from pkg/sentry/platform/kvm/machine.go at
// the pinned gVisor version; expressions checked on the hanging runsc with dlv 1.27.2). Joined
// with the trace's vCPU threads by the vCPU's file descriptor, which the kernel shows as
// ioctl's first argument of a thread in KVM_RUN (vcpuThreads.ts): the vCPU's own `tid` field
// is written from gVisor's hosttid.Current() and read 3 on that runsc, not a thread id.
import type { KvmRunThread } from './vcpuThreads';

const KVM = '"gvisor.dev/gvisor/pkg/sentry/platform/kvm"';
/** machine.go: const machinePoolSize = 16. */
const MACHINE_POOL_SIZE = 16;
/** A vCPU table larger than this is not a runsc we understand (maxVCPUs is the host's core count). */
const MAX_VCPUS = 1024;

/** machine.go: vCPUUser 1 << 0, vCPUGuest 1 << 1, vCPUWaiter 1 << 2 (vCPUReady: all clear). */
export const VCPU_STATE_BITS: [number, string][] = [
  [1, 'user'],
  [2, 'guest'],
  [4, 'waiter'],
];

export interface SentryVcpu {
  /** The machine's index in machinePool and the vCPU's id (its index in vCPUsByID). */
  machine: number;
  id: number;
  fd: number;
  /** The vCPU's tid field (gVisor's hosttid.Current() when it was last taken). */
  tidField: number;
  state: number;
  /** "ready" or the bits set: user, guest, waiter. */
  stateNames: string[];
  userExits: number;
  guestExits: number;
  faults: number;
  /** dieState.message: set when the vCPU died (vCPU.die). */
  dieMessage?: string;
  /** The host thread in ioctl(KVM_RUN) on this vCPU's fd, when the kernel shows one. */
  inKvmRun?: number;
}

/** What a `bluepill/guest` event carries at a stop: the Sentry's vCPU table, joined with the kernel's view. */
export interface GuestStopBody {
  vcpus?: SentryVcpu[];
  kvmRun?: KvmRunThread[];
  vcpuError?: string;
}

/** Reads an expression through dlv: the value as dlv prints it, or undefined when it cannot. */
export type Evaluate = (expression: string) => Promise<string | undefined>;

export function stateNames(state: number): string[] {
  const names = VCPU_STATE_BITS.filter(([bit]) => state & bit).map(([, n]) => n);
  return names.length ? names : ['ready'];
}

/** dlv's text of an integer: "10", "1 = 0x1". */
export function dlvInteger(text: string | undefined): number | undefined {
  const m = /^-?\d+/.exec(text?.trim() ?? '');
  return m ? Number(m[0]) : undefined;
}

/** dlv's text of a string: "\"vCPU died\"" → vCPU died. */
export function dlvString(text: string | undefined): string | undefined {
  if (!text || !text.startsWith('"')) return undefined;
  try {
    return JSON.parse(text.replace(/\.\.\.\+\d+ more"$/, '"')) as string;
  } catch {
    return text.slice(1, -1);
  }
}

/** Every vCPU of every machine in the pool; throws with a sentence when this runsc has no such table. */
export async function readVcpuTable(evaluate: Evaluate, inKvmRun: KvmRunThread[] = []): Promise<SentryVcpu[]> {
  const machines = dlvInteger(await evaluate(`${KVM}.machinePoolLen.value`));
  if (machines === undefined) throw new Error('dlv could not read gVisor\'s kvm.machinePoolLen: not a runsc with the KVM platform, or another gVisor version');
  const out: SentryVcpu[] = [];
  for (let m = 0; m < Math.min(machines, MACHINE_POOL_SIZE); m++) {
    const pointer = /0x[0-9a-f]+/.exec((await evaluate(`${KVM}.machinePool[${m}].ptr`)) ?? '')?.[0];
    if (!pointer || BigInt(pointer) === 0n) continue;
    const machine = `(*kvm.machine)(uintptr(${pointer}))`;
    // machine.go: vCPUs are handed out from vCPUsByID in order; usedVCPUs counts those taken so far.
    const total = dlvInteger(await evaluate(`len(${machine}.vCPUsByID)`)) ?? 0;
    const count = Math.min(total, dlvInteger(await evaluate(`${machine}.usedVCPUs`)) ?? total);
    for (let i = 0; i < Math.min(count, MAX_VCPUS); i++) {
      const c = `${machine}.vCPUsByID[${i}]`;
      const int = async (field: string) => dlvInteger(await evaluate(`${c}.${field}`));
      const id = await int('id');
      if (id === undefined) continue; // a nil entry
      const state = (await int('state.value')) ?? 0;
      const fd = (await int('fd')) ?? -1;
      const vcpu: SentryVcpu = {
        machine: m,
        id,
        fd,
        tidField: (await int('tid.value')) ?? 0,
        state,
        stateNames: stateNames(state),
        userExits: (await int('userExits.value')) ?? 0,
        guestExits: (await int('guestExits.value')) ?? 0,
        faults: (await int('faults')) ?? 0,
      };
      const die = dlvString(await evaluate(`${c}.dieState.message`));
      if (die) vcpu.dieMessage = die;
      const thread = inKvmRun.find((t) => !t.worker && t.vcpuFd === fd);
      if (thread) vcpu.inKvmRun = thread.tid;
      out.push(vcpu);
    }
  }
  return out;
}
