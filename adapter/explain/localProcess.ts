// The facts Explain This Address needs about a process on this machine, read from /proc:
// its maps, its threads' stack pointers, its executable (ELF sections and symbols), and the
// CPU's physical address width. Reading another user's process needs root (or ptrace rights).
import * as fs from 'node:fs';
import { looksLikeGo, withElfFile } from '../elf/sections';
import { cachedElfFunctions, readElfFunctions, type ElfSymbols } from '../elf/symbols';
import { archOfMachine } from '../guest/addressMap';
import { explain, type Explanation } from './explain';
import { explainAddress, type AddressExplanation, type ProcessFacts } from './addressKinds';
import { factsFromElf } from './fromElf';
import { processFactsFromTexts, type ProcessTexts } from './processTexts';
import { GVISOR_RESERVATION } from './addressFacts.generated';

export class ProcessReadError extends Error {}

export interface ProcessAddressAnswer {
  address: AddressExplanation;
  arch: 'amd64' | 'arm64';
  /** For an address in the executable's code: the PC explanation (function, instruction, bluepill role). */
  code?: Explanation;
}

export function explainProcessAddress(pid: number, address: bigint): ProcessAddressAnswer {
  const { facts, symbols, exe } = readProcessFacts(pid);
  const answer: ProcessAddressAnswer = { arch: facts.arch, address: explainAddress(address, facts, `/proc/${pid}/maps, its threads and the ELF of ${facts.exePath ?? 'its executable'}`) };
  if (answer.address.kind === 'code' && symbols && (facts.loadBias ?? 0n) === 0n) {
    answer.code = explain(withElfFile(exe, (read) => factsFromElf(symbols, read, facts.exePath ?? exe, address)));
  }
  return answer;
}

export function readProcessFacts(pid: number): { facts: ProcessFacts; symbols?: ElfSymbols; exe: string } {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new ProcessReadError(`${pid} is not a process id: give a positive number (ps or pgrep find it).`);
  const mapsText = readProc(pid, 'maps');
  const exeLink = `/proc/${pid}/exe`;
  let exePath: string | undefined;
  try {
    exePath = fs.readlinkSync(exeLink);
  } catch {
    exePath = undefined; // a kernel thread, or no right to see it
  }
  let symbols: ElfSymbols | undefined;
  try {
    // Cached by the file's path when the file is still there; read afresh when it was deleted.
    symbols = exePath && !exePath.endsWith(' (deleted)') && fs.existsSync(exePath) ? cachedElfFunctions(exePath) : readElfFunctions(exeLink);
  } catch {
    symbols = undefined; // not an ELF we can read: the maps still say a lot
  }
  const facts = processFactsFromTexts({
    pid,
    exePath,
    maps: mapsText,
    threads: readThreads(pid),
    symbols,
    fallbackArch: process.arch === 'arm64' ? 'arm64' : 'amd64',
    physicalAddressBits: physicalAddressBits(),
  });
  return { facts, symbols, exe: exePath && fs.existsSync(exePath) ? exePath : exeLink };
}

function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new ProcessReadError(`no process ${pid} on this machine: give the pid of a running process (for a remote board, run bluepill-lens there, or use --binary here).`);
    if (code === 'EACCES' || code === 'EPERM') throw new ProcessReadError(`not allowed to read /proc/${pid}/${file}: run as the process's user or as root (sudo).`);
    throw new ProcessReadError(`cannot read /proc/${pid}/${file}: ${(e as Error).message}`);
  }
}

function readThreads(pid: number): ProcessTexts['threads'] {
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map((t) => {
    const read = (f: string) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${t}/${f}`, 'utf8');
      } catch {
        return undefined; // the thread exited, or no ptrace right to its registers
      }
    };
    return { tid: Number(t), comm: read('comm'), syscall: read('syscall') };
  });
}

/** The CPU's physical address width, as /proc/cpuinfo reports it (x86: "address sizes : 48 bits physical"). */
export function physicalAddressBits(cpuinfo?: string): number | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /address sizes\s*:\s*(\d+) bits physical/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** What the ELF alone says (a remote board: no /proc here): sections, Go or not, gVisor's KVM platform or not. */
export function binaryFacts(file: string): ProcessFacts {
  const symbols = cachedElfFunctions(file);
  const arch = archOfMachine(symbols.info.machine);
  if (!arch) throw new ProcessReadError(`${file} is an ELF file for machine ${symbols.info.machine}: give a program built for amd64 or arm64.`);
  return { arch, exePath: file, sections: symbols.info.sections, loadBias: 0n, isGo: looksLikeGo(symbols.info), isGvisorKvm: symbols.functions.some((f) => f.name === GVISOR_RESERVATION.fillSymbol) };
}

/**
 * The process dlv launched from `program`: the one running that file whose parent is a dlv.
 * Undefined when none or several are (then nothing is guessed).
 */
export function launchedDebuggee(program: string): number | undefined {
  let target: string;
  try {
    target = fs.realpathSync(program);
  } catch {
    return undefined;
  }
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) !== target) continue;
      const ppid = /^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (ppid && fs.readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() === 'dlv') found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found.length === 1 ? found[0] : undefined;
}
