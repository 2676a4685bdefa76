// Reviewed documents as a retrain reads them: each document's reviews resolved by majority
// (resolution.ts), rejected documents left out, the rest split into training and a held-out share
// (holdout.ts) that never enters training. A document naming an entity type the serving model does
// not predict is left out of both: retraining keeps the model's label set (a new type needs a new
// head, trained from scratch on data that has it: `nerkit train`), and training on the document
// without that span would teach the model that the entity is not one.
// What it leaves out: reading the reviews (the caller pages through the repository).

import { SpanDocument } from "../../data/spans.js";
import { ReviewedResult } from "../storage/repository.js";
import { isHeldOut } from "./holdout.js";
import { resolveReviews } from "./resolution.js";

export interface RetrainDocuments {
  train: SpanDocument[];
  holdout: SpanDocument[];
  /** Documents whose reviews resolved to reject. */
  rejected: number;
  /** Entity types the model does not predict, with the documents naming them (left out). */
  unknownTypes: Map<string, number>;
}

export interface RetrainDocumentOptions {
  /** The held-out share, in [0, 1]. */
  holdout: number;
  /** The entity types the serving model predicts; documents naming others are left out. */
  types: ReadonlySet<string>;
}

/** Splits reviewed results into training and held-out documents (ids "<jobId>:<seq>"). */
export function retrainDocuments(results: Iterable<ReviewedResult>, options: RetrainDocumentOptions): RetrainDocuments {
  const documents: RetrainDocuments = { train: [], holdout: [], rejected: 0, unknownTypes: new Map() };
  for (const result of results) {
    const resolved = resolveReviews(result);
    if (!resolved) continue;
    if (resolved.spans === undefined) {
      documents.rejected++;
      continue;
    }
    const unknown = new Set(resolved.spans.map((s) => s.label).filter((label) => !options.types.has(label)));
    for (const type of unknown) documents.unknownTypes.set(type, (documents.unknownTypes.get(type) ?? 0) + 1);
    if (unknown.size > 0) continue;
    const doc: SpanDocument = { id: `${result.jobId}:${result.seq}`, text: result.text, spans: resolved.spans };
    (isHeldOut(result.jobId, result.seq, options.holdout) ? documents.holdout : documents.train).push(doc);
  }
  return documents;
}
