// `bluepill-lens adapter`: the debug adapter (the dlv proxy) on stdin/stdout.
import { runStdioAdapter } from '../stdio';
import { UsageError, type CliCommand } from './command';
import { printable } from './terminalText';

export const adapterCommand: CliCommand = {
  name: 'adapter',
  summary: 'Run the debug adapter (the dlv proxy) on stdin/stdout for other DAP clients.',
  synopsis: '[--dlv-path PATH] [--connect HOST:PORT] [--verbose]',
  help: `Run the debug adapter (the dlv proxy) on stdin/stdout, for DAP clients such as
nvim-dap or Emacs dap-mode. It runs until the client closes the connection.
  --dlv-path PATH       the dlv to start (default: dlv on PATH)
  --connect HOST:PORT   use a dlv that is already listening there
  --verbose             log to standard error`,
  options: { 'dlv-path': { type: 'string' }, connect: { type: 'string' }, verbose: { type: 'boolean' } },
  maxPositionals: 0,
  ownsStdout: true,
  run({ values }) {
    let connect: { host: string; port: number } | undefined;
    if (values.connect !== undefined) {
      const m = /^(.*):(\d+)$/.exec(values.connect as string);
      if (!m) throw new UsageError(`--connect wants HOST:PORT, e.g. 127.0.0.1:2345; got "${printable(values.connect as string)}".`);
      connect = { host: m[1] || '127.0.0.1', port: Number(m[2]) };
    }
    runStdioAdapter({ dlvPath: values['dlv-path'] as string | undefined, connect, verbose: values.verbose === true });
    return undefined; // keeps running until the client goes away
  },
};
