// A GuestSummary as text for a terminal, in the spirit of `perf kvm stat`: per vCPU thread,
// then the hottest guest code, the loops and the findings.
import type { GuestSummary, HotPc, VcpuSummary } from './summary';

const n = (x: number) => x.toLocaleString('en-US');
const us = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} s` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} ms` : `${x} µs`);
const short = (symbol: string) => symbol.replace(/^gvisor\.dev\/gvisor\/pkg\//, '');
const list = (items: { count: number }[], key: (i: never) => string) =>
  items.length ? items.map((i) => `${key(i as never)} × ${n(i.count)}`).join(', ') : 'none';

/** arm64: where the guest was; an EL0 PC is the application's, and its runsc name a coincidence. */
const level = (l: HotPc['level']) => (l === 'EL0' ? ' [EL0: the application, not this runsc code]' : l ? ` [${l}]` : '');

function hotLines(hot: HotPc[], indent: string): string[] {
  const width = Math.max(5, ...hot.map((h) => n(h.count).length));
  return hot.map((h) => `${indent}${n(h.count).padStart(width)}  ${short(h.symbol)}${level(h.level)}${h.instruction ? `   ${h.instruction}` : ''}${h.source ? `   (${h.source})` : ''}`);
}

function threadLines(t: VcpuSummary): string[] {
  const lines = [`vCPU thread ${t.tid}: ${n(t.events)} events, ${n(t.eventsPerSecond)}/s`];
  lines.push(`  exits (kvm_exit): ${list(t.exitReasons, (r: { reason: string }) => r.reason)}`);
  lines.push(`  back to runsc (kvm_userspace_exit): ${list(t.userspaceExits, (r: { reason: string }) => r.reason)}${t.userspaceExitCount ? '' : `, none for ${us(t.withoutUserspaceExitUs)}`}`);
  if (t.entries) lines.push(`  in the guest: ${n(t.entries)} entries, mean ${us(t.meanInGuestUs)}, longest ${us(t.longestInGuestUs)}${t.stillInGuestUs ? `, in it now for ${us(t.stillInGuestUs)}` : ''}`);
  lines.push(`  injected exceptions: ${list(t.exceptions, (e: { exception: string }) => e.exception)}`);
  if (t.emulated) lines.push(`  emulated instructions: ${n(t.emulated)}${t.emulationFailures ? ` (${n(t.emulationFailures)} failed)` : ''}`);
  for (const f of t.faults) lines.push(`  fault on ${f.faultAddress} (error ${f.error}) at ${f.symbol ? short(f.symbol) : '?'}${f.instruction ? ` (${f.instruction})` : ''} × ${n(f.count)}`);
  if (t.firstFault) lines.push(`  first fault seen: ${t.firstFault.faultAddress} (error ${t.firstFault.error}) at ${t.firstFault.symbol ? short(t.firstFault.symbol) : '?'}${t.firstFault.pte ? `, level ${t.firstFault.level} entry ${t.firstFault.pte}` : ''}`);
  if (t.last) lines.push(`  last guest PC: ${short(t.last.symbol)}${level(t.last.level)} (${t.last.event}, ${us(t.last.agoUs)} before the end)${t.last.instruction ? `   ${t.last.instruction}` : ''}${t.last.source ? `   (${t.last.source})` : ''}`);
  if (t.hot.length) lines.push('  hottest guest code:', ...hotLines(t.hot, '    '));
  return lines;
}

export function renderSummary(s: GuestSummary): string {
  const out = [
    `bluepill-lens guest: pid ${s.pid}, ${(s.tracedSeconds ?? s.seconds).toFixed(1)} s traced, ${n(s.events)} KVM events${s.tracedSeconds !== undefined && s.events > 1 ? ` over ${s.seconds.toFixed(1)} s` : ''}${s.lost ? `, ${n(s.lost)} lost (the kernel's buffer was full)` : ''}`,
    `binary: ${s.binary} (${s.arch}); KVM modules: ${s.kvmModules.join(', ') || 'none'}`,
    '',
  ];
  if (s.threads.length === 0) out.push('No KVM event came from this process\'s threads: is it the runsc-sandbox process, and does it use --platform=kvm? (bluepill-lens processes lists the sandboxes.)', '');
  for (const t of s.threads) out.push(...threadLines(t), '');
  if (s.hot.length) out.push('Hottest guest code (all vCPU threads), by runsc symbol:', ...hotLines(s.hot, '  '), '');
  if (s.loops.length) {
    out.push('Loops:');
    for (const l of s.loops.slice(0, 5)) out.push(`  vCPU thread ${l.tid}: ${l.period} steps, ${n(l.iterations)} turns, ${n(l.perSecond)}/s: ${l.symbols.map(short).join(' → ')}`);
    out.push('');
  }
  out.push('Findings:');
  out.push(...(s.findings.length ? s.findings.map((f) => `  - ${f}`) : ['  none: nothing in this trace stands out.']));
  return out.join('\n') + '\n';
}
