// `bluepill-lens annotate [FILE|-]`: names system registers in `go tool objdump`
// output, as a stream filter in constant memory.
import { pipeline } from 'node:stream/promises';
import { ObjdumpAnnotator } from '../annotate/objdumpStream';
import type { CliCommand } from './command';
import { openStream } from './inputs';

export const annotateCommand: CliCommand = {
  name: 'annotate',
  summary: 'Name the system registers of a go tool objdump listing, as a stream filter.',
  synopsis: '[FILE | -]',
  help: `Copy a \`go tool objdump\` listing (FILE, or standard input when FILE is - or absent)
to standard output with every MRS/MSR system register named, in constant memory
(lines of any length included).`,
  options: {},
  maxPositionals: 1,
  async run({ positionals }, io) {
    await pipeline(openStream(positionals[0] ?? '-', 'listing', io.stdin), new ObjdumpAnnotator(), io.out);
    return 0;
  },
};
