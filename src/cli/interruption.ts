// Ctrl-C for a long-running command that consumes events (training): the first SIGINT asks the
// command to stop after the event in progress, so the work in flight (a step, a checkpoint write)
// ends cleanly and the command can say how to continue; a second SIGINT quits at once with 130.
// SIGTERM is left to the default (a supervisor's stop does not wait).

export class Interruption {
  /** Whether Ctrl-C was pressed while the events were watched. */
  requested = false;

  constructor(private readonly onFirst: () => void) {}

  private readonly handler = () => {
    if (this.requested) process.exit(130);
    this.requested = true;
    this.onFirst();
  };

  /** Passes the events on until Ctrl-C; then ends them (their generator's `finally` runs). */
  async *watch<T>(events: AsyncGenerator<T>): AsyncGenerator<T> {
    process.on("SIGINT", this.handler);
    try {
      for await (const event of events) {
        yield event;
        if (this.requested) return;
      }
    } finally {
      process.off("SIGINT", this.handler);
    }
  }
}
