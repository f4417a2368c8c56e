// A session must not attach to what runs it: its own dlv (or dlv's telemetry child),
// the adapter, or the editor above it. dlv would stop the very process that has to
// answer, and the session would hang until the client gave up.
import type { DlvConnection } from '../dlv/connection';
import { descendsFrom } from '../dlv/debuggees';

export function selfAttachProblem(pid: number, conn: Pick<DlvConnection, 'owns'> | undefined): string | undefined {
  const what =
    pid === process.pid ? 'the bluepill-lens adapter running this session'
    : conn?.owns(pid) ? "this session's own dlv (or a helper process dlv started, such as its telemetry)"
    : descendsFrom(process.pid, pid) ? 'a parent of the bluepill-lens adapter (the editor or terminal running this session)'
    : undefined;
  return what && `Process ${pid} is ${what}: a debug session cannot attach to itself, it would stop the debugger. Pick the process you mean to debug.`;
}
