// `npm run bench`: every benchmark, with its baseline measured in the same run.
// Prints a table and writes bench/results.json. Reproduce: npm run bench.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './lib.mjs';
import { benchAnnotate } from './annotate.mjs';
import { benchExplain } from './explain.mjs';
import { benchAnnotationHook, benchProxy } from './proxy.mjs';
import { benchPathologicalHover } from './hover.mjs';
import { benchGuestFlood, benchGuestParse, benchGuestRaw } from './guest.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const tmp = path.join(root, 'bench', 'tmp');
fs.mkdirSync(tmp, { recursive: true });
const cli = path.join(root, 'dist', 'cli.js');

const results = { date: new Date().toISOString(), machine: machine() };
// `npm run bench -- proxy` runs one group (annotate, explain, hover, proxy, guest, guest-flood) and keeps the others' last figures.
const only = process.argv[2];
const resultsFile = path.join(root, 'bench', 'results.json');
if (only && fs.existsSync(resultsFile)) Object.assign(results, JSON.parse(fs.readFileSync(resultsFile, 'utf8')), { date: results.date, machine: results.machine });
if (!only || only === 'annotate') results.annotate = benchAnnotate(tmp, cli);
if (!only || only === 'explain') results.explain = await benchExplain(tmp, root);
if (!only || only === 'hover') results.hover = await benchPathologicalHover(root);
if (!only || only === 'guest') {
  results.guest = benchGuestParse(root);
  results.guestRaw = benchGuestRaw(root);
}
// Live, 60 s, root and the hanging runsc: only when asked for (npm run bench -- guest-flood).
if (only === 'guest-flood') results.guestFlood = await benchGuestFlood(root);
if (!only || only === 'proxy') {
  results.proxy = await benchProxy(root);
  results.annotationHook = benchAnnotationHook(root);
}

