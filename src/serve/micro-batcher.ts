// Micro-batching: texts from concurrent requests are gathered into one pipeline run. A batch
// leaves when it holds maxBatch texts or when its first text has waited maxWaitMs; one run at a
// time (an ONNX Runtime session uses every core already). Texts whose options differ (another
// aggregation) never share a run. The queue is bounded: a request that would make more than
// maxQueue texts wait is refused at once (QueueFullError) rather than let latency grow without end.
// What it leaves out: priorities, cancellation of a request whose client went away.

export type BatchRun<O, R> = (texts: string[], options: O) => Promise<R[]>;

export interface MicroBatcherOptions<O> {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Texts whose options give the same key may share a run. */
  key: (options: O) => string;
  /** Called after each run (for metrics). */
  onBatch?: (size: number, seconds: number) => void;
}

export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("the server is busy: too many texts are waiting; retry later");
    this.name = "QueueFullError";
  }
}

interface Item<O, R> {
  text: string;
  options: O;
  key: string;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcher<O, R> {
  private readonly queue: Item<O, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  /** Moving average of a run's duration, for Retry-After. */
  private runSeconds = 0.05;

  constructor(
    private readonly run: BatchRun<O, R>,
    private readonly options: MicroBatcherOptions<O>,
  ) {}

  /** Texts waiting for a run (not counting the run in progress). */
  get waiting(): number {
    return this.queue.length;
  }

  /** One result per text, in order; the texts may be spread over several runs. */
  submit(texts: readonly string[], options: O): Promise<R[]> {
    if (this.queue.length + texts.length > this.options.maxQueue) {
      const runsAhead = Math.ceil((this.queue.length + texts.length) / this.options.maxBatch) + 1;
      throw new QueueFullError(Math.max(1, Math.ceil(runsAhead * this.runSeconds)));
    }
    const key = this.options.key(options);
    const results = texts.map(
      (text) => new Promise<R>((resolve, reject) => this.queue.push({ text, options, key, resolve, reject })),
    );
    this.schedule();
    return Promise.all(results);
  }

  /** Resolves once nothing waits and no run is in progress. */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.maxWaitMs);
    }
  }

  /** Takes up to maxBatch texts sharing the first one's key, keeping the others' order. */
  private take(): Item<O, R>[] {
    const key = this.queue[0].key;
    const batch: Item<O, R>[] = [];
    for (let i = 0; i < this.queue.length && batch.length < this.options.maxBatch; ) {
      if (this.queue[i].key === key) batch.push(...this.queue.splice(i, 1));
      else i++;
    }
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.take();
    const started = performance.now();
    try {
      const results = await this.run(batch.map((item) => item.text), batch[0].options);
      if (results.length !== batch.length) throw new Error(`the pipeline returned ${results.length} results for ${batch.length} texts`);
      batch.forEach((item, i) => item.resolve(results[i]));
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.runSeconds = 0.8 * this.runSeconds + 0.2 * seconds;
      this.options.onBatch?.(batch.length, seconds);
      this.running = false;
    }
    if (this.queue.length > 0) {
      // Texts that arrived during the run have waited already: they go now, as one batch.
      setImmediate(() => void this.flush());
    } else {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }
}
