// "The instruction at this PC", for the tracker, bluepill/explain and the breakpoint
// check. Code does not change while a session runs, so each address is asked once:
// a miss asks dlv for a block of instructions from the PC on (the next steps land
// in it), and where dlv has no symbol (the vDSO, a trampoline page) the bytes are
// read from memory instead.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readBytesPrefix, type Requester } from '../../bluepill/memory';

export interface Instruction {
  /** Go syntax, as dlv prints it; absent for bytes read from memory. */
  text?: string;
  /** Memory order, hex. */
  bytes?: string;
  /** The source file and line dlv gives for it. */
  file?: string;
  line?: number;
}

/** Instructions asked for at a miss: one request covers the straight-line code that follows. */
const BLOCK = 32;
/** Bytes read where dlv cannot disassemble: one ARM64 word; the amd64 trampoline's 9 bytes. */
const RAW_BYTES = { arm64: 4, amd64: 9 } as const;

export class InstructionCache {
  private readonly known = new Map<bigint, Instruction>();

  constructor(
    private readonly ctx: Requester,
    private readonly archOf: (frameId: number | undefined) => Promise<'arm64' | 'amd64' | undefined>,
  ) {}

  /** The instruction at `pc`; `frameId` (a frame with a symbol) lets it read memory where dlv cannot disassemble. */
  async at(pc: bigint, frameId?: number): Promise<Instruction | undefined> {
    const hit = this.known.get(pc);
    if (hit) return hit;
    const disassembled = await this.disassemble(pc);
    if (disassembled) return disassembled;
    if (frameId === undefined) return undefined;
    const arch = await this.archOf(frameId);
    const code = arch ? await readBytesPrefix(this.ctx, pc, RAW_BYTES[arch], frameId) : undefined;
    if (!code) return undefined;
    const raw = { bytes: code.toString('hex') };
    this.known.set(pc, raw);
    return raw;
  }

  /** The instruction at `pc` if it is already known: no request. */
  peek(pc: bigint): Instruction | undefined {
    return this.known.get(pc);
  }

  /** `count` bytes of code from `address`, instruction after instruction. */
  async bytesAt(address: bigint, count: number, frameId?: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    for (let got = 0; got < count; ) {
      const ins = await this.at(address + BigInt(got), frameId);
      if (!ins?.bytes) return undefined;
      parts.push(Buffer.from(ins.bytes, 'hex'));
      got += ins.bytes.length / 2;
    }
    return Buffer.concat(parts).subarray(0, count);
  }

  private async disassemble(pc: bigint): Promise<Instruction | undefined> {
    const r = (await this.ctx.requestDlv('disassemble', { memoryReference: `0x${pc.toString(16)}`, instructionCount: BLOCK })) as DebugProtocol.DisassembleResponse;
    if (!r.success) return undefined;
    // dlv names the source only on the first instruction of each line: carry it forward.
    let file: string | undefined;
    let line: number | undefined;
    for (const ins of r.body?.instructions ?? []) {
      if (ins.location?.path) [file, line] = [ins.location.path, ins.line];
      if (ins.instruction === 'invalid instruction' || !/^0x[0-9a-f]+$/i.test(ins.address)) continue;
      const address = BigInt(ins.address);
      if (!this.known.has(address)) this.known.set(address, { text: ins.instruction, bytes: ins.instructionBytes, file, line });
    }
    return this.known.get(pc);
  }
}
