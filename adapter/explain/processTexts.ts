// A process's facts for Explain This Address, from the texts /proc gives (pure: texts in, facts out).
// The CLI reads them on this machine (localProcess.ts); a board's init reads them for the tests
// (its control request address-facts), and the host brings the executable's ELF.
import { looksLikeGo, SHF_ALLOC, SHT_NOBITS, type ElfInfo } from '../elf/sections';
import type { ElfSymbols } from '../elf/symbols';
import { archOfMachine } from '../guest/addressMap';
import type { Arch, ProcessFacts, ThreadFacts } from './addressKinds';
import { GVISOR_RESERVATION } from './addressFacts.generated';
import { parseProcMaps, stackPointerOf, type Mapping } from './procMaps';

export interface ProcessTexts {
  pid: number;
  /** Where /proc/PID/exe points, on the process's machine. */
  exePath?: string;
  /** /proc/PID/maps. */
  maps: string;
  /** Each thread's /proc/PID/task/TID/comm and syscall, where they could be read. */
  threads: Array<{ tid: number; comm?: string; syscall?: string }>;
  /** The executable's symbols and sections (the same bytes as exePath, read wherever they are). */
  symbols?: ElfSymbols;
  /** The machine's arch when the ELF cannot say. */
  fallbackArch: Arch;
  physicalAddressBits?: number;
  kvmIpaBits?: number;
}

export function processFactsFromTexts(t: ProcessTexts): ProcessFacts {
  const maps = parseProcMaps(t.maps);
  const info = t.symbols?.info;
  const threads: ThreadFacts[] = t.threads.map((th) => ({ tid: th.tid, name: th.comm?.trim(), sp: th.syscall ? stackPointerOf(th.syscall) : undefined }));
  return {
    arch: (info && archOfMachine(info.machine)) ?? t.fallbackArch,
    pid: t.pid,
    exePath: t.exePath,
    sections: info?.sections,
    loadBias: info && t.exePath ? loadBias(info, maps, t.exePath) : 0n,
    isGo: info ? looksLikeGo(info) : false,
    isGvisorKvm: t.symbols ? t.symbols.functions.some((f) => f.name === GVISOR_RESERVATION.fillSymbol) : false,
    maps,
    threads,
    physicalAddressBits: t.physicalAddressBits,
    kvmIpaBits: t.kvmIpaBits,
  };
}

/** Where the executable is loaded relative to its link addresses (0 for a non-PIE Go binary). */
function loadBias(info: ElfInfo, maps: Mapping[], exePath: string): bigint {
  const first = info.sections.filter((s) => s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && s.size > 0).sort((a, b) => a.offset - b.offset)[0];
  const base = maps.find((m) => m.offset === 0n && (m.path === exePath || m.path === `${exePath} (deleted)`));
  if (!first || !base) return 0n;
  return base.start + BigInt(first.offset) - first.addr;
}
