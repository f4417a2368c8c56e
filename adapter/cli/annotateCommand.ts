// `bluepill-lens annotate [FILE|-]`: names system registers in `go tool objdump`
// output, as a stream filter in constant memory.
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ObjdumpAnnotator } from '../annotate/objdumpStream';

export async function annotateCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (args.length > 1 || (args[0]?.startsWith('--') && args[0] !== '-')) {
    err.write('bluepill-lens annotate: give one listing file, or - (or nothing) for standard input.\n');
    return 2;
  }
  const file = args[0] ?? '-';
  let input: NodeJS.ReadableStream;
  if (file === '-') input = process.stdin;
  else {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      err.write(`bluepill-lens annotate: cannot read "${file}": ${(e as Error).message}\n`);
      return 1;
    }
    input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  }
  try {
    await pipeline(input, new ObjdumpAnnotator(), out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0; // `| head` closed the pipe
    throw e;
  }
  return 0;
}
