// Errors that repeat, written at a bounded rate: a Redis that is down fails every reconnect, several
// times a second, and a log line for each would bury everything else. The first error is written at
// once; those that follow within intervalMs are counted, and the next line written says how many
// were left out; flush() writes the count still unsaid (when the worker stops).
// What it leaves out: where lines go (the caller's write) and telling one kind of error from another.

export class RateLimitedLog {
  private writtenAt: number | undefined;
  private leftOut = 0;
  private lastLeftOut = "";

  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  report(message: string): void {
    const t = this.now();
    if (this.writtenAt !== undefined && t - this.writtenAt < this.intervalMs) {
      this.leftOut++;
      this.lastLeftOut = message;
      return;
    }
    this.write(this.leftOut > 0 ? `${message} (${this.leftOut} more error(s) left out since the last line)` : message);
    this.writtenAt = t;
    this.leftOut = 0;
  }

  /** Writes how many errors were left out since the last line, if any. */
  flush(): void {
    if (this.leftOut === 0) return;
    this.write(`${this.leftOut} more error(s) left out since the last line, the last: ${this.lastLeftOut}`);
    this.leftOut = 0;
  }
}
