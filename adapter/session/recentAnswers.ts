// The requests dlv answered last, by the seq they had on dlv's side, so that a second
// answer to one of them (dlv 1.27.2 answers `restart` twice) can still be matched.
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface Answered {
  request: DebugProtocol.Request;
  success: boolean;
}

export class RecentAnswers {
  private readonly entries = new Map<number, Answered>();
  constructor(private readonly capacity: number) {}

  remember(seq: number, answer: Answered): void {
    this.entries.set(seq, answer);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get(seq: number): Answered | undefined {
    return this.entries.get(seq);
  }
}
