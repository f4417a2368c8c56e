// gVisor's KVM guest-physical reservation: why a runsc sandbox on KVM holds a huge PROT_NONE
// mapping, and how big gVisor's source says it is (facts in addressFacts.generated.ts, with the
// gVisor version they were read from).
import { GVISOR_RESERVATION } from './addressFacts.generated';
import type { Arch, ProcessFacts } from './addressKinds';
import { isAnonymous, sizeText, type Mapping } from './procMaps';

/** The Go runtime's own PROT_NONE reservations are far smaller than the fill (gigabytes at most). */
export const HUGE_PROT_NONE = 1n << 40n;

export function isReservationCandidate(m: Mapping): boolean {
  return isAnonymous(m) && m.perms === '---p' && m.end - m.start >= HUGE_PROT_NONE;
}

export const RESERVATION_WHY = `gVisor maps the host's user address space into the guest's physical memory one to one, so it fills host address space with PROT_NONE mappings until the host space left is no larger than the guest's physical address space (fillAddressSpace, ${GVISOR_RESERVATION.sources[0].split(' (')[0]}: "an injective host virtual to guest physical mapping"). Nothing is ever mapped there (MAP_NORESERVE: no memory is committed).`;

/** The size gVisor's fill needs: vSize - pSize + faultBlockSize, from its source (see the generated table). */
export function expectedReservation(arch: Arch, physicalAddressBits: number, virtualAddressBits = 48): { bytes: bigint; formula: string } {
  const a = GVISOR_RESERVATION.arch;
  const vSize = arch === 'arm64' ? 1n << BigInt(a.arm64.virtualAddressBits) : 1n << BigInt(virtualAddressBits - 1);
  const pab = arch === 'arm64' ? Math.min(physicalAddressBits, a.arm64.maxPhysicalAddressBits) : physicalAddressBits;
  const pSize = (1n << BigInt(pab)) - BigInt(arch === 'arm64' ? a.arm64.reservedMemory : a.amd64.reservedMemory);
  const faultBlock = BigInt(arch === 'arm64' ? (pab <= a.arm64.smallFaultBlockUpToBits ? a.arm64.smallFaultBlockSize : a.arm64.faultBlockSize) : a.amd64.faultBlockSize);
  const reserved = BigInt(arch === 'arm64' ? a.arm64.reservedMemory : a.amd64.reservedMemory);
  const formula = `user space ${sizeText(vSize)} − (guest physical ${sizeText(1n << BigInt(pab))}${reserved ? ` − ${sizeText(reserved)} reserved at its start` : ''}) + fault block ${sizeText(faultBlock)}`;
  return { bytes: vSize < pSize ? 0n : vSize - pSize + faultBlock, formula };
}

export function reservationFacts(p: ProcessFacts): { details: string[]; unknown: string[] } {
  const details: string[] = [];
  const unknown: string[] = [];
  const total = (p.maps ?? []).filter(isReservationCandidate).reduce((s, m) => s + (m.end - m.start), 0n);
  details.push(`This process holds ${sizeText(total)} of such PROT_NONE mappings (the fill may take several: it halves its mmap when one fails).`);
  if (p.arch === 'amd64' && p.physicalAddressBits !== undefined) {
    const e = expectedReservation('amd64', p.physicalAddressBits);
    details.push(`Expected by gVisor's source for this host (${p.physicalAddressBits}-bit physical addresses, from CPUID): ${sizeText(e.bytes)} = ${e.formula}, less what it excludes (vDSO, vvar).`);
  } else if (p.arch === 'arm64') {
    const e = expectedReservation('arm64', GVISOR_RESERVATION.arch.arm64.defaultPhysicalAddressBits);
    details.push(`On ARM64 the guest's physical size is KVM's IPA size (${GVISOR_RESERVATION.arch.arm64.physicalAddressBits}); with ${GVISOR_RESERVATION.arch.arm64.defaultPhysicalAddressBits} bits: ${sizeText(e.bytes)} = ${e.formula}. pmap shows it in KiB (about 273,804,165,120 K).`);
    unknown.push('The IPA size KVM reported to this sandbox (the KVM_CAP_ARM_VM_IPA_SIZE ioctl); 40 bits is assumed above.');
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

