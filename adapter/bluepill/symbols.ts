// Matches dlv's function names against the model's landmark symbols. Names are
// compared on their last path element, so "kvm.bluepill" finds both
// gvisor.dev/gvisor/pkg/sentry/platform/kvm.bluepill and a fixture's minibluepill/kvm.bluepill,
// but not kvm.bluepillHandler.
import type { Landmark, Variant } from './model';

/** gvisor.dev/gvisor/pkg/ring0.(*CPU).SwitchToUser → ring0.(*CPU).SwitchToUser; drops ABI suffixes. */
export function shortName(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.replace(/\.abi(0|internal)$/i, '');
}

export class LandmarkIndex {
  private bySymbol = new Map<string, Landmark>();
  private byInstruction: Landmark[] = [];

  constructor(readonly variant: Variant) {
    for (const landmark of variant.landmarks) {
      for (const symbol of [...(landmark.symbols ?? []), ...(landmark.formerSymbols ?? [])]) if (!this.bySymbol.has(symbol)) this.bySymbol.set(symbol, landmark);
      if (landmark.instruction) this.byInstruction.push(landmark);
    }
  }

  bySymbolName(functionName: string): Landmark | undefined {
    return this.bySymbol.get(shortName(functionName));
  }

  /** Every landmark whose instruction pattern matches, by Go-syntax text or by bytes (memory order, hex). */
  byCode(text: string | undefined, bytes: string | undefined): Landmark[] {
    const b = bytes?.toLowerCase();
    return this.byInstruction.filter((l) => (text !== undefined && l.instruction!.text?.test(text)) || (b !== undefined && l.instruction!.bytes?.some((p) => b.startsWith(p))));
  }
}

const indexes = new WeakMap<Variant, LandmarkIndex>();

/** The index of a variant, built once (variants are fixed data, or built once per session). */
export function landmarkIndex(variant: Variant): LandmarkIndex {
  let index = indexes.get(variant);
  if (!index) indexes.set(variant, (index = new LandmarkIndex(variant)));
  return index;
}
