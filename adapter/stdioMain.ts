// Entry of dist/adapter.js: the debug adapter on stdio, for clients that spawn an
// executable with no arguments (and for DebugClient in the tests). Configured by the
// environment: BLUEPILL_DLV_PATH (else PATH), BLUEPILL_CONNECT=HOST:PORT for a
// dlv that is already listening, BLUEPILL_VERBOSE=1 for diagnostics on stderr.
// `bluepill-lens adapter` takes the same settings as flags.
import { runStdioAdapter } from './stdio';

const connect = /^(.*):(\d+)$/.exec(process.env.BLUEPILL_CONNECT ?? '');
runStdioAdapter({
  connect: connect ? { host: connect[1] || '127.0.0.1', port: Number(connect[2]) } : undefined,
  verbose: process.env.BLUEPILL_VERBOSE === '1',
});
