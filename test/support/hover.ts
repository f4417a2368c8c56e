// Pathological go-objdump lines, for the hover and grammar fuzz tests and bench/hover.mjs:
// each a real line's start followed by a long run of one thing.

/** Lines no listing should hold, after the start of a real instruction line: each a long run of one thing. */
export const PATHOLOGICAL: Record<string, { prefix: string; unit: string }> = {
  hex: { prefix: '  bluepill.go:53\t0xca6b0\t\t', unit: 'f' },
  address: { prefix: '  bluepill.go:53\t0x', unit: '95c6d8' },
  digits: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tMOVD $', unit: '9' },
  dollars: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tMOVD ', unit: '$' },
  spaces: { prefix: '  bluepill.go:53\t0xca6b0\t\td538d08a\t\tMRS ', unit: ' ' },
  parentheses: { prefix: '  bluepill.go:53\t0xca6b0\t\tf9400b90\t\tCALL ', unit: '(a' },
  moves: { prefix: '  bluepill_arm64.s:87\t0x95c6d8\t\td538d08a\t\t', unit: 'MRS $18052, R10 MSR R1, S3_0_C13_C0_4 ' },
  symbol: { prefix: '  bluepill.go:55\t0xca6e4\t\t94000043\t\tCALL ', unit: 'kvm.(*vCPU)/' },
  text: { prefix: 'TEXT ', unit: ' ' },
};

export function pathologicalLine(kind: string, length: number): string {
  const { prefix, unit } = PATHOLOGICAL[kind];
  return (prefix + unit.repeat(Math.ceil(Math.max(0, length - prefix.length) / unit.length))).slice(0, length);
}
