// Entry of dist/adapter.js: the debug adapter on stdio with no arguments, for clients
// that spawn an executable directly (and for DebugClient in the tests). The dlv to use
// comes from BLUEPILL_DLV_PATH or PATH; `bluepill-lens adapter` takes flags instead.
import { runStdioAdapter } from './stdio';

runStdioAdapter({ verbose: process.env.BLUEPILL_VERBOSE === '1' });
