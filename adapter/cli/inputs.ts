// What a command reads: a FILE that must be a regular file (never a FIFO or a device, which
// would block or never end), or `-`, the explicit way to read a stream from standard input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './command';
import { printable } from './terminalText';

/** Standard input held in memory for a reader that needs random access (an ELF binary). */
export const MAX_STDIN_BYTES = 512 << 20; // runsc with symbols is ~100 MB

/** Opens `file` for reading; a CliError that says what it is and what to give instead otherwise. */
export function openRegularFile(file: string, what: string): number {
  const shown = `"${printable(file)}"`;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new CliError(openFailure(e as NodeJS.ErrnoException, file, shown, what));
  }
  const stat = fs.fstatSync(fd);
  if (stat.isFile()) return fd;
  fs.closeSync(fd);
  if (stat.isDirectory()) throw new CliError(`${shown} is a directory: give the ${what} file itself.`);
  const kind = stat.isFIFO() ? 'a named pipe (FIFO)' : stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device' : 'not a regular file';
  // <(command) hands the program /dev/fd/N, a pipe that is gone once read: the advice is the pipe itself.
  const stream = /^\/(dev|proc\/self)\/fd\/\d+$/.test(file) ? 'command | bluepill-lens … -' : `… < ${printable(file)}`;
  throw new CliError(`${shown} is ${kind}: the ${what} must be a regular file. To read a stream, give - and send it to standard input (${stream}).`);
}

function openFailure(e: NodeJS.ErrnoException, file: string, shown: string, what: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `${shown} does not exist${path.isAbsolute(file) ? '' : ` (looked in ${printable(process.cwd())})`}: give the path of the ${what}.`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to read ${shown}: run as a user who may read it, or give a readable copy.`;
    case 'ENXIO':
      return `${shown} is a socket: the ${what} must be a regular file. To read a stream, give - and send it to standard input.`;
    case 'ENOTDIR':
      return `${shown} does not exist: a part of its path is not a directory.`;
    default:
      return `cannot open ${shown}: ${printable(e.message)}`;
  }
}

/** Standard input, refused when it is a terminal: nothing would come until the user typed a listing. */
export function standardInput(stdin: NodeJS.ReadableStream, what: string): NodeJS.ReadableStream {
  if ((stdin as NodeJS.ReadStream).isTTY) throw new CliError(`standard input is a terminal: send the ${what} to it (… | bluepill-lens …, or < FILE), or give a FILE.`);
  return stdin;
}

/** A listing to stream: FILE (a regular file), or standard input for `-`. */
export function openStream(file: string, what: string, stdin: NodeJS.ReadableStream): NodeJS.ReadableStream {
  return file === '-' ? standardInput(stdin, what) : fs.createReadStream('', { fd: openRegularFile(file, what), highWaterMark: 1 << 20 });
}

/** All of standard input, for the ELF reader, up to MAX_STDIN_BYTES. */
export async function readAllInput(stdin: NodeJS.ReadableStream, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of standardInput(stdin, what)) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_STDIN_BYTES) throw new CliError(`standard input holds more than ${MAX_STDIN_BYTES >> 20} MiB: give the ${what} as a file.`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
