// What several reviews of one document stand for, for retraining: each review is a verdict (the
// document's spans as that reviewer vouches for them, or "reject"), the verdict most reviewers gave
// wins, and a tie goes to the tied verdict whose latest review is the latest. Verdicts are compared
// by the spans they stand for, not by action, so an accept and a correction that leaves the model's
// spans as they were agree. A reviewer has one review per document (a second replaces the first).
// What it leaves out: weighting reviewers, and the export's rule (latest review wins: training-data.ts).

import { Span } from "../../data/spans.js";
import { ReviewedResult } from "../storage/repository.js";
import { reviewedSpans } from "./training-data.js";

export interface ResolvedReview {
  /** The spans the winning verdict stands for; undefined when the document is rejected. */
  spans: Span[] | undefined;
  /** Reviewers who gave the winning verdict, and reviewers in all. */
  agreeing: number;
  reviewers: number;
}

/** A verdict as a comparable key: "reject", or its spans sorted. */
function verdictKey(spans: readonly Span[] | undefined): string {
  if (spans === undefined) return "reject";
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return JSON.stringify(sorted.map((s) => [s.start, s.end, s.label]));
}

/** The majority verdict of a document's reviews (oldest first, as the repository gives them); undefined without reviews. */
export function resolveReviews(result: ReviewedResult): ResolvedReview | undefined {
  if (result.reviews.length === 0) return undefined;
  const verdicts = new Map<string, { spans: Span[] | undefined; votes: number; latest: number }>();
  result.reviews.forEach((review, position) => {
    const spans = reviewedSpans(result, review);
    const key = verdictKey(spans);
    const verdict = verdicts.get(key) ?? { spans, votes: 0, latest: -1 };
    verdicts.set(key, { spans: verdict.spans, votes: verdict.votes + 1, latest: position });
  });
  let best: { spans: Span[] | undefined; votes: number; latest: number } | undefined;
  for (const verdict of verdicts.values()) {
    if (!best || verdict.votes > best.votes || (verdict.votes === best.votes && verdict.latest > best.latest)) best = verdict;
  }
  return { spans: best!.spans, agreeing: best!.votes, reviewers: result.reviews.length };
}
