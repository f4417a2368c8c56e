// gVisor's KVM guest-physical reservation: why a runsc sandbox on KVM holds a huge PROT_NONE
// mapping, and how big gVisor's source says it is (facts in addressFacts.generated.ts, with the
// gVisor version they were read from).
import { GVISOR_RESERVATION } from './addressFacts.generated';
import type { Arch, ProcessFacts } from './processFacts';
import { isAnonymous, sizeText, type Mapping } from './procMaps';

/** The Go runtime's own PROT_NONE reservations are far smaller than the fill (gigabytes at most). */
export const HUGE_PROT_NONE = 1n << 40n;

export function isReservationCandidate(m: Mapping): boolean {
  return isAnonymous(m) && m.perms === '---p' && m.end - m.start >= HUGE_PROT_NONE;
}

export const RESERVATION_WHY = `gVisor maps the host's user address space into the guest's physical memory one to one, so it fills host address space with PROT_NONE mappings until the host space left is no larger than the guest's physical address space (fillAddressSpace, ${GVISOR_RESERVATION.sources[0].split(' (')[0]}: "an injective host virtual to guest physical mapping"). Nothing is ever mapped there (MAP_NORESERVE: no memory is committed).`;

/** The guest-physical address bits gVisor's KVM platform uses on arm64: KVM's IPA size, at most 40; 40 when KVM does not say (kvm_arm64.go, updateGlobalOnce). */
export function arm64GuestPhysicalBits(kvmIpaBits?: number): number {
  const a = GVISOR_RESERVATION.arch.arm64;
  return kvmIpaBits !== undefined && kvmIpaBits > 0 ? Math.min(kvmIpaBits, a.maxPhysicalAddressBits) : a.defaultPhysicalAddressBits;
}

export interface ExpectedReservation {
  /** What fillAddressSpace first asks for: vSize - pSize + faultBlockSize (0: no fill). */
  bytes: bigint;
  faultBlock: bigint;
  formula: string;
}

/** The size gVisor's fill needs: vSize - pSize + faultBlockSize, from its source (see the generated table). */
export function expectedReservation(arch: Arch, physicalAddressBits: number, virtualAddressBits = 48, excludedBytes = 0n): ExpectedReservation {
  const a = GVISOR_RESERVATION.arch;
  const vSize = (arch === 'arm64' ? 1n << BigInt(a.arm64.virtualAddressBits) : 1n << BigInt(virtualAddressBits - 1)) - excludedBytes;
  const pab = arch === 'arm64' ? Math.min(physicalAddressBits, a.arm64.maxPhysicalAddressBits) : physicalAddressBits;
  const reserved = BigInt(arch === 'arm64' ? a.arm64.reservedMemory : a.amd64.reservedMemory);
  const pSize = (1n << BigInt(pab)) - reserved;
  const faultBlock = BigInt(arch === 'arm64' ? (pab <= a.arm64.smallFaultBlockUpToBits ? a.arm64.smallFaultBlockSize : a.arm64.faultBlockSize) : a.amd64.faultBlockSize);
  const formula = `user space ${sizeText(vSize + excludedBytes)}${excludedBytes ? ` − ${sizeText(excludedBytes)} excluded (vDSO, vvar)` : ''} − (guest physical ${sizeText(1n << BigInt(pab))}${reserved ? ` − ${sizeText(reserved)} reserved at its start` : ''}) + fault block ${sizeText(faultBlock)}`;
  return { bytes: vSize < pSize ? 0n : vSize - pSize + faultBlock, faultBlock, formula };
}

/** The fill's mappings as /proc/PID/maps shows them, the kernel having merged adjacent ones. */
export function fillMappings(maps: Mapping[]): Mapping[] {
  return maps.filter(isReservationCandidate);
}

export interface FillReading {
  total: bigint;
  mappings: number;
  /** Each mmap the fill made, as how often it had halved its request (0: the whole size), largest first. */
  halvings: number[];
  /** The maps agree with fillAddressSpace's rules (see readFill). */
  consistent: boolean;
  why: string;
}

const PAGE = 4096n;
const roundUpToPage = (n: bigint) => ((n + PAGE - 1n) / PAGE) * PAGE;

/**
 * Checks the maps against fillAddressSpace's loop (physical_map.go): it mmaps `required` bytes and
 * halves its request (rounded up to a page) each time an mmap fails, never growing it again; it stops
 * once it has filled at least `required`, which grows by one fault block for each region it could not
 * join to one before. So the total is at least the first request, and the total less the last
 * (smallest) mmap is below the first request plus a fault block per mapping; and a first mmap of the
 * whole request is the only one. Each mapping is read as the fewest halved requests that make it up
 * (the kernel merges adjacent mmaps): that makes the last mmap as large as it can be, so a fill the
 * rules allow is never refused.
 */
