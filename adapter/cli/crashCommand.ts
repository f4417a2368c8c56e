// `bluepill-lens crash [--binary FILE] [--json] [FILE | -]`: a crash report of runsc (what it
// wrote to stderr when it died) decoded: gVisor's die marker and the exit in its registers, the
// message vCPU.die threw and the guest's PC under dieHandler, the lines its KVM handler printed.
import * as fs from 'node:fs';
import { binaryMismatch, CrashReportReader, crashFindings, crashReportText, type Arch } from '../bluepill/crashReport';
import { cachedElfFunctions, nameWithOffset, symbolize } from '../elf/symbols';
import { archOfMachine } from '../bluepill/detect';
import { boundedLines, LineTooLongError } from '../explain/listingLines';
import { CliError, UsageError, type CliCommand } from './command';
import { openRegularFile, openStream } from './inputs';
import { jsonText, printable, printableStrings } from './terminalText';

/** A crash report's lines are short; a longer one means the input is something else. */
const MAX_LINE_BYTES = 1 << 20;

export const crashCommand: CliCommand = {
  name: 'crash',
  summary: 'Decode a crash report of runsc: a vCPU that died, its KVM exit, where the guest was.',
  synopsis: '[--binary FILE] [--json] [FILE | -]',
  help: `Decode what runsc wrote to stderr when it died (its --debug-log, or the
container's output): gVisor's die marker (PC 0xabc / 0xabd) and the KVM exit its
handler left in R9-R14 of the register dump, the message vCPU.die threw with the
guest's PC under kvm.dieHandler, and the lines its KVM handler printed before.
  --binary FILE   the runsc that crashed, to name the addresses by its symbols
  --json          one object: {"arch", "signal", "registers", "goroutine",
                  "gvisorLines", "findings": [{"severity", "message"}]}
FILE - (or no FILE) reads standard input.`,
  options: { binary: { type: 'string' }, json: { type: 'boolean' } },
  maxPositionals: 1,
  async run({ values, positionals }, io) {
    const file = positionals[0] ?? '-';
    const binary = values.binary as string | undefined;
    if (binary === '') throw new UsageError('--binary takes the path of the runsc that crashed.');
    const symbols = binary === undefined ? undefined : symbolsOf(binary);
    const label = file === '-' ? 'standard input' : file;
    const reader = new CrashReportReader();
    try {
      for await (const line of boundedLines(openStream(file, 'crash report', io.stdin), MAX_LINE_BYTES)) reader.line(line);
    } catch (e) {
      if (!(e instanceof LineTooLongError)) throw e;
      throw new CliError(`${printable(label)} is not a crash report: its ${e.message}. Give the text runsc wrote to stderr when it died.`);
    }
    const report = reader.report;
    const found = report.fatalSignal || report.panicSignal || report.fatalError !== undefined || report.panic !== undefined || report.gvisorLines.length || Object.keys(report.registers).length;
    if (!found) throw new CliError(`no crash report in ${printable(label)} (${report.lines} ${report.lines === 1 ? 'line' : 'lines'}): give what runsc wrote to stderr when it died (its --debug-log, or the container's output), from "panic:", "fatal error:" or "SIGSEGV:" on.`);
    // A binary that is not the one that crashed would name every address wrong: its names are left out.
    const mismatch = symbols && binaryMismatch(report, symbols.arch, symbols.functionAt);
    const findings = crashFindings(report, mismatch ? undefined : symbols?.nameAt);
    if (mismatch) findings.unshift({ id: 'wrong-binary', severity: 'warning', message: `${binary} is not the program that crashed (${mismatch}): its symbols are not used. Give the runsc that wrote this report.` });
    if (values.json === true) {
      const hex = (n: bigint | undefined) => (n === undefined ? undefined : `0x${n.toString(16)}`);
      io.out.write(
        jsonText({
          arch: report.arch ?? null,
          signal: report.fatalSignal ? { kind: 'fatal', name: report.fatalSignal.name, pc: hex(report.fatalSignal.pc), addr: hex(report.fatalSignal.addr) } : report.panicSignal ? { kind: 'panic', name: report.panicSignal.name, pc: hex(report.panicSignal.pc), addr: hex(report.panicSignal.addr) } : null,
          fatalError: report.fatalError ?? null,
          panic: report.panic ?? null,
          registers: Object.fromEntries(Object.entries(report.registers).map(([k, v]) => [k, hex(v)])),
          goroutine: report.goroutine ? { ...report.goroutine, frames: report.goroutine.frames.map((f) => ({ ...f, pc: hex(f.pc) })) } : null,
          gvisorLines: report.gvisorLines.map((l) => ({ ...l, value: hex(l.value) })),
          findings: findings.map(({ severity, message }) => ({ severity, message })),
        }),
      );
    } else io.out.write(crashReportText(printableStrings(report), printableStrings(findings)) + '\n');
    return 0;
  },
};

/** The binary's function symbols: an address's function+offset, and its function alone; and its arch. */
function symbolsOf(binary: string): { nameAt(a: bigint): string | undefined; functionAt(a: bigint): string | undefined; arch: Arch | undefined } {
  fs.closeSync(openRegularFile(binary, 'binary'));
  let elf;
  try {
    elf = cachedElfFunctions(binary);
  } catch (e) {
    const message = (e as Error).message;
    throw new CliError(`${message.includes(binary) ? '' : `${printable(binary)}: `}${printable(message)}. --binary takes the runsc (an ELF binary with symbols) that crashed.`);
  }
  const { functions, info } = elf;
  if (functions.length === 0) throw new CliError(`${printable(binary)} has no function symbols (stripped?): give a runsc built with symbols, or leave out --binary.`);
  return {
    nameAt: (a) => nameWithOffset(functions, a),
    functionAt: (a) => symbolize(functions, a)?.symbol.name,
    arch: archOfMachine(info.machine),
  };
}
