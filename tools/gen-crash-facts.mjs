#!/usr/bin/env node
// Generates adapter/bluepill/crashFacts.generated.ts: what a crash report of runsc on KVM can hold,
// read from the sources that print it:
//   - the Go runtime of the installed toolchain (`go env GOROOT`): the register dump of a fatal
//     signal (dumpregs in src/runtime/signal_{amd64,arm64}.go), names in the order printed;
//   - gVisor at the pinned version (GVISOR_VERSION in tools/build-runsc.sh), pkg/sentry/platform/kvm:
//     the lines its signal handler writes to stderr with printHex before a vCPU dies (title and the
//     value it prints), and the message each KVM exit reason makes vCPU.die throw.
// A source that no longer matches stops the script with the file and the pattern.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const go = fs.existsSync('/usr/local/go/bin/go') && !process.env.PATH?.split(':').some((d) => fs.existsSync(path.join(d, 'go'))) ? '/usr/local/go/bin/go' : 'go';
const goroot = execFileSync(go, ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
const goVersion = fs.readFileSync(path.join(goroot, 'VERSION'), 'utf8').split('\n')[0].trim();
const pinned = /GVISOR_VERSION:-(v[^}]+)}/.exec(fs.readFileSync(path.join(root, 'tools', 'build-runsc.sh'), 'utf8'))[1];
const gvisorVersion = process.env.GVISOR_VERSION ?? pinned;
const modcache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
const gvisor = path.join(modcache, `gvisor.dev/gvisor@${gvisorVersion}`);
if (!fs.existsSync(gvisor)) {
  console.error(`gVisor ${gvisorVersion} is not in the Go module cache (${gvisor}): run tools/build-runsc.sh first.`);
  process.exit(1);
}
const kvm = path.join(gvisor, 'pkg/sentry/platform/kvm');

function fail(file, pattern) {
  console.error(`${file} no longer matches ${pattern}: read the source and update this generator.`);
  process.exit(1);
}

/** Every match of `pattern` in `file`; at least one. */
function all(file, pattern) {
  const found = [...fs.readFileSync(file, 'utf8').matchAll(pattern)];
  if (found.length === 0) fail(file, pattern);
  return found;
}

// --- Go runtime: dumpregs --------------------------------------------------------------------
const dumpOrder = (arch) => {
  const file = path.join(goroot, 'src/runtime', `signal_${arch}.go`);
  const body = all(file, /func dumpregs\(c \*sigctxt\) \{([\s\S]*?)\n\}/g)[0][1];
  const names = [...body.matchAll(/print\("(\w+)\s+", hex\(c\.\w+\(\)\), "\\n"\)/g)].map((m) => m[1]);
  if (names.length < 10) fail(file, 'print("NAME  ", hex(c.NAME()), "\\n") in dumpregs');
  return names;
};
const header = all(path.join(goroot, 'src/runtime/signal_unix.go'), /print\("PC=", hex\(c\.sigpc\(\)\), " m=", mp\.id, " sigcode=", c\.sigcode\(\)\)/g);
void header;

// --- gVisor: printHex lines and die messages ---------------------------------------------------
const hexLines = [];
/** The Go function whose body holds `index` (the last `func` line before it). */
function enclosingFunction(text, index) {
  const heads = [...text.slice(0, index).matchAll(/^func (?:\([^)]*\) )?(\w+)\(/gm)];
  return heads.length ? heads[heads.length - 1][1] : undefined;
}
for (const file of fs.readdirSync(kvm).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go')).sort()) {
  const text = fs.readFileSync(path.join(kvm, file), 'utf8');
  for (const m of text.matchAll(/printHex\(\[\]byte\("([^"]+)"\), ([^)\n]+?)\)\n/g)) hexLines.push({ title: m[1], value: m[2].trim(), file, function: enclosingFunction(text, m.index) });
}
const unsafeFile = path.join(kvm, 'bluepill_unsafe.go');
const unsafeText = fs.readFileSync(unsafeFile, 'utf8');
const titlesBlock = all(unsafeFile, /var printHexTitles = \[\.\.\.\]\[\]byte\{([\s\S]*?)\n\}/g)[0][1];
// Only the titles logKVMExitReason prints with a value (printHex); bluepillDieCleanly's go through
// printExitReason, which writes the slice header's bytes rather than the title's.
// Each in the case of the exit reason it logs: `case _KVM_EXIT_X:` … `logKVMExitReason(c, kvmExitXStr)`.
const logged = new Map([...unsafeText.matchAll(/case (_KVM_EXIT_\w+):((?:(?!\n\t\tcase )[\s\S])*?)logKVMExitReason\(c, (\w+)\)/g)].map((m) => [m[3], m[1].slice(1)]));
if (logged.size < 3) fail(unsafeFile, 'case _KVM_EXIT_…: logKVMExitReason(c, …)');
for (const m of titlesBlock.matchAll(/(\w+):\s+\[\]byte\("([^"]+)"\)/g)) if (logged.has(m[1])) hexLines.push({ title: m[2], value: 'c.runData.data[0]', file: 'bluepill_unsafe.go', function: 'logKVMExitReason', exitReason: logged.get(m[1]) });
if (!hexLines.some((l) => l.title.startsWith('unexpected '))) fail(unsafeFile, 'printHexTitles entries');

// In bluepillHandler's switch on the exit reason: `case _KVM_EXIT_X:` … `c.die(…, "message")`.
const dieMessages = [];
for (const m of unsafeText.matchAll(/case (_KVM_EXIT_\w+):((?:(?!\n\t\tcase )[\s\S])*?)c\.die\(bluepillArchContext\(context\), "([^"]+)"\)/g)) dieMessages.push({ message: m[3], exitReason: m[1].slice(1) });
if (dieMessages.length < 3) fail(unsafeFile, 'case _KVM_EXIT_…: … c.die(bluepillArchContext(context), "…")');
const dumps = [...unsafeText.matchAll(/case (_KVM_EXIT_\w+):((?:(?!\n\t\tcase )[\s\S])*?)c\.dieAndDumpExitReason\(/g)].map((m) => m[1].slice(1));

const facts = {
  goVersion,
  gvisorVersion,
  registerDump: { amd64: dumpOrder('amd64'), arm64: dumpOrder('arm64') },
  gvisorHexLines: hexLines,
  dieMessages,
  exitReasonsDumped: dumps,
};
const out = `// Generated by tools/gen-crash-facts.mjs from the Go runtime's source (${goVersion}) and gVisor's
// (${gvisorVersion}, the version tools/build-runsc.sh pins). Do not edit: run the script again.

export const CRASH_FACTS = ${JSON.stringify(facts, null, 2)} as const;
`;
// --out FILE: write elsewhere (the test that checks the committed table is what the sources give).
const outIndex = process.argv.indexOf('--out');
fs.writeFileSync(outIndex > 0 ? process.argv[outIndex + 1] : path.join(root, 'adapter/bluepill/crashFacts.generated.ts'), out);
console.log(`crashFacts.generated.ts: ${hexLines.length} printHex lines, ${dieMessages.length} die messages, dumps for ${dumps.join(', ')}`);
