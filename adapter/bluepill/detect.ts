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
  const wanted = new Set(detectSymbols(arch));
  const found = new Set<string>();
  for (const name of functionNames) {
    const short = shortName(name);
    if (wanted.has(short)) found.add(short);
  }
  return variantOfArch(arch, found);
}

/** The short names (package.Function) whose presence or absence tells the variants of `arch` apart. */
export function detectSymbols(arch: Variant['arch']): string[] {
  const ofArch = VARIANTS.filter((v) => v.arch === arch);
  return [...new Set(ofArch.flatMap((v) => [...(v.detect.present ?? []), ...(v.detect.absent ?? [])]))];
}

/** The variant of `arch` whose detect data fits the symbols found; the arch's first when none does. */
export function variantOfArch(arch: Variant['arch'], found: ReadonlySet<string>): Variant {
  const ofArch = VARIANTS.filter((v) => v.arch === arch);
  const fits = (v: Variant) => (v.detect.present ?? []).every((s) => found.has(s)) && !(v.detect.absent ?? []).some((s) => found.has(s));
  return ofArch.find(fits) ?? ofArch[0];
}

/** gVisor's import path of each package the detect data names. */
const GVISOR_PACKAGES: Record<string, string> = {
  kvm: 'gvisor.dev/gvisor/pkg/sentry/platform/kvm',
  sigframe: 'gvisor.dev/gvisor/pkg/sigframe',
};

/**
 * The expression that asks dlv whether a function exists in a remote binary: dlv evaluates
 * "import/path".Function to the function when it is there, and fails ("could not find symbol") when not.
 */
export function functionExpression(short: string): string {
  const dot = short.indexOf('.');
  const path = GVISOR_PACKAGES[short.slice(0, dot)];
  if (!path) throw new Error(`no gVisor package path for ${short}: add it to GVISOR_PACKAGES`);
  return `"${path}"${short.slice(dot)}`;
}
