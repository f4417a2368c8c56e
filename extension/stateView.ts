// The "Bluepill State" tree, in the Bluepill panel: phase, what the stopped thread is
// now, the landmark under the PC, the interrupted context saved in the ucontext,
// diagnoses and the trip log. Labels stay short (the panel may be narrow); details go
// in descriptions and tooltips. Addresses open in a disassembly document when clicked.
import * as vscode from 'vscode';
import { phasesOfId } from '../adapter/bluepill/model';
import type { BluepillState } from '../adapter/bluepill/state';
import type { BluepillStates, GuestView } from './bluepillStates';
import type { VcpuSummary } from '../adapter/guest/summary';
import { stateNames, type GuestStopBody, type SentryVcpu } from '../adapter/guest/vcpuTable';
import { OPEN_ADDRESS_COMMAND } from './addressDocument';
import { STATE_VIEW_ID } from './statusBar';

type Node = vscode.TreeItem & { children?: Node[] };

/**
 * The view, and its one unprompted move: at the first stop of a session that is inside
 * the round trip, it shows itself (without taking the keyboard focus), so nobody has to
 * find and widen it before it is useful.
 */
export function createStateView(states: BluepillStates): vscode.Disposable {
  const provider = new StateViewProvider(states);
  const view = vscode.window.createTreeView(STATE_VIEW_ID, { treeDataProvider: provider });
  const shownFor = new Set<string>();
  const sub = states.onDidChange(() => {
    const current = states.current();
    const stop = current?.state.stop;
    if (!current || !stop || stop.phase === 'host' || shownFor.has(current.session.id)) return;
    shownFor.add(current.session.id);
    void vscode.commands.executeCommand('setContext', 'bluepill.stateViewRequested', true).then(() => {
      const phase = provider.getChildren().find((n) => n.id === 'phase');
      if (phase && !view.visible) return view.reveal(phase, { focus: false, select: false });
    });
  });
  return vscode.Disposable.from(view, sub);
}

export class StateViewProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly states: BluepillStates) {
    states.onDidChange(() => this.changed.fire(undefined));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  /** Only top-level rows are revealed (the phase row, at the first stop of a trip). */
  getParent(): Node | undefined {
    return undefined;
  }

  getChildren(node?: Node): Node[] {
    if (node) return node.children ?? [];
    const current = this.states.current();
    if (!current) return []; // the view's welcome text says how to start
    const guest = current.guest ? [guestSection(current.guest)] : [];
    return [...(current.readOnly ? [readOnlyNote(current.session.type)] : []), ...topLevel(current.state), ...guest];
  }
}

