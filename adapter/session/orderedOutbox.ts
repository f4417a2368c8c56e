// Keeps messages to the client in the order dlv sent them, even when a hook needs
// time (its own requests to dlv) to rewrite one of them. A message that needs no
// work goes out at once when nothing is waiting ahead of it: the fast path costs
// one comparison per message.

type Pending<T> = T | undefined | Promise<T | undefined>;

export class OrderedOutbox<T> {
  private queue: Array<Pending<T>> = [];
  private draining = false;

  constructor(
    private readonly deliver: (item: T) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Enqueue a message, or a promise of one (undefined means "drop it"). */
  push(item: Pending<T>): void {
    if (!this.draining && this.queue.length === 0 && !(item instanceof Promise)) {
      if (item !== undefined) this.deliver(item);
      return;
    }
    this.queue.push(item);
    if (!this.draining) void this.drain();
  }

  /** Resolves when everything queued so far has been delivered. */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length > 0) {
      await new Promise((r) => setImmediate(r));
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue.shift();
        let item: T | undefined;
        try {
          item = head instanceof Promise ? await head : head;
        } catch (error) {
          this.onError(error);
          continue;
        }
        if (item !== undefined) this.deliver(item);
      }
    } finally {
      this.draining = false;
    }
  }
}