export function readFill(mappings: Mapping[], expected: ExpectedReservation): FillReading {
  const total = mappings.reduce((s, m) => s + (m.end - m.start), 0n);
  const requests: bigint[] = [];
  for (let r = expected.bytes; r > 0n && requests.length < 64; r = r === PAGE ? 0n : roundUpToPage(r >> 1n)) requests.push(r);
  const halvings: number[] = [];
  for (const m of mappings) {
    let rest = m.end - m.start;
    for (let n = 0; n < requests.length && rest > 0n; n++) {
      while (rest >= requests[n]) {
        rest -= requests[n];
        halvings.push(n);
      }
    }
  }
  halvings.sort((a, b) => a - b);
  const last = halvings.length ? requests[halvings[halvings.length - 1]] : 0n;
  const enough = expected.bytes > 0n && total >= expected.bytes;
  // The whole request, once it succeeds, fills exactly what is required: nothing follows it.
  const stopped = total - last < expected.bytes + expected.faultBlock * BigInt(mappings.length) && !(halvings[0] === 0 && halvings.length > 1);
  const consistent = enough && stopped && mappings.length > 0;
  const why = !mappings.length
    ? 'no fill mapping'
    : !enough
      ? `${sizeText(total)} filled, less than the ${sizeText(expected.bytes)} required`
      : !stopped
        ? `${sizeText(total)} filled: the fill would have stopped before its last mmap`
        : `${halvings.length} mmap${halvings.length === 1 ? '' : 's'} of ${halvings.map((n) => (n ? `1/${2 ** n}` : 'all')).join(', ')} of the ${sizeText(expected.bytes)} required, in ${mappings.length} mapping${mappings.length === 1 ? '' : 's'}`;
  return { total, mappings: mappings.length, halvings, consistent, why };
}

/** The excluded vDSO and vvar (when gVisor cannot map vvar into the guest, it leaves both out of vSize). */
function vdsoAndVvarBytes(maps: Mapping[]): bigint {
  return maps.filter((m) => m.path.startsWith('[vvar') || m.path === '[vdso]').reduce((s, m) => s + (m.end - m.start), 0n);
}

/** How the maps compare with gVisor's prediction, with or without the vDSO and vvar excluded (runsc logs which). */
export function compareWithSource(arch: Arch, bits: number, maps: Mapping[]): { expected: ExpectedReservation; fill: FillReading } {
  const fill = fillMappings(maps);
  const plain = expectedReservation(arch, bits);
  const first = { expected: plain, fill: readFill(fill, plain) };
  if (first.fill.consistent) return first;
  const excluded = expectedReservation(arch, bits, 48, vdsoAndVvarBytes(maps));
  const second = { expected: excluded, fill: readFill(fill, excluded) };
  return second.fill.consistent ? second : first;
}

export function reservationFacts(p: ProcessFacts): { details: string[]; unknown: string[] } {
  const details: string[] = [];
  const unknown: string[] = [];
  const maps = p.maps ?? [];
  const total = fillMappings(maps).reduce((s, m) => s + (m.end - m.start), 0n);
  details.push(`This process holds ${sizeText(total)} (${total / 1024n} KiB, as pmap counts) of such PROT_NONE mappings (the fill may take several: it halves its mmap when one fails).`);
  let bits: number | undefined;
  if (p.arch === 'amd64' && p.physicalAddressBits !== undefined) {
    bits = p.physicalAddressBits;
    details.push(`This host has ${bits}-bit physical addresses (from CPUID, as /proc/cpuinfo shows them), which gVisor takes as the guest's physical size.`);
  } else if (p.arch === 'arm64') {
    bits = arm64GuestPhysicalBits(p.kvmIpaBits);
    if (p.kvmIpaBits !== undefined) {
      details.push(`KVM on this machine allows ${p.kvmIpaBits}-bit guest-physical addresses (KVM_CAP_ARM_VM_IPA_SIZE); gVisor takes at most ${GVISOR_RESERVATION.arch.arm64.maxPhysicalAddressBits}: ${bits} bits.`);
    } else {
      details.push(`On ARM64 the guest's physical size is KVM's IPA size (${GVISOR_RESERVATION.arch.arm64.physicalAddressBits}); ${bits} bits are assumed here.`);
      unknown.push(`The IPA size KVM reports on this machine (the KVM_CAP_ARM_VM_IPA_SIZE ioctl; no file shows it); ${bits} bits are assumed above.`);
    }
  }
  if (bits !== undefined) {
    const { expected, fill } = compareWithSource(p.arch, bits, maps);
    details.push(`gVisor's source asks for ${sizeText(expected.bytes)} = ${expected.formula}.`);
    details.push(fill.consistent ? `The maps agree with its fill: ${fill.why}.` : `The maps do not match its fill (${fill.why}): another gVisor version, or other facts than assumed here.`);
  }
  details.push(`From gVisor ${GVISOR_RESERVATION.version} (the version tools/build-runsc.sh pins): ${GVISOR_RESERVATION.sources.slice(1).join('; ')}.`);
  return { details, unknown };
}

/** Why a gVisor KVM process has no reservation (the host's physical space is already as large as its user space). */
export function noReservationNote(p: ProcessFacts): string | undefined {
  if (!p.isGvisorKvm || !p.maps || p.arch !== 'amd64' || p.physicalAddressBits === undefined) return undefined;
  if (p.maps.some(isReservationCandidate)) return undefined;
  const e = expectedReservation('amd64', p.physicalAddressBits);
  if (e.bytes !== 0n) return undefined;
  return `This sandbox has no guest-physical reservation: with ${p.physicalAddressBits}-bit physical addresses the guest's physical space is no smaller than the 128 TiB user space, and fillAddressSpace returns at once ("if vSize < pSize", pkg/sentry/platform/kvm/physical_map.go, gVisor ${GVISOR_RESERVATION.version}).`;
}

