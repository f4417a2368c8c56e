// What the bluepill hooks of one debug session share: their context (the proxy),
// which variant of the model applies (from the binary when it is here, else from
// dlv), the frames seen at the current stop, a frame id to read memory with, the
// instructions read so far (code does not change: each address is asked once), and
// the signal context the tracker read at this stop.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ProxyContext } from '../../session/hooks';
import { localBinary } from '../../config/launchArgs';
import { detectSymbols, detectVariant, functionExpression, variantOfArch } from '../../bluepill/detect';
import { VARIANTS, variantById, type Landmark, type LandmarkRole, type Phase, type Variant, type VariantId } from '../../bluepill/model';
import { landmarkIndex, type LandmarkIndex } from '../../bluepill/symbols';
import { cachedElfFunctions, nameWithOffset, type ElfSymbol } from '../../elf/symbols';
import { GoLineTable } from '../../elf/goLineTable';
import { isUnsymbolized } from '../../bluepill/classify';
import { evaluateText } from '../../bluepill/memory';
import type { DecodedUcontext } from '../../bluepill/ucontext';
import { InstructionCache } from './instructions';

/** Frame ids the proxy gives frames it unwound itself: far above dlv's (which count up from 1000 at each stop). */
export const SIGNAL_FRAME_ID_BASE = 2_000_000_000;

export function isSignalFrameId(id: number | undefined): boolean {
  return id !== undefined && id >= SIGNAL_FRAME_ID_BASE;
}

/** Frame ids of the guest frames above a vCPU thread in KVM_RUN (guestFrames.ts): below the signal frames', far above dlv's. */
export const GUEST_FRAME_ID_BASE = 1_900_000_000;

export function isGuestFrameId(id: number | undefined): boolean {
  return id !== undefined && id >= GUEST_FRAME_ID_BASE && id < SIGNAL_FRAME_ID_BASE;
}

/** A frame the proxy made itself: dlv does not know its id. */
export function isProxyFrameId(id: number | undefined): boolean {
  return isSignalFrameId(id) || isGuestFrameId(id);
}

/** What the tracker read at a stop in the handler's phases: the ucontext, and the phase it was read in. */
export interface SignalContext {
  threadId: number;
  phase: Phase;
  variant: Variant;
  ucontext: DecodedUcontext;
}

/** A landmark a user adds for a gVisor version with other names (setting bluepill.extraLandmarks). */
export interface ExtraLandmark {
  variant?: VariantId;
  symbol: string;
  role: LandmarkRole;
  phase?: Phase;
  runsInGuest?: boolean;
  words?: string;
}

export interface BluepillSettings {
  variant?: VariantId | 'auto';
  extraLandmarks?: ExtraLandmark[];
}

export class BluepillSession {
  /** Frames of the current stop, by thread; cleared on every resume. */
  readonly frames = new Map<number, DebugProtocol.StackFrame[]>();
  /** Every frame the client has been shown since the last resume, by id. */
  readonly frameById = new Map<number, DebugProtocol.StackFrame>();
  /** The instruction at an address: shared by the tracker, explain and breakpoint checks. */
  readonly instructions: InstructionCache;
  /** The signal context of the current stop, by thread (set by the tracker; cleared on every resume). */
  readonly signalContexts = new Map<number, SignalContext>();
  /** Resolves when the tracker has analysed the stops so far, or has given up waiting (the tracker sets it). */
  analysed: () => Promise<void> = () => Promise.resolve();
  /** The threads whose stops the tracker analysed since the last resume (their contexts are all there is). */
  readonly analysedThreads = new Set<number>();
  /** Reads the signal context of a thread that did not stop itself (the tracker sets it). */
  otherThreadContext: (threadId: number) => Promise<SignalContext | undefined> = async () => undefined;
  private otherThreads = new Map<number, Promise<SignalContext | undefined>>();
  private detected: Promise<Variant | undefined> | undefined;

  constructor(readonly ctx: ProxyContext, readonly settings: BluepillSettings = {}) {
    this.instructions = new InstructionCache(ctx, async (frameId) => (await this.variant(frameId))?.arch);
  }

  resumed(): void {
    this.frames.clear();
    this.frameById.clear();
    this.signalContexts.clear();
    this.analysedThreads.clear();
    this.otherThreads.clear();
  }

  /** The signal context of this thread at the current stop, once the tracker has analysed the stop. */
  async signalContext(threadId: number): Promise<SignalContext | undefined> {
    await this.analysed();
    const known = this.signalContexts.get(threadId);
    if (known || this.analysedThreads.has(threadId)) return known;
    // Another thread, in the Call Stack at this stop (a vCPU thread in the handler while another stopped): read once.
    let other = this.otherThreads.get(threadId);
    if (!other) this.otherThreads.set(threadId, (other = this.otherThreadContext(threadId).catch(() => undefined)));
    return other;
  }

  rememberFrames(frames: DebugProtocol.StackFrame[]): void {
    for (const f of frames) this.frameById.set(f.id, f);
  }

