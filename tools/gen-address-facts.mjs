#!/usr/bin/env node
// Generates adapter/explain/addressFacts.generated.ts: the facts "Explain This Address" uses about
// the Go heap and gVisor's KVM guest-physical reservation, read from the sources themselves:
//   - the Go runtime of the installed toolchain (`go env GOROOT`: src/runtime/malloc.go,
//     src/internal/buildcfg/exp.go), with its version;
//   - gVisor at the pinned version (GVISOR_VERSION in tools/build-runsc.sh), from the Go module
//     cache (tools/build-runsc.sh puts it there): pkg/sentry/platform/kvm and pkg/ring0.
// Each fact is matched by a pattern; a source that no longer matches stops the script with the
// file and the pattern, so a new Go or gVisor never yields a silently stale table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { goroot, goVersion, gvisor, gvisorVersion, root, sourceChanged, structLayout } from './sources.mjs';

function match(base, file, pattern) {
  const text = fs.readFileSync(path.join(base, file), 'utf8');
  const m = pattern.exec(text);
  if (!m) sourceChanged(path.join(base, file), pattern);
  return m;
}
const num = (s) => Number(BigInt(s));
const goSrc = (f) => `src/${f}`;

// --- Go runtime -----------------------------------------------------------------------------
const arenaLog = match(goroot, goSrc('runtime/malloc.go'), /logHeapArenaBytes = \((\d+)\+(\d+)\)\*\(_64bit\*\(1-goos\.IsWindows\)/);
const logHeapArenaBytes = num(arenaLog[1]) + num(arenaLog[2]);
const hintLoop = match(goroot, goSrc('runtime/malloc.go'), /for i := (0x[0-9a-f]+); i >= 0; i-- \{/);
const arm64Hint = match(goroot, goSrc('runtime/malloc.go'), /case GOARCH == "arm64":\s*\n\s*p = uintptr\(i\)<<(\d+) \| uintptrMask&\((0x[0-9a-f]+)<<(\d+)\)/);
const defaultHint = match(goroot, goSrc('runtime/malloc.go'), /default:\s*\n\s*p = uintptr\(i\)<<(\d+) \| uintptrMask&\((0x[0-9a-f]+)<<(\d+)\)/);
const arenaBase = match(goroot, goSrc('runtime/malloc.go'), /arenaBaseOffset = (0x[0-9a-f]+)\*goarch\.IsAmd64/);
// Since Go 1.26 the heap base may be random (GOEXPERIMENT randomizedheapbase64), on by default.
const randomizes = /randomizeHeapBase = goexperiment\.RandomizedHeapBase64/.test(fs.readFileSync(path.join(goroot, goSrc('runtime/malloc.go')), 'utf8'));
const randomDefault = randomizes ? match(goroot, goSrc('internal/buildcfg/exp.go'), /RandomizedHeapBase64:\s*(true|false)/)[1] === 'true' : false;

// What dlv can read of a heap address: mheap_.arenas[L1][L2] → heapArena.spans[page] → mspan.
const l1Bits = match(goroot, goSrc('runtime/malloc.go'), /arenaL1Bits = (\d+) \* \(_64bit \* goos\.IsWindows\)/);
const pageShift = match(goroot, goSrc('internal/runtime/gc/sizeclasses.go'), /PageShift\s*= (\d+)/);
const spanStates = match(goroot, goSrc('runtime/mheap.go'), /mSpanDead\s+mSpanState = iota\n\s*mSpanInUse\s*\/\/ ([^\n]+)\n\s*mSpanManual\s*\/\/ ([^\n]+)/);
const spanFields = match(goroot, goSrc('runtime/mheap.go'), /startAddr uintptr[\s\S]*?npages\s+uintptr[\s\S]*?spanclass\s+spanClass[\s\S]*?state\s+mSpanStateBox[\s\S]*?elemsize\s+uintptr[\s\S]*?largeType\s+\*_type/);
const stateBox = match(goroot, goSrc('internal/runtime/atomic/types.go'), /type Uint8 struct \{\n\s*noCopy noCopy\n\s*(value)\s+uint8/);
const sizeclass = match(goroot, goSrc('runtime/mheap.go'), /return spanClass\(sizeclass<<1\) \| spanClass\(bool2int\(noscan\)\)/);
void [l1Bits, spanFields, sizeclass];

// A heap object's type (Go 1.22 and later): a small object over MinSizeForMallocHeader bytes in a span
// with pointers starts with a *_type header; a large object's is its span's largeType. The type's
// name is at moduledata.types + Type.Str: a flag byte, a uvarint length, the bytes.
const headerMin = match(goroot, goSrc('internal/runtime/gc/malloc.go'), /MinSizeForMallocHeader = goarch\.PtrSize \* goarch\.PtrBits/);
const headerSize = match(goroot, goSrc('internal/runtime/gc/malloc.go'), /MallocHeaderSize = (\d+)/);
const headerRead = match(goroot, goSrc('runtime/mbitmap.go'), /if heapBitsInSpan\(span\.elemsize\) \{[\s\S]*?if spc\.sizeclass\(\) != 0 \{\n\s*\/\/ Pull the allocation header from the first word of the object\.\n\s*typ = \*\(\*\*_type\)\(unsafe\.Pointer\(addr\)\)[\s\S]*?typ = \(\*_type\)\(atomic\.Loadp\(unsafe\.Pointer\(&span\.largeType\)\)\)/);
const typeStruct = match(goroot, goSrc('internal/abi/type.go'), /type Type struct \{\n((?:.*\n)*?)\}/);
const extraStar = match(goroot, goSrc('internal/abi/type.go'), /TFlagExtraStar TFlag = 1 << (\d+)/);
const nameRead = match(goroot, goSrc('internal/abi/type.go'), /func \(n Name\) Name\(\) string \{\n\s*if n\.Bytes == nil \{\n\s*return ""\n\s*\}\n\s*i, l := n\.ReadVarint\(1\)/);
const nameBase = match(goroot, goSrc('runtime/type.go'), /res := md\.types \+ uintptr\(off\)/);
// A free slot (no object to read a header from): mspan.isFree.
const isFree = match(goroot, goSrc('runtime/mbitmap.go'), /func \(s \*mspan\) isFree\(index uintptr\) bool \{\n\s*if index < uintptr\(s\.freeindex\) \{\n\s*return false\n\s*\}\n\s*bytep, mask := s\.allocBits\.bitp\(index\)\n\s*return \*bytep&mask == 0/);
void [headerMin, headerRead, nameRead, nameBase, isFree];
// Field offsets of abi.Type on a 64-bit target, from the field list in order (each aligned to its size).
const typeFile = path.join(goroot, goSrc('internal/abi/type.go'));
const typeFields = structLayout(typeFile, typeStruct[1], { uintptr: 8, uint32: 4, uint8: 1, TFlag: 1, Kind: 1, '*byte': 8, NameOff: 4, TypeOff: 4 });
if (typeFields.Str === undefined || typeFields.TFlag === undefined) sourceChanged(typeFile, 'fields Str and TFlag in type Type');

const hint = (m) => ({ shift: num(m[1]), base: `0x${(BigInt(m[2]) << BigInt(m[3])).toString(16)}` });
const goFacts = {
  version: goVersion,
  heapArenaBytes: 2 ** logHeapArenaBytes,
  hintCount: num(hintLoop[1]) + 1,
  // p = i<<shift | base, i from hintCount-1 down to 0 (the lower half are the heap's, the rest user arenas').
  hints: { amd64: hint(defaultHint), arm64: hint(arm64Hint) },
  arenaBaseOffset: { amd64: arenaBase[1], arm64: '0x0' },
  randomizedHeapBaseByDefault: randomDefault,
  // linux: one L1 entry (arenaL1Bits is 6 on windows only), pages of 1<<pageShift bytes.
  arenaL1Bits: 0, // matched above as N * (_64bit * goos.IsWindows): 0 off Windows
  pageBytes: 2 ** num(pageShift[1]),
  // mspan.state.s.<field>: 1 = mSpanInUse, 2 = mSpanManual; spanclass = sizeclass<<1 | noscan.
  spanState: { field: stateBox[1], 1: spanStates[1].trim(), 2: spanStates[2].trim() },
  // 64-bit targets: PtrSize * PtrBits bytes; objects larger than that (in spans with pointers) carry a header.
  objectType: {
    minSizeForMallocHeader: 8 * 64,
    mallocHeaderBytes: num(headerSize[1]),
    typeStrOffset: typeFields.Str,
    typeTFlagOffset: typeFields.TFlag,
    tflagExtraStar: 2 ** num(extraStar[1]),
  },
  sources: ['src/runtime/malloc.go (logHeapArenaBytes, arenaBaseOffset, mallocinit: "Create initial arena growth hints")', randomizes ? 'src/internal/buildcfg/exp.go (RandomizedHeapBase64)' : '', 'src/runtime/mheap.go (mspan, mSpanState, makeSpanClass), src/internal/runtime/gc/sizeclasses.go (PageShift)', 'src/internal/runtime/gc/malloc.go (MinSizeForMallocHeader, MallocHeaderSize), src/runtime/mbitmap.go (typePointersOfUnchecked: the header, largeType; mspan.isFree), src/internal/abi/type.go (Type, TFlagExtraStar, Name.Name), src/runtime/type.go (resolveNameOff: md.types + off)'],
};

// --- gVisor ---------------------------------------------------------------------------------
const kvm = 'pkg/sentry/platform/kvm';
const fill = match(gvisor, `${kvm}/physical_map.go`, /func fillAddressSpace\(\)[\s\S]*?unix\.SYS_MMAP,[\s\S]*?(unix\.PROT_NONE),\s*\n\s*(unix\.MAP_ANONYMOUS\|unix\.MAP_PRIVATE\|unix\.MAP_NORESERVE)/);
const fillWhy = match(gvisor, `${kvm}/physical_map.go`, /\/\/ fillAddressSpace fills the host address space with PROT_NONE mappings until\n\/\/ we have a host address space size that is less than or equal to the physical\n\/\/ address space\. This allows us to have an injective host virtual to guest\n\/\/ physical mapping\./);
const required = match(gvisor, `${kvm}/physical_map.go`, /requiredAddr, ok := hostarch\.Addr\(vSize - pSize \+ faultBlockSize\)\.RoundUp\(\)/);
const noWork = match(gvisor, `${kvm}/physical_map.go`, /if vSize < pSize \{\n\s*return specialRegions/);
const reservedAmd64 = match(gvisor, `${kvm}/physical_map_amd64.go`, /reservedMemory = (0x[0-9a-f]+)/);
const reservedArm64 = match(gvisor, `${kvm}/physical_map_arm64.go`, /reservedMemory = (\d+)/);
const faultAmd64 = match(gvisor, `${kvm}/machine_amd64.go`, /func initFaultBlocks\(\) \{\n\s*faultBlockSize = uintptr\((\d+) << (\d+)\)/);
const faultArm64 = match(gvisor, `${kvm}/machine_arm64.go`, /if ring0\.PhysicalAddressBits <= (\d+) \{\n\s*faultBlockSize = uintptr\(1 << (\d+)\)[^\n]*\n\s*\} else \{\n\s*faultBlockSize = uintptr\((\d+) << (\d+)\)/);
const ipaArm64 = match(gvisor, 'pkg/ring0/aarch64.go', /PhysicalAddressBits uintptr = (\d+)/);
const ipaCap = match(gvisor, `${kvm}/kvm_arm64.go`, /if maxIPA < (\d+) \{/);
const userArm64 = match(gvisor, 'pkg/ring0/defs_arm64.go', /UserspaceSize = uintptr\(1\) << VirtualAddressBits/);
const vbitsArm64 = match(gvisor, 'pkg/ring0/aarch64.go', /\tVirtualAddressBits = (\d+)/);
const userAmd64 = match(gvisor, 'pkg/ring0/lib_amd64.go', /UserspaceSize = uintptr\(1\) << \(VirtualAddressBits - 1\)/);
const physAmd64 = match(gvisor, 'pkg/ring0/lib_amd64.go', /PhysicalAddressBits = uintptr\(fs\.PhysicalAddressBits\(\)\)/);
const fillSymbol = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm.fillAddressSpace';
void [fill, fillWhy, required, noWork, userArm64, userAmd64, physAmd64];

const gvisorFacts = {
  version: gvisorVersion,
  fillSymbol,
  protection: 'PROT_NONE',
  flags: 'MAP_ANONYMOUS|MAP_PRIVATE|MAP_NORESERVE',
  arch: {
    amd64: {
      userspaceSize: '1 << (VirtualAddressBits - 1)',
      physicalAddressBits: 'from CPUID (the host CPU\'s physical address width)',
      reservedMemory: num(reservedAmd64[1]),
      faultBlockSize: num(faultAmd64[1]) * 2 ** num(faultAmd64[2]),
    },
    arm64: {
      userspaceSize: `1 << ${num(vbitsArm64[1])}`,
      virtualAddressBits: num(vbitsArm64[1]),
      physicalAddressBits: `KVM_CAP_ARM_VM_IPA_SIZE, at most ${num(ipaCap[1])} (default ${num(ipaArm64[1])})`,
      defaultPhysicalAddressBits: num(ipaArm64[1]),
      maxPhysicalAddressBits: num(ipaCap[1]),
      reservedMemory: num(reservedArm64[1]),
      // faultBlockSize: smallFaultBlock when PhysicalAddressBits <= smallBelowBits, else faultBlockSize.
      smallFaultBlockUpToBits: num(faultArm64[1]),
      smallFaultBlockSize: 2 ** num(faultArm64[2]),
      faultBlockSize: num(faultArm64[3]) * 2 ** num(faultArm64[4]),
    },
  },
  sources: [
    `${kvm}/physical_map.go (fillAddressSpace: "fills the host address space with PROT_NONE mappings until we have a host address space size that is less than or equal to the physical address space. This allows us to have an injective host virtual to guest physical mapping."; required = vSize - pSize + faultBlockSize; none when vSize < pSize)`,
    `${kvm}/physical_map_amd64.go, physical_map_arm64.go (reservedMemory)`,
    `${kvm}/machine_amd64.go, machine_arm64.go (initFaultBlocks)`,
    `${kvm}/kvm_arm64.go (KVM_CAP_ARM_VM_IPA_SIZE)`,
    'pkg/ring0/lib_amd64.go, defs_arm64.go, aarch64.go (UserspaceSize, PhysicalAddressBits)',
  ],
};

const out = path.join(root, 'adapter', 'explain', 'addressFacts.generated.ts');
fs.writeFileSync(
  out,
  `// Generated by tools/gen-address-facts.mjs from the Go runtime's source (${goVersion}) and gVisor's
// (${gvisorVersion}, the version tools/build-runsc.sh pins). Do not edit: run the script again.

export const GO_HEAP = ${JSON.stringify(goFacts, null, 2)} as const;

export const GVISOR_RESERVATION = ${JSON.stringify(gvisorFacts, null, 2)} as const;
`,
);
console.log(`wrote ${path.relative(root, out)} (Go ${goVersion}, gVisor ${gvisorVersion})`);
