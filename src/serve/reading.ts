// How the service reads a text, wherever it does (/v1/entities, /v1/redact, batch jobs in the server
// or in `nerkit worker`): the whole text, in overlapping windows, never cut at the model's limit (a
// name past the first window must be found and redacted like any other); words labelled by their
// first sub-token (DEFAULT_READING) unless a request asks for another aggregation; batch jobs' texts
// also get their informativeness from the same run (readScoredTexts, for the review order). Also
// what the service needs of a NerPipeline (tests pass a fake).

import { AggregationStrategy } from "../infer/aggregation.js";
import { DEFAULT_READING, Entity, TokenItem, WindowMode } from "../infer/pipeline.js";
import type { WordDistributionListener } from "../infer/word-distributions.js";
import { informativeness } from "../metrics/informativeness.js";
import type { PieceTokenizer } from "../infer/word-pieces.js";
import { CalibrationFile } from "../metrics/calibration-file.js";

/** Never "hf": that mode leaves the end of a long text unread. */
export const SERVICE_WINDOWS: WindowMode = "overlap";

export interface PipelineLike {
  /** A fake may ignore onWordDistributions: its documents then have no informativeness. */
  run(texts: readonly string[], options: { aggregation?: AggregationStrategy; windows?: WindowMode; onWordDistributions?: WordDistributionListener }): Promise<(Entity[] | TokenItem[])[]>;
  close(): Promise<void>;
  /** The model's labels ("O", "B-PER", ...) for GET /v1/labels; a fake may leave them out. */
  readonly arch?: { readonly labels: readonly string[] };
  /** The model's tokenizer, for the drift statistic of rare word pieces; a fake may leave it out (the statistic is then not measured). */
  readonly tokenizer?: PieceTokenizer;
  /** The model's calibration.json, applied to every score (GET /v1/labels describes it); none: raw scores. */
  readonly calibration?: Pick<CalibrationFile, "method" | "temperature" | "created">;
}

/** The texts read as the service reads them: whole, with `aggregation` (first by default). */
export function readTexts(pipeline: PipelineLike, texts: readonly string[], aggregation: AggregationStrategy = DEFAULT_READING.aggregation): Promise<(Entity[] | TokenItem[])[]> {
  return pipeline.run(texts, { aggregation, windows: SERVICE_WINDOWS });
}

/** A text's items and, when the pipeline reported its words' distributions, its informativeness (metrics/informativeness.ts). */
export interface ScoredRead {
  items: Entity[] | TokenItem[];
  informativeness?: number;
}

/** readTexts, with each text's informativeness measured in the same run (batch jobs: the review order). */
export async function readScoredTexts(pipeline: PipelineLike, texts: readonly string[], aggregation: AggregationStrategy = DEFAULT_READING.aggregation): Promise<ScoredRead[]> {
  const scores = new Map<number, number>();
  const onWordDistributions: WordDistributionListener = (text, words) => scores.set(text, informativeness(words));
  const results = await pipeline.run(texts, { aggregation, windows: SERVICE_WINDOWS, onWordDistributions });
  return results.map((items, i) => (scores.has(i) ? { items, informativeness: scores.get(i)! } : { items }));
}
