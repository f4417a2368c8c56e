// Advice names what the user can do in the client they use: VS Code's commands for
// VS Code, the CLI for nvim-dap, dap-mode and other DAP clients.
export type ClientKind = 'vscode' | 'other';

/** From `initialize`'s clientID (VS Code and code-server send "vscode"). */
export function clientKindOf(initializeArgs: unknown): ClientKind {
  return (initializeArgs as { clientID?: unknown } | undefined)?.clientID === 'vscode' ? 'vscode' : 'other';
}

/** How to find the pid to attach to. */
export function pickProcessAdvice(client: ClientKind): string {
  return client === 'vscode'
    ? 'Pick it with "Bluepill: Pick Sandbox Process" (or set "processId" to "${command:bluepill.pickSandboxProcess}").'
    : 'Find it with `bluepill-lens processes` (runsc sandboxes first), and set "processId" to it.';
}
