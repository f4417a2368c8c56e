// Reading `go tool objdump` listings (with or without -S) and dlv's disassembly text:
// the shape of one line, and a streaming scan that finds an address in a listing
// of any size in constant memory.
import * as fs from 'node:fs';
import type { ExplainInput } from './explain';
import { boundedLines } from './listingLines';

export interface ListingInstruction {
  address: bigint;
  bytes: string;
  text: string;
  location?: { file: string; line: number };
}

// Generic names hold spaces: "Pointer[go.shape.struct { ... }]". Both patterns take the rest of the
// line with a greedy (.*) and trim it in code: a lazy (.*?)\s*$ retries at every character of a long
// run of spaces (100 KB of them took seconds); the name starts at a non-space for the same reason.
const TEXT_LINE = /^TEXT\s+(\S.*?)\(SB\)\s*(.*)$/s;
// An instruction with no source position (linker-made: go:textfipsstart) is located ":-1".
const INSTRUCTION_LINE = /^(?:=>)?\s*(?:(\S+\.(?:go|s|S|c)):(\d+)\s+|:-1\s+)?0x([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+(.*)$/s;

export function parseTextLine(line: string): { name: string; file: string } | undefined {
  const m = TEXT_LINE.exec(line);
  return m ? { name: m[1].replace(/\.abi0$/, ''), file: m[2].trimEnd() } : undefined;
}

export function parseInstructionLine(line: string): ListingInstruction | undefined {
  const m = INSTRUCTION_LINE.exec(line);
  if (!m) return undefined;
  const sourceLine = Number(m[2]); // a location of 400 digits is Infinity: no location
  return { address: BigInt(`0x${m[3]}`), bytes: m[4].toLowerCase(), text: m[5].trimEnd(), location: m[1] && Number.isSafeInteger(sourceLine) ? { file: m[1], line: sourceLine } : undefined };
}

/**
 * Streams the listing (a file, or a stream such as standard input) until it finds `address`;
 * undefined when the listing does not hold it (`read.instructions` then says whether it held any
 * instruction at all: none means it is no listing). A line over 16 MiB is a LineTooLongError.
 */
export async function factsFromListing(input: string | NodeJS.ReadableStream, address: bigint, label = typeof input === 'string' ? input : 'standard input', read = { instructions: 0 }): Promise<ExplainInput | undefined> {
  const stream = typeof input === 'string' ? fs.createReadStream(input, { highWaterMark: 1 << 20 }) : input;
  const lines = boundedLines(stream as AsyncIterable<Buffer>);
  let block: { name: string; file: string; start?: bigint } | undefined;
  // ARM64 listings show every instruction as one 8-hex-digit word; amd64 lengths vary.
  let seen = 0;
  let allWords = true;
  let lastSourceLine: number | undefined;
  // Leaving the loop early (found) closes the generator, and it the stream.
  for await (const line of lines) {
    const header = parseTextLine(line);
    if (header) {
      block = { ...header };
      continue;
    }
    const ins = parseInstructionLine(line);
    if (!ins) {
      if (line.trim()) lastSourceLine = undefined;
      continue;
    }
    if (block && block.start === undefined) block.start = ins.address;
    seen++;
    read.instructions = seen;
    allWords &&= ins.bytes.length === 8;
    if (ins.address !== address) continue;
    const arch = allWords && (seen > 1 || looksArm64(ins)) ? 'arm64' : 'amd64';
    return {
      address,
      arch,
      symbol: block?.name,
      offset: block?.start !== undefined ? address - block.start : undefined,
      source: ins.location ?? (block && lastSourceLine ? { file: block.file, line: lastSourceLine } : undefined),
      instruction: { text: ins.text, bytes: ins.bytes.length === 8 && arch === 'arm64' ? reverseWord(ins.bytes) : ins.bytes },
      origin: `the listing ${label}`,
    };
  }
  return undefined;
}

/** go tool objdump prints ARM64 words as numbers (d538d08a); dlv's bytes are memory order (8ad038d5). */
function reverseWord(hex: string): string {
  return hex.match(/../g)!.reverse().join('');
}

/** One instruction line alone: an 8-hex-digit word with an ARM64-only mnemonic or register. */
export function looksArm64(ins: ListingInstruction): boolean {
  return ins.bytes.length === 8 && /^(MOVD|MOVW|BL|B|CBZ|CBNZ|TBZ|MRS|MSR|SVC|STP|LDP|ADRP|CALL|RET|JMP)\b|\b(R\d+|RSP|ZR)\b/.test(ins.text) && !/\b[ER]?(AX|BX|CX|DX|SI|DI)\b/.test(ins.text);
}
