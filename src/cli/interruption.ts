// Ctrl-C for a long-running command that consumes events (training): the first SIGINT aborts
// `signal`, which asks the producer to stop at its next safe point (the trainer saves a checkpoint
// and ends), so the command can say how to continue; a second SIGINT quits at once with 130.
// SIGTERM is left to the default (a supervisor's stop does not wait).

export class Interruption {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  constructor(private readonly onFirst: () => void) {}

  private readonly handler = () => {
    if (this.signal.aborted) process.exit(130);
    this.controller.abort();
    this.onFirst();
  };

  /** Passes the events on, with Ctrl-C handled as above while they last. */
  async *watch<T>(events: AsyncGenerator<T>): AsyncGenerator<T> {
    process.on("SIGINT", this.handler);
    try {
      yield* events;
    } finally {
      process.off("SIGINT", this.handler);
    }
  }
}
