// A stand-in for the NER pipeline in the service tests, so they need no model: it finds each
// capitalised word, a PER scoring 0.99 (accepted under the default thresholds), and each word of two
// or more capitals, an ORG scoring 0.85 (routed to review). It records the texts it saw and can be
// slowed down, for tests that stop the service half way through a job. ScoringPipeline also reports
// word distributions, so that documents get an informativeness (the review order's tests).

import { Entity } from "../src/infer/pipeline.js";
import { PipelineLike } from "../src/serve/app.js";
import { WordDistributionListener } from "../src/infer/word-distributions.js";

export class FakePipeline implements PipelineLike {
  readonly texts: string[] = [];

  constructor(readonly delayMs = 0) {}

  async run(texts: readonly string[]): Promise<Entity[][]> {
    this.texts.push(...texts);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return texts.map((text) =>
      [...text.matchAll(/\p{Lu}+\p{Ll}*/gu)].map((m) => {
        const upper = m[0].length > 1 && m[0] === m[0].toUpperCase();
        return { type: upper ? "ORG" : "PER", text: m[0], start: m.index, end: m.index + m[0].length, score: upper ? 0.85 : 0.99, word: m[0] };
      }),
    );
  }

  async close(): Promise<void> {}
}

/** FakePipeline, also reporting one word per text whose probabilities are [1 - q, q], q = (number of "?") / 10 (at most 0.5). */
export class ScoringPipeline extends FakePipeline {
  override async run(texts: readonly string[], options: { onWordDistributions?: WordDistributionListener } = {}): Promise<Entity[][]> {
    const results = await super.run(texts);
    texts.forEach((text, i) => {
      const q = Math.min(0.5, (text.match(/\?/g) ?? []).length / 10);
      options.onWordDistributions?.(i, [Float64Array.from([1 - q, q])]);
    });
    return results;
  }
}

/** The fake pipeline with every entity typed `tag` (two of them tell two model versions apart), and whether it was closed. */
export class TaggedPipeline extends FakePipeline {
  closed = false;

  constructor(
    readonly tag: string,
    delayMs = 0,
  ) {
    super(delayMs);
  }

  override async run(texts: readonly string[]): Promise<Entity[][]> {
    if (this.closed) throw new Error(`pipeline ${this.tag} used after close`);
    const results = await super.run(texts);
    if (this.closed) throw new Error(`pipeline ${this.tag} closed during a run`);
    return results.map((entities) => entities.map((e) => ({ ...e, type: this.tag })));
  }

  override async close(): Promise<void> {
    this.closed = true;
  }
}