const f = (n) => n.toFixed(1);
const g = results.guest;
const mps = (x) => `${(x / 1e6).toFixed(2)} M events/s`;
const guestRows = () => {
  if (g) {
    console.log(`| parse ${g.lines.toLocaleString('en-US')} recorded KVM events of the amd64 hang (${f(g.mb)} MB, ${g.rounds} interleaved rounds) | line split: ${mps(g.split.median)} (${mps(g.split.min)}–${mps(g.split.max)}) | parse: ${mps(g.parse.median)} (${mps(g.parse.min)}–${mps(g.parse.max)}); parse + aggregate: ${mps(g.aggregate.median)} | ${g.ratio.median.toFixed(2)}× split (${g.ratio.low.toFixed(2)}–${g.ratio.high.toFixed(2)}) | ≥ 1,000,000 events/s |`);
  }
  const w = results.guestRaw;
  if (w) {
    console.log(`| read ${w.events.toLocaleString('en-US')} recorded binary KVM records of the amd64 hang as the tracer does (trace_pipe_raw pages, ${f(w.mb)} MB, ${w.rounds} interleaved rounds): printed by their formats, read, aggregated | walk the records unread: ${mps(w.walk.median)} | ${mps(w.decode.median)} (${mps(w.decode.min)}–${mps(w.decode.max)}) | ${w.ratio.median.toFixed(3)}× walk (${w.ratio.low.toFixed(3)}–${w.ratio.high.toFixed(3)}) | ≥ 1,000,000 events/s |`);
  }
  const h = results.guestFlood;
  if (h && !h.skipped) console.log(`| 60 s trace of the live hang (bluepill-lens guest --seconds 60) | — | ${h.events.toLocaleString('en-US')} events read (${h.eventsPerSecond.toLocaleString('en-US')}/s), ${h.lost.toLocaleString('en-US')} dropped by the kernel; peak RSS ${f(h.peakRssMb)} MB | | RSS < 100 MB |`);
};
const a = results.annotate;
console.log(`\nbluepill-lens benchmarks (${results.machine.cpu}, ${results.machine.cores} cores, node ${results.machine.node})\n`);
console.log('| benchmark | baseline | bluepill-lens | ratio | goal |');
console.log('|---|---|---|---|---|');
console.log(
  `| annotate ${a.inputMb} MB of objdump text | sed: ${f(a.sed.mbPerS)} MB/s (median ${f(a.sed.median)} ms, ${f(a.sed.min)}–${f(a.sed.max)}) | ${f(a.annotate.mbPerS)} MB/s (median ${f(a.annotate.median)} ms, ${f(a.annotate.min)}–${f(a.annotate.max)}), peak RSS ${f(a.annotate.peakRssMb)} MB | ${a.ratio.toFixed(2)}× sed | ≥ 1.0×, RSS < 100 MB |`,
);
const e = results.explain;
console.log(`| index a ${e.listingMb} MB listing (${e.blocks} TEXT blocks) | grep for one TEXT line: median ${f(e.grepForSymbol.median)} ms | ${f(e.indexBuild.median)} ms (${f(e.indexBuild.min)}–${f(e.indexBuild.max)}), once per document version | ${(e.indexBuild.median / e.grepForSymbol.median).toFixed(2)}× one grep | responsive |`);
console.log(`| hover an address in it | the same grep, every time | median ${e.hover.median.toFixed(3)} ms, p99 ${e.hover.p99.toFixed(3)} ms | ${(e.grepForSymbol.median / e.hover.median).toFixed(0)}× faster | no freeze |`);
console.log(`| load the symbols of runsc (${e.binaryMb} MB, arm64) | — | ${f(e.symbolsLoad.median)} ms (${f(e.symbolsLoad.min)}–${f(e.symbolsLoad.max)}) | | |`);
console.log(`| explain an address in runsc (CLI, whole process) | go tool objdump -s kvm.bluepillGuestExit: ${f(e.goToolObjdumpSymbol.median)} ms | ${f(e.explainBinaryCli.median)} ms | ${(e.goToolObjdumpSymbol.median / e.explainBinaryCli.median).toFixed(2)}× faster | |`);
for (const [size, s] of Object.entries(results.hover ?? {})) console.log(`| hover on a pathological line of ${size} | — | median ${s.median.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms (worst: ${s.worstKind}) | | < 10 ms |`);
const p = results.proxy;
const r = (x) => `${x.median.toFixed(3)}× (90%: ${x.low.toFixed(3)}–${x.high.toFixed(3)})`;
const ms3 = (x) => `${x.median.toFixed(3)} ms (90%: ${x.low.toFixed(3)}–${x.high.toFixed(3)})`;
const steps = `${p.rounds} rounds of ${p.stepsPerRound} instruction steps${p.instances ? ` in each of ${p.instances} sessions per path` : ''}`;
console.log(`| ${steps}, proxy inline (as VS Code runs it), tracker analysing every stop (${p.stateEventsPerStep.toFixed(2)} states per stop) | dlv alone: median ${f(p.stepping.direct.median)} ms a round | inline: ${f(p.stepping.inline.median)} ms | ${r(p.stepping.inlineRatio)} | ≤ 1.10× |`);
console.log(`| the same, proxy as a process on stdio (nvim-dap) | dlv alone, as above | ${f(p.stepping.proxy.median)} ms | ${r(p.stepping.ratio)} | ≤ 1.10× |`);
if (p.stepping.inlineOverItsDlv) {
  console.log(`| the same inline, against its own dlv: the step's time over dlv's part of it (stepIn sent to dlv → its stopped read), per round | dlv's part: median ${f(p.stepping.inline.median / p.stepping.inlineOverItsDlv.median)} ms a round | own time per step: ${ms3(p.stepping.inlineOwnPerStep)} | ${r(p.stepping.inlineOverItsDlv)} | ≤ 1.10× |`);
  console.log(`| control: a second dlv alone, the same program and steps | dlv alone, as above | ${f(p.stepping.direct2.median)} ms | ${r(p.stepping.controlRatio)} | 1.00× |`);
}
if (p.stepping.trackerRatio) {
  console.log(`| one inline session, the round-trip tracker on against off in the rounds next to each other (the same dlv) | tracker off: median ${f(p.stepping.trackerOff.median)} ms a round | on: ${f(p.stepping.trackerOn.median)} ms | ${r(p.stepping.trackerRatio)} | |`);
}
console.log(`| the same through a byte relay (any extra process) | dlv alone, as above | ${f(p.stepping.relay.median)} ms | ${r(p.stepping.relayRatio)}; proxy/relay ${r(p.stepping.proxyOverRelay)} | |`);
const ms = (x) => `${x.median.toFixed(3)} ms (90%: ${x.low.toFixed(3)}–${x.high.toFixed(3)})`;
for (const [name, l] of Object.entries(p.latency)) {
  const goal = name === 'disassemble400' ? '≤ 0.3 ms' : '≤ 0.1 ms';
  const relayed = l.addedRelay ? `; a byte relay: ${ms(l.addedRelay)}` : '';
  console.log(`| ${name} | dlv alone: median ${l.direct.median.toFixed(2)} ms | added inline: ${ms(l.addedInline)}; on stdio: ${ms(l.addedStdio)}${relayed} | | median added ${goal} |`);
}
const h = results.annotationHook;
console.log(`| annotation part of a ${h.instructions}-instruction disassemble (${h.moves} MRS/MSR) | — | median ${h.median.toFixed(3)} ms, p99 ${h.p99.toFixed(3)} ms | | ≤ 1 ms |`);
console.log(`| ${p.longSession.requests} requests through one proxy | — | RSS ${f(p.longSession.rssBeforeMb)} → ${f(p.longSession.rssAfterMb)} MB (+${f(p.longSession.growthMb)} MB) | | < 20 MB |`);
guestRows();
fs.writeFileSync(path.join(root, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\nwrote bench/results.json');
