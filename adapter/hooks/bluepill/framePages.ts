// Paging a stack that has a block of the proxy's own frames inserted into dlv's: the spliced
// signal stack (signalStack.ts, inserted where the handler's frames end) and the guest frames
// (guestFrames.ts, inserted on top) both map a client's page [start, end) onto the frames below
// the block, in their own numbering, and put the page together again from the answer.

/** The part of the page [start, end) that is not the block of k frames at `at`, in the numbering without the block (empty when all of it is the block). */
export function rangeWithout(start: number, end: number, at: number, k: number): { start: number; end: number } {
  const without = (v: number) => (v < at ? v : Math.max(at, v - k));
  return { start: without(start), end: Math.max(without(start), end <= at ? end : Math.max(at, end - k)) };
}

/** The page [start, end): the block at [at, at + k), the other frames (`others`, from `othersStart` in their own numbering) around it. */
export function pageWith<F>(start: number, end: number, at: number, block: F[], others: F[], othersStart: number): F[] {
  const out: F[] = [];
  for (let v = start; v < end; v++) {
    const frame = v < at ? others[v - othersStart] : v < at + block.length ? block[v - at] : others[v - block.length - othersStart];
    if (!frame) break; // past the last frame
    out.push(frame);
  }
  return out;
}
