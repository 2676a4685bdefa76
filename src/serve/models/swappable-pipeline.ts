// The serving model as one PipelineLike whose model can be replaced while requests run (issue 12:
// promotion without downtime). A run takes the model serving when it starts and keeps it to its end;
// swap() points new runs at another, already loaded, model in one assignment (no await between
// reading and replacing it, so no run can see half a swap), and closes the old one once the runs
// that hold it have finished. Every list of entities a run returns is remembered (weakly) as made
// by the run's version, so that the answer to a request, or a stored job result, names the version
// that read that very text even when a swap happened between two texts of one batch.
// What it leaves out: loading a model and the registry's records (registry-service.ts).

import type { AggregationStrategy } from "../../infer/aggregation.js";
import type { Entity, TokenItem, WindowMode } from "../../infer/pipeline.js";
import type { PipelineLike } from "../reading.js";

/** Which version made a result list (one text's entities or tokens), for as long as the list lives. */
const madeBy = new WeakMap<object, string>();

/** The model version that produced `items` (one text's result from a SwappablePipeline); undefined for any other pipeline's. */
export function modelVersionOf(items: object): string | undefined {
  return madeBy.get(items);
}

interface Slot {
  version: string;
  pipeline: PipelineLike;
  /** Runs now using it. */
  running: number;
  /** Set once it was swapped out: called when running reaches 0. */
  onIdle?: () => void;
}

export class SwappablePipeline implements PipelineLike {
  private current: Slot;
  /** Swapped-out models still closing (awaited by close()). */
  private readonly closing = new Set<Promise<void>>();

  constructor(version: string, pipeline: PipelineLike) {
    this.current = { version, pipeline, running: 0 };
  }

  /** The version new runs use. */
  get version(): string {
    return this.current.version;
  }

  get arch(): PipelineLike["arch"] {
    return this.current.pipeline.arch;
  }

  get tokenizer(): PipelineLike["tokenizer"] {
    return this.current.pipeline.tokenizer;
  }

  get calibration(): PipelineLike["calibration"] {
    return this.current.pipeline.calibration;
  }

  async run(texts: readonly string[], options: Parameters<PipelineLike["run"]>[1]): Promise<(Entity[] | TokenItem[])[]> {
    const slot = this.current;
    slot.running++;
    try {
      const results = await slot.pipeline.run(texts, options);
      for (const items of results) madeBy.set(items, slot.version);
      return results;
    } finally {
      if (--slot.running === 0) slot.onIdle?.();
    }
  }

  /**
   * New runs use `pipeline` (version `version`) from now on; the model serving until now is closed
   * once its runs finish. The promise resolves when it is closed (callers need not wait for it).
   */
  swap(version: string, pipeline: PipelineLike): Promise<void> {
    const old = this.current;
    this.current = { version, pipeline, running: 0 };
    const closed = new Promise<void>((resolve) => {
      old.onIdle = resolve;
      if (old.running === 0) resolve();
    }).then(() => old.pipeline.close());
    const tracked = closed.finally(() => this.closing.delete(tracked));
    this.closing.add(tracked);
    return closed;
  }

  /** Closes the serving model, after the swapped-out ones have closed. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.closing]);
    await this.current.pipeline.close();
  }
}
