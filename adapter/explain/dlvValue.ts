// dlv's text of a value, as its `evaluate` answers: what the explain modules read through it.

/** Evaluates a Go expression in the stopped session; undefined when dlv cannot (an error). */
export type Evaluate = (expression: string) => Promise<string | undefined>;

/** An integer as dlv shows it: "37", "runtime.spanClass(37)", "internal/abi.TFlag(15)", or a uintptr's "14426966769664 = 0xd1f0a3ac000". */
export function dlvInteger(v: string | undefined): bigint | undefined {
  const m = v === undefined ? undefined : /^(?:[\w./]+\()?(0x[0-9a-f]+|\d+)\)?(?: = 0x[0-9a-f]+)?$/i.exec(v.trim());
  return m ? BigInt(m[1]) : undefined;
}
