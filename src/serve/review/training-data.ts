// Reviewed documents as training data: the spans a review stands for (accept → the model's entities,
// correct → the reviewer's spans, reject → no document), written as span JSONL or CoNLL IOB2, the
// two formats `nerkit train` reads.
// Export takes a document's latest review; retraining resolves several by majority instead
// (resolution.ts, retrain-documents.ts).
// What it leaves out: sentence splitting (a document is one CoNLL sentence) and other schemes.

import { formatConll } from "../../data/conll.js";
import { disjointSpans } from "../../postprocess/disjoint.js";
import { SCHEMES } from "../../data/schemes.js";
import { formatSpanJsonl } from "../../data/span-formats.js";
import { Span, SpanDocument, spansToTags } from "../../data/spans.js";
import { JobResult, ReviewedResult, StoredReview } from "../storage/repository.js";

export const EXPORT_FORMATS = ["jsonl", "conll"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The model's entities as spans; entities routing rejected are not among what "accept" vouches for.
 * Cleaned again (disjointSpans: results stored before the service cleaned them may hold empty or
 * overlapping spans), so that what export writes nerkit's readers take.
 */
export function modelSpans(result: JobResult): Span[] {
  const entities = (result.entities as { type: string; start: number; end: number; score?: number; raw_score?: number; decision?: string }[]).filter((e) => e.decision !== "reject");
  const score = (e: { score?: number; raw_score?: number }) => (typeof e.raw_score === "number" ? e.raw_score : typeof e.score === "number" ? e.score : 0);
  return disjointSpans(result.text, entities.map((e) => ({ start: e.start, end: e.end, label: e.type, score: score(e) }))).map(
    ({ start, end, label }) => ({ start, end, label }),
  );
}

/** The spans a review stands for; undefined for a rejected document. */
export function reviewedSpans(result: JobResult, review: StoredReview): Span[] | undefined {
  if (review.action === "reject") return undefined;
  return review.action === "accept" ? modelSpans(result) : (review.spans as Span[]);
}

/** One document per reviewed result, by its latest review; rejected documents left out. */
export function trainingDocuments(results: readonly ReviewedResult[]): SpanDocument[] {
  const documents: SpanDocument[] = [];
  for (const result of results) {
    const latest = result.reviews.at(-1);
    const spans = latest && reviewedSpans(result, latest);
    if (spans) documents.push({ id: `${result.jobId}:${result.seq}`, text: result.text, spans });
  }
  return documents;
}

/** The documents in `format`; in CoNLL each document is one sentence (one with no word is skipped). */
export function formatTrainingData(documents: readonly SpanDocument[], format: ExportFormat): string {
  if (format === "jsonl") return formatSpanJsonl(documents);
  const sentences = documents
    .map((doc, i) => {
      const { words, tags } = spansToTags(doc, SCHEMES.IOB2);
      return { tokens: words.map((w) => w.text), tags, line: i + 1, documentStart: false };
    })
    .filter((s) => s.tokens.length > 0);
  return formatConll({ sentences, columns: 2, tagColumn: 1 });
}
