// `bluepill-lens explain (--binary FILE | --objdump FILE) ADDRESS [--json]`:
// "Explain This PC" offline, from a binary's ELF symbols and code, or from a listing.
import * as fs from 'node:fs';
import { explain, explanationText } from '../explain/explain';
import { factsFromBinary } from '../explain/fromElf';
import { factsFromListing } from '../explain/listing';
import { parseFlags } from './flags';

export function parseAddress(text: string): bigint | undefined {
  const m = /^(?:0x)?([0-9a-f]{1,16})$/i.exec(text.trim());
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

export async function explainCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const parsed = parseFlags(args, ['binary', 'objdump'], ['json']);
  if (typeof parsed === 'string') return fail(err, parsed);
  const { flags, positional } = parsed;
  const file = (flags.binary ?? flags.objdump) as string | undefined;
  if (!file || (flags.binary && flags.objdump)) return fail(err, 'give either --binary FILE (an ELF binary such as runsc) or --objdump FILE (a go tool objdump listing).');
  if (positional.length !== 1) return fail(err, 'give one address, e.g. 0x95c6d8 or 95c6d8.');
  const address = parseAddress(positional[0]);
  if (address === undefined) return fail(err, `"${positional[0]}" is not an address: write it in hex, with or without 0x.`);
  if (!fs.existsSync(file)) return fail(err, `cannot read "${file}": no such file.`, 1);

  let facts;
  try {
    facts = flags.binary ? factsFromBinary(file, address) : await factsFromListing(file, address);
  } catch (e) {
    return fail(err, (e as Error).message, 1);
  }
  if (!facts) return fail(err, `0x${address.toString(16)} is not an instruction address in ${file}.`, 1);
  const e = explain(facts);
  out.write(flags.json ? JSON.stringify(e, null, 2) + '\n' : explanationText(e) + '\n');
  return 0;
}

function fail(err: NodeJS.WritableStream, message: string, code = 2): number {
  err.write(`bluepill-lens explain: ${message}\n`);
  return code;
}
