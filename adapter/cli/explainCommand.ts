// `bluepill-lens explain (--pid PID | --binary FILE | --objdump FILE) ADDRESS [--json]`:
// "Explain This Address": any address of a process on this machine (--pid), or a PC
// offline, from a binary's ELF symbols and code, or from a listing.
import * as fs from 'node:fs';
import { explain, explanationText } from '../explain/explain';
import { factsFromElf, loadedSpan, placeAddress } from '../explain/fromElf';
import { factsFromListing } from '../explain/listing';
import { LineTooLongError } from '../explain/listingLines';
import { addressExplanationText } from '../explain/addressKinds';
import { explainProcessAddress, ProcessReadError } from '../explain/localProcess';
import { bufferReader, fileReader, NotElfError, parseSections } from '../elf/sections';
import { parseFunctions, type ElfSymbols } from '../elf/symbols';
import { CliError, UsageError, type CliCommand, type CliIo } from './command';
import { openRegularFile, openStream, readAllInput } from './inputs';
import { jsonText, printable, printableStrings } from './terminalText';
import { parseHexAddress } from '../explain/hexAddress';

export const explainCommand: CliCommand = {
  name: 'explain',
  summary: 'Explain an address: of a running process (code or data), or a PC from an ELF binary or a listing.',
  synopsis: '(--pid PID | --binary FILE | --objdump FILE) ADDRESS [--json]',
  help: `Explain an address.
  --pid PID       any address of a process on this machine, from /proc/PID/maps,
                  its threads' stack pointers and its ELF: the mapping, the section
                  (.text, .rodata, .data, .bss...), the vDSO, a thread's stack, the
                  Go heap (arena), gVisor's KVM guest-physical reservation; for code
                  also the PC explanation below. Another user's process needs root.
Offline, a PC: its function, instruction, system register, bluepill role and
phase, and what it does on the host and in the guest.
  --binary FILE   from an ELF binary's symbols and code (runsc built with symbols);
                  only executable sections are decoded: an address in .rodata or
                  .data is said to be data, one in no loaded section an error
  --objdump FILE  from a \`go tool objdump\` listing, streamed (any size)
  --json          one JSON object: {"kind": "code", ...the explanation} or
                  {"kind": "data", "address", "section", "origin"}; with --pid
                  {"kind", "address", "summary", "mapping", "section", "details",
                  "unknown", "origin", "code"?}
FILE - reads standard input. ADDRESS is hex, with or without 0x.`,
  options: { pid: { type: 'string' }, binary: { type: 'string' }, objdump: { type: 'string' }, json: { type: 'boolean' } },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const binary = values.binary as string | undefined;
    const objdump = values.objdump as string | undefined;
    const pid = values.pid as string | undefined;
    if ([binary, objdump, pid].filter((v) => v !== undefined).length !== 1) throw new UsageError('give one of --pid PID (a process on this machine), --binary FILE (an ELF binary such as runsc) or --objdump FILE (a go tool objdump listing).');
    if (positionals.length === 0) throw new UsageError('give the address to explain, e.g. 0x95c6d8 or 95c6d8.');
    const address = parseHexAddress(positionals[0]);
    if (address === undefined) throw new UsageError(`"${printable(positionals[0])}" is not an address: write it in hex, with or without 0x (at most 16 digits).`);
    const json = values.json === true;
    if (pid !== undefined) return explainInProcess(pid, address, json, io);
    return binary !== undefined ? explainFromBinary(binary, address, json, io) : explainFromListing(objdump!, address, json, io);
  },
};

function explainInProcess(pidText: string, address: bigint, json: boolean, io: CliIo): number {
  if (!/^\d+$/.test(pidText.trim()) || Number(pidText) <= 0) throw new UsageError(`--pid takes a process id (a positive number), not "${printable(pidText)}".`);
  let answer;
  try {
    answer = explainProcessAddress(Number(pidText), address);
  } catch (e) {
    if (e instanceof ProcessReadError) throw new CliError(e.message);
    throw e;
  }
  if (json) io.out.write(jsonText({ ...answer.address, code: answer.code }));
  else {
    io.out.write(addressExplanationText(printableStrings(answer.address)) + '\n');
    if (answer.code) io.out.write(explanationText(printableStrings(answer.code)) + '\n');
  }
  return 0;
}

async function explainFromListing(file: string, address: bigint, json: boolean, io: CliIo): Promise<number> {
  const label = file === '-' ? 'standard input' : file;
  const input = openStream(file, 'listing', io.stdin);
  let facts;
  const read = { instructions: 0 };
  try {
    facts = await factsFromListing(input, address, label, read);
  } catch (e) {
    if (!(e instanceof LineTooLongError)) throw e;
    throw new CliError(`${printable(label)} is not a go tool objdump listing: its ${e.message}, and a listing's lines are short. Give the text that \`go tool objdump BINARY\` prints, or the binary itself with --binary.`);
  }
  if (!facts && read.instructions === 0) throw new CliError(`${printable(label)} is not a go tool objdump listing: it has no instruction line. Give the text that \`go tool objdump BINARY\` prints, or the binary itself with --binary.`);
  if (!facts) throw new CliError(`0x${address.toString(16)} is not an instruction address in the listing ${printable(label)}: give an address from its second column (or list the function that holds it: go tool objdump -s NAME BINARY).`);
  write(io, { kind: 'code', ...explain(facts) }, json);
  return 0;
}

async function explainFromBinary(file: string, address: bigint, json: boolean, io: CliIo): Promise<number> {
  const label = file === '-' ? 'standard input' : file;
  const fd = file === '-' ? undefined : openRegularFile(file, 'binary');
  try {
    const read = fd === undefined ? bufferReader(await readAllInput(io.stdin, 'binary'), label) : fileReader(fd, label);
    let symbols: ElfSymbols;
    try {
      const info = parseSections(read, label);
      symbols = { info, functions: parseFunctions(info, read, label) };
    } catch (e) {
      if (!(e instanceof NotElfError)) throw e;
      throw new CliError(`${printable(e.message)}: --binary takes an ELF binary such as runsc (for a go tool objdump listing, use --objdump).`);
    }
    const { machine } = symbols.info;
    if (machine !== 62 && machine !== 183) throw new CliError(`${printable(label)} is an ELF file for machine ${machine}, not for arm64 (183) or amd64 (62): give a runsc (or Go program) built for one of those.`);
    const placement = placeAddress(symbols.info, address);
    const hex = `0x${address.toString(16)}`;
    if (placement.kind === 'outside') {
      const span = loadedSpan(symbols.info);
      throw new CliError(`${hex} is outside the program: no section that ${printable(label)} loads holds it${span ? ` (they span 0x${span.from.toString(16)}–0x${span.to.toString(16)})` : ' (it loads none)'}. Give an address of its code, e.g. a PC from dlv or from go tool objdump.`);
    }
    if (placement.kind === 'data') {
      const section = placement.section.name || '(unnamed)';
      const data = { kind: 'data', address: hex, section, origin: `the ELF sections of ${label}` };
      if (json) io.out.write(jsonText(data));
      else io.out.write(printable(`${hex} is data, not code: it is in ${section} of ${label}, a section that is not executable. explain takes the address of an instruction (a PC).`) + '\n');
      return 0;
    }
    write(io, { kind: 'code', ...explain(factsFromElf(symbols, read, label, address)) }, json);
    return 0;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function write(io: CliIo, explanation: ReturnType<typeof explain> & { kind: string }, json: boolean): void {
  io.out.write(json ? jsonText(explanation) : explanationText(printableStrings(explanation)) + '\n');
}