function item(label: string, description?: string, tooltip?: string, children?: Node[], expanded = false): Node {
  const node: Node = new vscode.TreeItem(label, children?.length ? (expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None);
  node.description = description;
  node.tooltip = tooltip ? new vscode.MarkdownString(tooltip) : undefined;
  node.children = children;
  return node;
}

/** Sessions of other debug types (vscode-go's "go") are followed, but nothing in them is annotated. */
function readOnlyNote(type: string): Node {
  const node = item(
    'Read-only: annotations need the bluepill type',
    `"${type}" session`,
    `This **${type}** session talks to dlv directly, so bluepill-lens only watches it: the phase, the signal context, the trips and Explain This PC work. ` +
      'Register names in the Disassembly view, trampoline labels in the Call Stack, breakpoint warnings and diagnoses raised as messages need a launch configuration of type **bluepill**.',
  );
  node.iconPath = new vscode.ThemeIcon('lock');
  node.id = 'read-only';
  return node;
}

function address(label: string, value: string, tooltip: string): Node {
  const node = item(label, value, `${tooltip}\n\nClick to open ${value} in a disassembly; right-click, **Explain This Address**, to say what it is (code, stack, heap...).`);
  node.command = { command: OPEN_ADDRESS_COMMAND, title: 'Open in disassembly', arguments: [value] };
  node.contextValue = 'address';
  return node;
}

function topLevel(state: BluepillState): Node[] {
  if (!state.stop) {
    return [item(state.running ? 'Running' : state.ended ? 'Session ended' : 'Waiting for the first stop', undefined, 'The view fills in at every stop of the debuggee.')];
  }
  const s = state.stop;
  const PHASES = phasesOfId(state.variant?.id);
  const phaseInfo = PHASES.find((p) => p.phase === s.phase)!;
  const diagram = PHASES.map((p) => {
    const n = item(`${p.phase === s.phase ? '▶ ' : '   '}${p.title}`, p.phase === s.phase ? 'you are here' : undefined, p.words);
    n.iconPath = new vscode.ThemeIcon(p.phase === s.phase ? 'debug-stackframe' : 'circle-outline');
    return n;
  });
  const phase = item('Phase', `${s.phaseTitle}${state.running ? ' · running (last stop)' : ''}`, `**${s.phaseTitle}**: ${phaseInfo.words}\n\nWhy: ${s.because}.`, diagram, false);
  phase.iconPath = new vscode.ThemeIcon(s.phase === 'in-guest' ? 'vm' : 'server-process');
  phase.id = 'phase';
  // The stopped thread as it is now; the ucontext below holds the code it interrupted,
  // which may be in another mode (a vCPU thread in KVM_RUN interrupted host code at ring 3).
  const threadNow = item('Thread now', s.mode, `**Thread ${s.threadId} now**: ${s.mode}.\n\nThis is the stopped thread itself. The *interrupted context* row, when there is one, is the code the signal interrupted, saved in the ucontext.`);
  threadNow.iconPath = new vscode.ThemeIcon('debug-stackframe-focused');

  const stopChildren: Node[] = [address('PC', s.pc, `Where thread ${s.threadId} stopped.`), item('Function', s.symbol)];
  if (s.instruction) stopChildren.push(item('Instruction', s.instruction));
  const landmark = item('Stopped in', s.landmark ? `${s.symbol} · ${s.landmark.role}` : s.symbol, s.landmark ? `**${s.landmark.role}**: ${s.landmark.words}${s.landmark.runsInGuest ? '\n\n⚠ This code also runs inside the guest: avoid software breakpoints here.' : ''}` : 'No bluepill landmark under the PC.', stopChildren, true);
  landmark.iconPath = new vscode.ThemeIcon(s.landmark?.runsInGuest ? 'warning' : 'location');

  const nodes: Node[] = [phase, threadNow, landmark];
  if (state.ucontext) {
    const u = state.ucontext;
    const ctx = [
      address('PC', u.pc, `The interrupted PC saved in the ucontext${u.pcSymbol ? ` (${u.pcSymbol})` : ''}. After the guest exit it is where the host resumes.`),
      address('SP', u.sp, 'The interrupted stack pointer.'),
      ...(u.lr ? [address('LR', u.lr, 'The link register (X30) of the interrupted code.')] : []),
      item('Mode', u.mode, u.host ? 'The interrupted code ran in host user mode (EL0 / ring 3), whatever the stopped thread is now.' : 'The interrupted code ran privileged: the guest (EL1 / ring 0).'),
      item('PSTATE', u.flags, u.flagsSummary ?? 'Flags of the interrupted code.'),
      address('Fault address', u.faultAddress, 'The fault address the kernel reported with the signal.'),
      ...(u.sigmask ? [item('Signal mask', `${u.sigmask} · ${u.sigmaskSummary ?? ''}`, 'uc_sigmask: the signals blocked in the interrupted code, which rt_sigreturn restores (not the mask the handler runs with: gVisor\'s bluepill blocks every signal while it enters the guest).')] : []),
      address('ucontext', u.address, 'Where the saved context itself is: the ucontext the kernel wrote for the handler, on the stack the signal was delivered on.'),
    ];
    const uc = item('Interrupted', `${u.mode} · PC ${u.pc}${u.pcSymbol ? ` ${u.pcSymbol}` : ''}`, `**The interrupted context**: the ucontext at ${u.address}, what the kernel saved when the signal was delivered (the code the thread was running then, not the thread now), and what the thread resumes with after rt_sigreturn.`, ctx, true);
    uc.iconPath = new vscode.ThemeIcon('symbol-structure');
    nodes.push(uc);
  }
  if (state.diagnoses.length) {
    const diag = item('Diagnoses', String(state.diagnoses.length), undefined, state.diagnoses.map((d) => {
      const n = item(d.message.split(':')[0], d.severity, d.message);
      n.iconPath = new vscode.ThemeIcon(d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'info');
      return n;
    }), true);
    nodes.push(diag);
  }
  const trips = state.trips.map((t) => {
    const stops = t.stops.map((st) => address(PHASES.find((p) => p.phase === st.phase)!.title, `${st.pc} ${st.symbol}`, `${new Date(st.time).toLocaleTimeString()}${st.ucontextPc ? ` · ucontext PC ${st.ucontextPc}` : ''}`));
    return item(`Trip #${t.number}${t.threadId !== undefined ? ` · thread ${t.threadId}` : ''}`, `${t.guestMs} ms in guest${t.exitPc ? ` · exit ${t.exitPc}` : ''}${t.complete ? '' : ' · in progress'}`, `Started ${new Date(t.started).toLocaleTimeString()}.`, stops);
  });
  const log = item('Trips', `${state.tripCount} seen · ${state.guestExits} guest exits`, 'The last 100 round trips, newest first.', trips, false);
  log.iconPath = new vscode.ThemeIcon('history');
  nodes.push(log);
  return nodes;
}

/**
 * What the sandbox's vCPUs run between exits, from the host's KVM trace events: updated
 * every second while the sandbox runs, not only at stops.
 */
function guestSection(guest: GuestView): Node {
  const s = guest.summary;
  if (!s) {
    const n = item('Guest', guest.error ? 'not watched' : 'starting the trace…', guest.error ?? 'Reading the host kernel\'s KVM trace events for this sandbox.');
    n.iconPath = new vscode.ThemeIcon(guest.error ? 'warning' : 'loading~spin');
    n.id = 'guest';
    return n;
  }
  const rate = s.seconds > 0 ? Math.round(s.events / s.seconds) : s.events;
  const children: Node[] = [];
  if (s.findings.length) {
    const f = item('Findings', String(s.findings.length), undefined, s.findings.map((text) => {
      // The first sentence as the label (symbols hold dots, so a sentence ends at ". " or the end).
      const n = item(/^(.*?\.)(\s|$)/.exec(text)?.[1] ?? text, undefined, text);
      n.iconPath = new vscode.ThemeIcon('lightbulb');
      return n;
    }), true);
    f.id = 'guest-findings';
    children.push(f);
  }
  if (s.loops.length) {
    children.push(item('Loops', String(s.loops.length), undefined, s.loops.slice(0, 5).map((l) =>
      item(`${l.iterations}× ${shortSymbol(l.symbols[0])}`, `every ${l.period} events · ${Math.round(l.perSecond)}/s · thread ${l.tid}`, `One turn: ${l.symbols.map((sym, i) => `${l.events[i]} at \`${sym}\``).join(' → ')}`)), true));
  }
  if (s.hot.length) {
    children.push(item('Hot guest code', s.hot[0] ? shortSymbol(s.hot[0].symbol) : undefined, undefined, s.hot.slice(0, 10).map((h) =>
      item(shortSymbol(h.symbol), `${h.count} · ${h.address}${h.level ? ` · ${h.level}` : ''}`, `\`${h.symbol}\`${h.source ? ` (${h.source})` : ''}${h.instruction ? `\n\n\`${h.instruction}\`` : ''}${h.levelWhy ? `\n\n${h.level}: ${h.levelWhy}` : ''}`)), false));
  }
  for (const t of s.threads) children.push(vcpuNode(t, guest.atStop?.vcpus?.find((v) => v.inKvmRun === t.tid)));
  if (guest.atStop) children.push(vcpuTableNode(guest.atStop));
  const n = item('Guest', `${s.threads.length} vCPU thread${s.threads.length === 1 ? '' : 's'} · ${rate} events/s${s.lost ? ` · ${s.lost} lost` : ''}`, `The guest of sandbox ${s.pid} (${s.binary}), from the host kernel's KVM trace events over ${s.seconds.toFixed(1)} s (KVM: ${s.kvmModules.join(', ') || 'unknown'}).`, children, true);
  n.iconPath = new vscode.ThemeIcon('vm');
  n.id = 'guest';
  return n;
}

/** The Sentry's own vCPU table, read through dlv at the last stop. */
function vcpuTableNode(atStop: GuestStopBody): Node {
  if (!atStop.vcpus) {
    const n = item("Sentry's vCPUs", 'not read', atStop.vcpuError);
    n.iconPath = new vscode.ThemeIcon('warning');
    return n;
  }
  const rows = atStop.vcpus.map((v) => item(`vCPU ${v.id}`, vcpuWords(v), vcpuTooltip(v)));
  const n = item("Sentry's vCPUs", `${atStop.vcpus.length} in use · at the last stop`, "gVisor's kvm.machine vCPUsByID, read through dlv at the last stop (pkg/sentry/platform/kvm/machine.go). A vCPU is joined with a host thread by its file descriptor: the kernel shows it as ioctl's first argument of the thread in KVM_RUN.", rows, false);
  n.id = 'guest-vcpu-table';
  n.iconPath = new vscode.ThemeIcon('table');
  return n;
}

function vcpuWords(v: SentryVcpu): string {
  return `${v.stateNames.join('|')} · fd ${v.fd} · ${v.inKvmRun !== undefined ? `thread ${v.inKvmRun} in KVM_RUN` : 'no thread in KVM_RUN'} · ${v.guestExits} guest exits${v.dieMessage ? ' · died' : ''}`;
}

function vcpuTooltip(v: SentryVcpu): string {
  return [
    `state ${v.state} (${stateNames(v.state).join(', ')}): machine.go's vCPUUser 1, vCPUGuest 2, vCPUWaiter 4`,
    `userExits ${v.userExits}, guestExits ${v.guestExits}, faults ${v.faults}`,
    `tid field ${v.tidField} (gVisor's hosttid.Current() when the vCPU was taken${v.inKvmRun !== undefined && v.inKvmRun !== v.tidField ? `; not the thread in KVM_RUN, ${v.inKvmRun}` : ''})`,
    ...(v.dieMessage ? [`died: ${v.dieMessage}`] : []),
  ].join('\n\n');
}

function vcpuNode(t: VcpuSummary, sentry?: SentryVcpu): Node {
  const topExit = t.exitReasons[0] ?? t.userspaceExits[0];
  const inGuest = t.stillInGuestUs > 0 ? `in guest for ${(t.stillInGuestUs / 1e6).toFixed(1)} s` : `${t.entries} entries`;
  const rows: Node[] = [
    item('Exits', t.exitReasons.map((e) => `${e.reason} ×${e.count}`).join(', ') || 'none'),
    item('KVM_RUN returns', t.userspaceExits.map((e) => `${e.reason} ×${e.count}`).join(', ') || 'none', `${t.userspaceExitCount} returns to runsc; the last one ${(t.withoutUserspaceExitUs / 1e6).toFixed(1)} s ago.`),
    item('Time in guest', `mean ${Math.round(t.meanInGuestUs)} µs · longest ${Math.round(t.longestInGuestUs)} µs`),
  ];
  if (t.exceptions.length) rows.push(item('Injected exceptions', t.exceptions.map((e) => `${e.exception} ×${e.count}`).join(', ')));
  if (t.emulated) rows.push(item('Emulated instructions', `${t.emulated}${t.emulationFailures ? ` (${t.emulationFailures} failed)` : ''}`));
  if (t.firstFault) rows.push(item('First failed page walk', `${t.firstFault.faultAddress} at ${shortSymbol(t.firstFault.symbol ?? '?')}`, `error ${t.firstFault.error}${t.firstFault.pte ? `, entry ${t.firstFault.pte} at level ${t.firstFault.level}` : ''}${t.firstFault.instruction ? `\n\n\`${t.firstFault.instruction}\`` : ''}`));
  for (const h of t.hot.slice(0, 3)) rows.push(item(shortSymbol(h.symbol), `${h.count} · ${h.address}`, `\`${h.symbol}\`${h.source ? ` (${h.source})` : ''}`));
  if (t.last) rows.push(item('Last guest PC', `${shortSymbol(t.last.symbol)} · ${t.last.event}`, `\`${t.last.symbol}\` (${t.last.address}), ${Math.round(t.last.agoUs / 1000)} ms before this summary${t.last.instruction ? `\n\n\`${t.last.instruction}\`` : ''}`));
  if (sentry) rows.unshift(item("Sentry's vCPU", `vCPU ${sentry.id} · ${vcpuWords(sentry)}`, vcpuTooltip(sentry)));
  const n = item(`vCPU thread ${t.tid}${sentry ? ` · vCPU ${sentry.id}` : ''}`, `${Math.round(t.eventsPerSecond)}/s · ${inGuest}${topExit ? ` · ${'reason' in topExit ? topExit.reason : ''}` : ''}`, undefined, rows, false);
  n.iconPath = new vscode.ThemeIcon('server-process');
  return n;
}

/** The function and offset without the long package path ("ring0.(*CPU).SwitchToUser+0x1c"). */
function shortSymbol(symbol: string): string {
  return symbol.replace(/^.*\/(?=[^/]*$)/, '');
}
