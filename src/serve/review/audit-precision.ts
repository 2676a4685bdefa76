// Precision per entity type from reviews, read from the job database (so it survives restarts and
// counts what `nerkit worker`s stored too): from reviews of audit documents alone (auto-accepted
// documents drawn at random: jobs/audit-sample.ts), an unbiased estimate of the precision of what
// is auto-accepted, with a 95% Wilson interval; and from reviews of the documents routing sent to
// review, today's estimate, which is biased: those are the documents the model was unsure of.
// Counting: each reviewed document by its latest review. "accept" keeps every counted entity;
// "correct" keeps those whose span and type the correction repeats; "reject" (the document is
// unusable, as export treats it) counts in neither estimate. Counted entities: of an audit
// document, those routing accepted (what nobody would have looked at); of a review document,
// those routing did not reject (what "accept" vouches for, as export reads it).
// Cost: a read pages through every reviewed result (PAGE at a time, memory flat, a turn for the
// event loop between pages); about 1.5 s for 20,000 reviewed documents of 8 entities on a loaded
// 2-core machine. So the service keeps the last counts (ReviewPrecisionCache) until a review is
// saved through it or a minute has passed (reviews saved by another server on the same database).
// What it leaves out: agreement between reviewers (agreement.ts).

import { wilsonInterval } from "../../metrics/precision-bounds.js";
import { JobRepository, ReviewedResult, StoredReview } from "../storage/repository.js";

const PAGE = 500;
export const AUDIT_CONFIDENCE = 0.95;

export interface KeptCount {
  reviewed: number;
  kept: number;
}

export interface ReviewPrecisionCounts {
  /** Per type, from audit documents. */
  audit: Map<string, KeptCount>;
  /** Per type, from documents routed to review (biased). */
  reviewBased: Map<string, KeptCount>;
}

interface StoredEntity {
  type: string;
  start: number;
  end: number;
  decision?: string;
}

/** Adds one reviewed document's entities to counts, by its latest review. */
export function countReview(counts: ReviewPrecisionCounts, result: ReviewedResult, review: StoredReview): void {
  if (review.action === "reject") return;
  const audit = result.audit === true;
  const entities = (result.entities as StoredEntity[]).filter((e) => (audit ? e.decision === "accept" : e.decision !== "reject"));
  const into = audit ? counts.audit : counts.reviewBased;
  const spans = (review.spans ?? []) as { start: number; end: number; label: string }[];
  for (const e of entities) {
    const kept = review.action === "accept" || spans.some((s) => s.start === e.start && s.end === e.end && s.label === e.type);
    const count = into.get(e.type) ?? { reviewed: 0, kept: 0 };
    count.reviewed++;
    if (kept) count.kept++;
    into.set(e.type, count);
  }
}

/** The counts over every reviewed document in the database (none while no database exists). */
export async function reviewPrecisionCounts(repository: JobRepository | undefined): Promise<ReviewPrecisionCounts> {
  const counts: ReviewPrecisionCounts = { audit: new Map(), reviewBased: new Map() };
  if (!repository) return counts;
  let after: string | undefined;
  do {
    const page = await repository.reviewedResultsPage(after, PAGE);
    for (const result of page.results) {
      const latest = result.reviews.at(-1);
      if (latest) countReview(counts, result, latest);
    }
    after = page.next;
    // SQLite reads block the event loop: /healthz and live requests get their turn between pages.
    if (after !== undefined) await new Promise((resolve) => setImmediate(resolve));
  } while (after !== undefined);
  return counts;
}

/** The last counts read, shared by concurrent callers, read again after invalidate() or maxAgeMs. */
export class ReviewPrecisionCache {
  private last: { at: number; counts: Promise<ReviewPrecisionCounts> } | undefined;

  constructor(
    private readonly read: () => Promise<ReviewPrecisionCounts>,
    private readonly maxAgeMs = 60_000,
  ) {}

  get(): Promise<ReviewPrecisionCounts> {
    if (!this.last || Date.now() - this.last.at > this.maxAgeMs) {
      const counts = this.read();
      const entry = { at: Date.now(), counts };
      this.last = entry;
      // A failed read is not kept: the next call tries again.
      counts.catch(() => {
        if (this.last === entry) this.last = undefined;
      });
    }
    return this.last.counts;
  }

  /** A review was saved: the next get() reads again. */
  invalidate(): void {
    this.last = undefined;
  }
}

export interface AuditPrecision {
  type: string;
  reviewed: number;
  kept: number;
  precision: number;
  /** The 95% Wilson score interval. */
  low: number;
  high: number;
}

export interface ReviewBasedPrecision {
  type: string;
  reviewed: number;
  kept: number;
  precision: number;
  biased: true;
}

/** GET /v1/monitor's `audit` key. */
export interface AuditMonitor {
  rate: number;
  seed: number;
  perType: AuditPrecision[];
  reviewBased: ReviewBasedPrecision[];
}

const byType = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function auditMonitor(counts: ReviewPrecisionCounts, settings: { rate: number; seed: number }): AuditMonitor {
  return {
    rate: settings.rate,
    seed: settings.seed,
    perType: byType(counts.audit).map(([type, { reviewed, kept }]) => ({ type, reviewed, kept, precision: kept / reviewed, ...wilsonInterval(kept, reviewed, AUDIT_CONFIDENCE) })),
    reviewBased: byType(counts.reviewBased).map(([type, { reviewed, kept }]) => ({ type, reviewed, kept, precision: kept / reviewed, biased: true as const })),
  };
}
