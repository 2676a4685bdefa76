// How a job's documents are annotated, wherever that happens: the server's in-process runner and
// `nerkit worker` both build their Annotate here, so a document gets the same entities and
// decision whichever process read it. Texts go to the model with lone surrogates replaced; each
// entity is shown as the API shows it (sliced from the caller's text), cleaned (modelEntities: no
// empty span, no overlap) and routed by the thresholds.
// What it leaves out: how the model is run (batched, queued, retried): that is the caller's `run`.

import { Entity, TokenItem } from "../../infer/pipeline.js";
import { disjointSpans } from "../../postprocess/disjoint.js";
import { Routed, RoutingOptions, route } from "../../postprocess/routing.js";
import type { ScoredRead } from "../reading.js";
import { Annotate } from "./runner.js";
import { modelVersionOf } from "../models/swappable-pipeline.js";

/** An entity (or, with aggregation none, a token) as the API shows it. */
export interface ApiEntity {
  type: string;
  text: string;
  start: number;
  end: number;
  /** Calibrated when the model has a calibration.json; routing decides on this one. */
  score: number;
  /** With a calibration: the score an uncalibrated model gives (overlaps are resolved on it). */
  raw_score?: number;
  label?: string;
  index?: number;
}

/** Lone surrogates become U+FFFD (same length, so offsets still index the caller's text). */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** The library's entity (or token) as the API shows it: no `word`; the text sliced from the caller's text. */
export function apiEntity(item: Entity | TokenItem, text: string): ApiEntity {
  const base: Omit<ApiEntity, "type"> = { text: text.slice(item.start, item.end), start: item.start, end: item.end, score: item.score };
  if (item.raw_score !== undefined) base.raw_score = item.raw_score;
  if ("label" in item) return { type: item.label.replace(/^[BIESLU]-/, ""), ...base, label: item.label, index: item.index };
  return { type: item.type, ...base };
}

/**
 * The model's items for one text as every route shows, routes, stores and redacts them: API entities
 * with those that cover no word dropped and overlaps resolved by (raw) score (postprocess/disjoint.ts).
 * With aggregation none the items are tokens, cleaned alike (two tokens of one character overlap).
 */
export function modelEntities(items: readonly (Entity | TokenItem)[], text: string): ApiEntity[] {
  return disjointSpans(text, items.map((item) => apiEntity(item, text)));
}

/** Runs the model on well-formed texts (as the service reads them: reading.ts), one list of items per
 * text, or with readScoredTexts each text's items and informativeness (the review order). */
export type ModelRun = (texts: string[]) => Promise<(Entity[] | TokenItem[] | ScoredRead)[]>;

/** Thresholds, or the thresholds of the model version that read the text (serve --target-precision: models/version-routing.ts). */
export type JobRouting = RoutingOptions | ((modelVersion: string | undefined) => RoutingOptions);

/**
 * Annotate for batch jobs: the model's entities routed accept/review/reject, and a decision per
 * document; `onRouted` sees each routed document, its text and the version that read it (the server's metrics and drift window).
 */
export function annotator(run: ModelRun, routing: JobRouting, onRouted?: (routed: Routed<ApiEntity>, text: string, modelVersion: string | undefined) => void): Annotate {
  return async (texts) => {
    const results = await run(texts.map(wellFormed));
    if (results.length !== texts.length) throw new Error(`the model returned ${results.length} results for ${texts.length} texts`);
    return results.map((result, i) => {
      const read: ScoredRead = Array.isArray(result) ? { items: result } : result;
      const modelVersion = modelVersionOf(read.items);
      const routed = route(modelEntities(read.items, texts[i]), typeof routing === "function" ? routing(modelVersion) : routing, read.informativeness);
      onRouted?.(routed, texts[i], modelVersion);
      return {
        entities: routed.entities,
        decision: routed.decision,
        ...(read.informativeness !== undefined ? { informativeness: read.informativeness } : {}),
        ...(modelVersion ? { modelVersion } : {}),
      };
    });
  };
}
