// `bluepill-lens processes [--json]`: the VS Code picker's list in a terminal.
import { listProcesses } from '../processes/procfs';
import { describeProcess, orderForPicker } from '../processes/sandboxes';
import { CliError, type CliCommand } from './command';
import { jsonText, printable } from './terminalText';

export const processesCommand: CliCommand = {
  name: 'processes',
  summary: 'List processes as the VS Code picker does: runsc sandboxes first.',
  synopsis: '[--json]',
  help: `List processes as the VS Code picker does: runsc sandboxes first (marked *), then the
rest by pid. A sandbox is a runsc boot process owned by root, nobody or you, running
a file named runsc* when its executable can be read. Arguments are shown with control
characters escaped (\\n, \\x1b).
  --json   one JSON array of {"pid", "name", "argv", "uid", "exe"?, "sandbox"?}`,
  options: { json: { type: 'boolean' } },
  maxPositionals: 0,
  run({ values }, { out }) {
    let processes;
    try {
      processes = listProcesses();
    } catch (e) {
      throw new CliError(`cannot read the process table in /proc (${printable((e as Error).message)}): processes works on Linux only; elsewhere find the pid with ps.`);
    }
    const ordered = orderForPicker(processes);
    if (values.json) {
      out.write(jsonText(ordered));
      return 0;
    }
    const lines = ordered.some((p) => p.sandbox) ? [] : ['# no runsc sandbox is running on this machine'];
    for (const p of ordered) lines.push(`${p.sandbox ? '*' : ' '} ${printable(describeProcess(p))}  ${p.argv.map(printable).join(' ')}`);
    out.write(lines.join('\n') + '\n');
    return 0;
  },
};
