// A node:test reporter that runs beside `spec`: when a whole test file fails without a
// failing test (it exited non-zero, or an error came after its tests had ended), spec says
// only "test failed". This prints, at the very end of the log, what that file wrote to
// stderr last and the runner's diagnostics about it, so a CI log's tail says why.
const COUNTERS = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;
const KEEP = 40;

export default async function* failureSummary(source) {
  const stderr = new Map(); // file → its last lines
  const notes = new Map(); // file → diagnostics that arrived while it ran
  const failedFiles = [];
  let current;
  for await (const event of source) {
    const { data } = event;
    if (data?.file) current = data.file;
    if (event.type === 'test:stderr' && data.file) {
      const lines = stderr.get(data.file) ?? [];
      lines.push(...String(data.message).split('\n').filter(Boolean));
      stderr.set(data.file, lines.slice(-KEEP));
    } else if (event.type === 'test:diagnostic' && current && !COUNTERS.test(data.message)) {
      notes.set(current, [...(notes.get(current) ?? []), data.message]);
    } else if (event.type === 'test:fail' && data.file && data.name === data.file) {
      failedFiles.push(data.file);
    }
  }
  for (const file of failedFiles) {
    yield `\n✖ ${file} failed as a whole (no single test failed). What it left:\n`;
    for (const note of notes.get(file) ?? []) yield `  runner: ${note}\n`;
    for (const line of stderr.get(file) ?? []) yield `  stderr: ${line}\n`;
  }
}
