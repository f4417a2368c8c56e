// Does a function of gVisor's KVM platform run in guest mode? The generated table (derived from
// gVisor's source, one version) first, then name rules; where neither knows, no judgement.
import { GUEST_CODE } from './guestCode.generated';
import type { GuestArch, GuestCodeTable, GuestVerdict } from './guestCodeTypes';
import { guestVerdictByName } from './guestNameRules';
import { shortName } from './symbols';

export interface GuestJudgement {
  name: string;
  verdict: GuestVerdict;
  reason: string;
  /** Where the judgement comes from: the table's gVisor version, or the name rules. */
  source: string;
}

const byTable = new WeakMap<GuestCodeTable, Map<string, GuestCodeTable['functions'][number][]>>();

function rowsOf(table: GuestCodeTable, name: string) {
  let index = byTable.get(table);
  if (!index) {
    index = new Map();
    for (const row of table.functions) index.set(row[0], [...(index.get(row[0]) ?? []), row]);
    byTable.set(table, index);
  }
  return index.get(name) ?? [];
}

/** The function's name as the table keys it: package shortened, no ABI suffix or +offset. */
export function tableName(functionName: string): string {
  return shortName(functionName.trim().replace(/\+0x[0-9a-f]+$/i, ''));
}

export function judgeFunction(functionName: string, arch?: GuestArch, table: GuestCodeTable = GUEST_CODE): GuestJudgement | undefined {
  const name = tableName(functionName);
  const rows = rowsOf(table, name).filter((r) => !arch || !r[3] || r[3] === arch);
  // Without an architecture, the riskier row speaks (guest mode on one architecture is enough).
  const row = rows.find((r) => r[1] !== 'host-only') ?? rows[0];
  if (row) {
    const on = !arch && row[3] && rows.length === 1 ? ` (on ${row[3]})` : '';
    return { name, verdict: row[1], reason: row[2] + on, source: `derived from gVisor ${table.gvisorVersion}'s source` };
  }
  const rule = guestVerdictByName(name);
  return rule && { name, ...rule, source: `by name: not in the table of gVisor ${table.gvisorVersion}` };
}

/**
 * The function a source line belongs to, named as in the binary (package.Func, package.(*T).M).
 * An assembly file has no package clause: `packageName` is its Go package's (a sibling .go file's).
 */
export function functionAtLine(source: string, line: number, packageName?: string): string | undefined {
  const lines = source.split('\n');
  const pkg = /^package\s+(\w+)/m.exec(source)?.[1] ?? packageName;
  if (!pkg || line < 1 || line > lines.length) return undefined;
  for (let i = line - 1; i >= 0; i--) {
    const text = lines[i];
    const asm = /^TEXT\s+·(\w+)/.exec(text);
    if (asm) return `${pkg}.${asm[1]}`;
    const fn = /^func\s+(?:\((?:\w+\s+)?(\*?)(\w+)(?:\[[^\]]*\])?\)\s*)?(\w+)/.exec(text);
    if (fn) return fn[2] ? `${pkg}.${fn[1] ? `(*${fn[2]})` : fn[2]}.${fn[3]}` : `${pkg}.${fn[3]}`;
    if (i < line - 1 && /^[})]/.test(text)) return undefined; // between top-level declarations
  }
  return undefined;
}

// What a BRK in guest code does: observed on ARM64 KVM in the emulated board (issue 15, the helper
// "board"'s BRK-OBSERVED record, gVisor v0.0.0-20260905035102-160fafc42237), the path read from
// gVisor's source; amd64 only from the source (nested KVM here never exits the guest).
const BRK_IN_GUEST =
  "gVisor never enables KVM_SET_GUEST_DEBUG, so hit in guest mode the breakpoint is taken by the guest's own vectors " +
  '(arm64: pkg/ring0/entry_arm64.s El1_sync does not handle a BRK\'s class and sends it to el1_invalid, then kvm.(*vCPU).KernelException and ring0.Halt, a guest exit; ' +
  'amd64: pkg/ring0/entry_amd64.s exception, then kvm.(*vCPU).KernelException). ' +
  'Observed on ARM64 KVM: bluepillGuestExit records the breakpoint\'s address as the exit PC, the host thread runs the same BRK, ' +
  'and dlv stops there on the host one guest exit later (shown as host code); the sandbox survived. Not observed on amd64. ' +
  'To stop where the guest exits instead, break in kvm.bluepillGuestExit (host only).';

/** The warning for a breakpoint in a function, or undefined when it does not run in guest mode or is unknown. */
export function guestBreakpointWarning(judgement: GuestJudgement | undefined): string | undefined {
  if (!judgement || judgement.verdict === 'host-only') return undefined;
  const where = judgement.verdict === 'both' ? 'runs in guest mode as well as on the host' : 'runs in guest mode';
  return `${judgement.name} ${where} (${judgement.reason}; ${judgement.source}). ${BRK_IN_GUEST}`;
}

/**
 * True only when the generated table has the function for this architecture and calls it host-only
 * everywhere: the one case where a software breakpoint cannot be hit in guest mode. Name rules do not count.
 */
export function hostOnlyInTable(functionName: string, arch: GuestArch, table: GuestCodeTable = GUEST_CODE): boolean {
  const rows = rowsOf(table, tableName(functionName)).filter((r) => !r[3] || r[3] === arch);
  return rows.length > 0 && rows.every((r) => r[1] === 'host-only');
}

/**
 * Whether code at this function also runs in guest mode, as the generated table (or, for a
 * name it does not hold, the name rules) says; undefined when neither knows: then nothing
 * is claimed, since a wrong "safe" is worse than none.
 */
export function runsInGuestMode(functionName: string, arch?: GuestArch): boolean | undefined {
  const judgement = judgeFunction(functionName, arch);
  return judgement && judgement.verdict !== 'host-only';
}