  /** A frame with a symbol, from any thread of this stop: evaluate needs one to read memory. */
  symbolizedFrameId(preferThread?: number): number | undefined {
    const ordered = preferThread !== undefined && this.frames.has(preferThread) ? [this.frames.get(preferThread)!, ...this.frames.values()] : [...this.frames.values(), [...this.frameById.values()]];
    // Not a frame the proxy unwound itself: dlv does not know its id.
    for (const frames of ordered) for (const f of frames) if (!isUnsymbolized(f.name) && f.instructionPointerReference && !isProxyFrameId(f.id)) return f.id;
    return undefined;
  }

  /**
   * The variant of the model for this session, decided once. Undecided (a remote board
   * asked before it has a frame to evaluate in) is not kept: the next call tries again.
   */
  async variant(frameId?: number): Promise<Variant | undefined> {
    this.detected ??= this.detect(frameId);
    const variant = await this.detected;
    if (!variant) this.detected = undefined;
    return variant;
  }

  private async detect(frameId?: number): Promise<Variant | undefined> {
    const forced = (this.ctx.sessionArgs?.bluepillVariant as BluepillSettings['variant'] | undefined) ?? this.settings.variant;
    if (forced && forced !== 'auto') return this.withExtras(variantById(forced));
    const binary = localBinary(this.ctx.sessionArgs);
    if (binary) {
      try {
        const { info, functions } = cachedElfFunctions(binary);
        const variant = detectVariant(info.machine, functions.map((f) => f.name));
        if (variant) return this.withExtras(variant);
      } catch {
        // unreadable here: ask dlv below
      }
    }
    if (frameId === undefined) return undefined;
    // A remote board: amd64 has RIP, arm64 has X0; then the functions that tell the arch's variants apart.
    // Neither (the thread moved on, dlv busy or slow): undecided, asked again at the next stop.
    const arch = (await evaluateText(this.ctx, 'RIP', frameId)) !== undefined ? 'amd64' : (await evaluateText(this.ctx, 'X0', frameId)) !== undefined ? 'arm64' : undefined;
    if (!arch) return undefined;
    const found = new Set<string>();
    for (const symbol of detectSymbols(arch)) {
      if ((await evaluateText(this.ctx, functionExpression(symbol), frameId)) !== undefined) found.add(symbol);
    }
    return this.withExtras(variantOfArch(arch, found));
  }

  private symbols: ElfSymbol[] | undefined | null;

  /** The local binary's function symbols; undefined for a remote board (or an unreadable binary). */
  localSymbols(): ElfSymbol[] | undefined {
    // Not known before launch/attach: asked then (a custom request may come first), nothing is kept.
    if (!this.ctx.sessionArgs) return undefined;
    if (this.symbols === undefined) {
      const binary = localBinary(this.ctx.sessionArgs);
      try {
        this.symbols = binary ? cachedElfFunctions(binary).functions : null;
      } catch {
        this.symbols = null;
      }
    }
    return this.symbols ?? undefined;
  }

  private lineTable: GoLineTable | undefined | null;

  /**
   * The name dlv gives the top frame at `pc`, from the local binary's own line table, where it is
   * sure: outside inlined code (there dlv names the inlined function, the table the one it is in).
   * Undefined for a remote board, a binary without a table, or inlined code. Read once (runsc's is
   * 16 MB), at the first PC asked about.
   */
  goFunctionName(pc: bigint): string | undefined {
    if (!this.ctx.sessionArgs) return undefined;
    if (this.lineTable === undefined) {
      const binary = localBinary(this.ctx.sessionArgs);
      this.lineTable = (binary && GoLineTable.read(binary)) || null;
    }
    const at = this.lineTable?.at(pc);
    return at && !at.inlined ? at.name : undefined;
  }

  /** The function at an address, from the local binary's symbol table (undefined for a remote board). */
  symbolFor(address: bigint): string | undefined {
    const symbols = this.localSymbols();
    return symbols ? nameWithOffset(symbols, address, (name) => name.replace(/\.abi0$/, '')) : undefined;
  }

  private withExtras(variant: Variant): Variant {
    const extras = (this.settings.extraLandmarks ?? []).filter((e) => !e.variant || e.variant === variant.id);
    if (extras.length === 0) return variant;
    const added: Landmark[] = extras.map((e) => {
      const base = variant.landmarks.find((l) => l.role === e.role);
      return {
        role: e.role,
        symbols: [e.symbol],
        phase: e.phase ?? base?.phase ?? 'host',
        runsInGuest: e.runsInGuest ?? base?.runsInGuest,
        words: e.words ?? base?.words ?? `${e.symbol} (added by the setting bluepill.extraLandmarks)`,
      };
    });
    // Added names come first, so they win over the built-in ones.
    return { ...variant, landmarks: [...added, ...variant.landmarks] };
  }

  index(variant: Variant): LandmarkIndex {
    return landmarkIndex(variant);
  }
}

export { VARIANTS };
