// A debug type that starts `dlv dap --listen=127.0.0.1:0`, waits for its listening
// line and hands VS Code a DebugAdapterServer to it: what vscode-go does for its
// "go" type in dlv-dap mode, without any bluepill-lens code in between.
const { spawn } = require('node:child_process');
const vscode = require('vscode');

exports.activate = (context) => {
  const children = new Map();
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('dlv-direct', {
      createDebugAdapterDescriptor(session) {
        const dlv = spawn(session.configuration.dlvPath || 'dlv', ['dap', '--listen=127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
        children.set(session.id, dlv);
        return new Promise((resolve, reject) => {
          let out = '';
          dlv.on('error', reject);
          dlv.on('exit', (code) => reject(new Error(`dlv exited (${code}) before listening: ${out}`)));
          dlv.stdout.on('data', (b) => {
            out += b;
            const m = /DAP server listening at: ([\d.]+):(\d+)/.exec(out);
            if (m) resolve(new vscode.DebugAdapterServer(Number(m[2]), m[1]));
          });
          dlv.stderr.on('data', (b) => (out += b));
        });
      },
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      children.get(s.id)?.kill();
      children.delete(s.id);
    }),
    { dispose: () => children.forEach((c) => c.kill()) },
  );
};
