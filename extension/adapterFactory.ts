// Runs the proxy inline in the extension host: one DlvProxy per debug session, told
// up front which dlv to use (so `initialize` already reaches the real dlv). Its
// lifecycle goes to the log channel, its messages to a trace file when asked.
import * as vscode from 'vscode';
import { DlvProxy } from '../adapter/session/proxy';
import { targetFromArguments } from '../adapter/dlv/target';
import { defaultHooks } from '../adapter/hooks';
import { bluepillSettings, configuredDlvPath } from './settings';
import type { TraceFiles } from './traceFiles';

export class BluepillAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly log: vscode.LogOutputChannel, private readonly traces: TraceFiles) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const defaults = { dlvPath: configuredDlvPath(session.workspaceFolder) };
    const trace = this.traces.start(session);
    const target = targetFromArguments(session.configuration, defaults);
    const proxy = new DlvProxy({
      initialTarget: target,
      defaults,
      hooks: defaultHooks(bluepillSettings(session.workspaceFolder)),
      // Lines name dlv, its pid and the target; never the configuration's env.
      log: (line, level) => (level === 'info' ? this.log.info : this.log.debug).call(this.log, `[${session.name}] ${line}`),
      observe: trace?.observe,
    });
    if (trace) {
      const ended = vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.id !== session.id) return;
        ended.dispose();
        // After the proxy's own shutdown, so the trace holds the last messages too.
        void proxy.shutdown().finally(() => trace.close());
      });
    }
    this.log.info(`session "${session.name}": ${session.configuration.request} mode ${session.configuration.mode ?? '(default)'}, ${target.kind === 'remote' ? `dlv at ${target.host}:${target.port}` : `dlv ${target.dlvPath ?? 'on PATH'}`}`);
    return new vscode.DebugAdapterInlineImplementation(proxy.client);
  }
}
