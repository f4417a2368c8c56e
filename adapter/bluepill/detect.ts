// Which variant of the model a binary is, from its machine and its function names,
// driven by each variant's own `detect` data (symbols present and absent).
import { VARIANTS, type Variant } from './model';
import { shortName } from './symbols';

const MACHINES: Record<number, Variant['arch']> = { 183: 'arm64', 62: 'amd64' };

export function archOfMachine(machine: number): Variant['arch'] | undefined {
  return MACHINES[machine];
}

/**
 * The variant whose detect data the binary fits; the architecture's first variant when
 * none does (a program that is not gVisor still gets the arch's model). Undefined for
 * another machine.
 */
export function detectVariant(machine: number, functionNames: Iterable<string>): Variant | undefined {
  const arch = archOfMachine(machine);
  if (!arch) return undefined;
  const ofArch = VARIANTS.filter((v) => v.arch === arch);
  const wanted = new Set(ofArch.flatMap((v) => [...(v.detect.present ?? []), ...(v.detect.absent ?? [])]));
  const found = new Set<string>();
  for (const name of functionNames) {
    const short = shortName(name);
    if (wanted.has(short)) found.add(short);
  }
  const fits = (v: Variant) => (v.detect.present ?? []).every((s) => found.has(s)) && !(v.detect.absent ?? []).some((s) => found.has(s));
  return ofArch.find(fits) ?? ofArch[0];
}
