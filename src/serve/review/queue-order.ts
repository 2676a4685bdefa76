// The review queue in the order that teaches most (serve --review-order): a page of GET /v1/review.
// The database orders the queue (storage/review-order-sql.ts: audit documents first, then the most
// informative, metrics/informativeness.ts; or a seeded shuffle; or oldest first); in the uncertainty
// order the diversity step (diverse-order.ts) then spreads near-duplicates. That step is online, so a
// page is read by taking the database's order from the top, in batches, until offset + limit
// documents are placed: every page is a slice of one order, and pages do not overlap or skip
// (while no review or job changes the queue between them). Its cost grows with the offset: a queue
// is reviewed from the top, and a page deep down reads what lies above it.
// Random and fifo orders skip the diversity step: a shuffle spreads near-duplicates already, and
// fifo is the queue's order before there was a choice.
// What it leaves out: claiming items for one reviewer (two reviewers reading the same page review
// the same documents, as before).

import { minhash } from "../../text/minhash.js";
import { JobRepository, JobResult, ReviewOrder } from "../storage/repository.js";
import { DEFAULT_DIVERSITY, DiverseOrder, DiversityOptions } from "./diverse-order.js";

/** The fewest queue rows read from the database at once while a page is placed (each read sorts the
 * queue, so a deep page is read in one go, not in many small reads). */
const BATCH = 200;
/** Signatures kept between requests (a stored text never changes, so one is never stale). */
const CACHED_SIGNATURES = 20_000;

export class ReviewQueueOrder {
  private readonly signatures = new Map<string, Uint32Array>();

  constructor(
    readonly order: ReviewOrder,
    private readonly diversity: DiversityOptions = DEFAULT_DIVERSITY,
  ) {}

  /** The queue's documents from the offset-th, at most limit, in this order. */
  async page(repository: JobRepository, offset: number, limit: number): Promise<JobResult[]> {
    if (this.order.mode !== "uncertainty") return repository.reviewQueue(offset, limit, this.order);
    const wanted = offset + limit;
    const placed: JobResult[] = [];
    const diverse = new DiverseOrder<JobResult>((r) => this.signature(r), (r) => r.audit === true, this.diversity);
    for (let read = 0; placed.length < wanted; ) {
      const size = Math.max(BATCH, wanted - placed.length);
      const rows = await repository.reviewQueue(read, size, this.order);
      read += rows.length;
      for (const row of rows) {
        if (placed.length >= wanted) break;
        placed.push(...diverse.push(row));
      }
      if (rows.length < size) {
        placed.push(...diverse.flush());
        break;
      }
    }
    return placed.slice(offset, wanted);
  }

  private signature(result: JobResult): Uint32Array {
    const key = `${result.jobId}:${result.seq}`;
    let signature = this.signatures.get(key);
    if (!signature) {
      signature = minhash(result.text);
      // A Map iterates in insertion order: the first key is the oldest.
      if (this.signatures.size >= CACHED_SIGNATURES) this.signatures.delete(this.signatures.keys().next().value!);
      this.signatures.set(key, signature);
    }
    return signature;
  }
}
