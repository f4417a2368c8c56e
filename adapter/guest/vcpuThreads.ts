// Which host thread is a vCPU inside ioctl(KVM_RUN), as the kernel says, and which OS thread
// dlv's goroutine stands for. dlv's DAP threads are goroutines, named "[Go 1] ... (Thread N)"
// after the OS thread dlv found running that goroutine (through the thread's TLS). Measured on
// the hanging runsc (amd64, dlv 1.27.2): the thread in KVM_RUN was sometimes named, and
// sometimes KVM's own worker "kvm-nx-lpage-re" (a kernel thread cloned from the vCPU thread at
// its first KVM_RUN, so it shares its TLS, and /proc shows it in the same ioctl with the same
// vCPU fd). /proc/PID/task/TID/syscall tells them apart (only while the thread is stopped or
// blocked; a running thread shows "running"), and PF_USER_WORKER in its stat flags marks the
// worker.
import * as fs from 'node:fs';
import { SYSCALL_NAMES } from '../bluepill/syscalls.generated';
import type { GuestArch } from './addressMap';

/** gVisor's KVM_RUN request (pkg/sentry/platform/kvm/kvm_const.go, both architectures). */
export const KVM_RUN = 0xae80n;
/** include/linux/sched.h: "Kernel thread cloned from userspace thread" (vhost and KVM workers). */
export const PF_USER_WORKER = 0x4000;

export interface KvmRunThread {
  tid: number;
  /** The vCPU's file descriptor: ioctl's first argument. */
  vcpuFd: number;
  /** KVM's worker thread (PF_USER_WORKER), not a vCPU: it only looks like its creator. */
  worker: boolean;
  comm: string;
}

/** /proc/.../syscall: "16 0xa 0xae80 ..." → number and arguments; undefined for "running" or "-1 ...". */
export function parseSyscallFile(text: string): { nr: number; args: bigint[] } | undefined {
  const parts = text.trim().split(/\s+/);
  const nr = Number(parts[0]);
  if (!/^\d+$/.test(parts[0] ?? '') || parts.length < 3) return undefined;
  return { nr, args: parts.slice(1, 7).map((a) => BigInt(a)) };
}

/** The flags field of /proc/.../stat (the 9th, counted after the command name's closing parenthesis). */
export function statFlags(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[6]);
}

/** Whether a parsed syscall is ioctl(fd, KVM_RUN). */
export function isKvmRun(arch: GuestArch, call: { nr: number; args: bigint[] } | undefined): boolean {
  return !!call && SYSCALL_NAMES[arch][call.nr] === 'ioctl' && call.args[1] === KVM_RUN;
}

/** The process's threads inside ioctl(KVM_RUN) now, as the kernel shows them (root; threads stopped or blocked). */
export function kvmRunThreads(pid: number, arch: GuestArch, procRoot = '/proc'): KvmRunThread[] {
  const out: KvmRunThread[] = [];
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`${procRoot}/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const dir = `${procRoot}/${pid}/task/${t}`;
      const call = parseSyscallFile(fs.readFileSync(`${dir}/syscall`, 'utf8'));
      if (!isKvmRun(arch, call)) continue;
      const flags = statFlags(fs.readFileSync(`${dir}/stat`, 'utf8'));
      out.push({ tid: Number(t), vcpuFd: Number(call!.args[0]), worker: (flags & PF_USER_WORKER) !== 0, comm: fs.readFileSync(`${dir}/comm`, 'utf8').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** The OS thread in dlv's name of a goroutine ("[Go 1] hostsyscall.RawSyscallErrno (Thread 11787)"). */
export function tidOfDlvThread(name: string | undefined): number | undefined {
  const m = /\(Thread (\d+)\)\s*$/.exec(name ?? '');
  return m ? Number(m[1]) : undefined;
}

export type VcpuThreadOfGoroutine =
  | { vcpuTid: number; vcpuFd: number; shownOn?: { tid: number; comm: string } }
  | { why: string };

/**
 * The vCPU thread in KVM_RUN behind a goroutine dlv shows on OS thread `shownTid`: that thread
 * itself, or, when dlv found the goroutine on KVM's worker, the vCPU thread in KVM_RUN on the same
 * vCPU fd. Undefined when the kernel does not show `shownTid` in KVM_RUN.
 */
export function vcpuThreadOf(shownTid: number, inKvmRun: KvmRunThread[]): VcpuThreadOfGoroutine | undefined {
  const shown = inKvmRun.find((t) => t.tid === shownTid);
  if (!shown) return undefined;
  if (!shown.worker) return { vcpuTid: shown.tid, vcpuFd: shown.vcpuFd };
  const vcpus = inKvmRun.filter((t) => !t.worker && t.vcpuFd === shown.vcpuFd);
  if (vcpus.length !== 1) {
    return { why: `dlv shows this goroutine on thread ${shown.tid} (${shown.comm}), a KVM worker thread cloned from a vCPU thread; ${vcpus.length ? `${vcpus.length} threads are` : 'no thread is'} in KVM_RUN on its vCPU fd ${shown.vcpuFd}` };
  }
  return { vcpuTid: vcpus[0].tid, vcpuFd: shown.vcpuFd, shownOn: { tid: shown.tid, comm: shown.comm } };
}
