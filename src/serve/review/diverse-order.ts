// The diversity step of the review order: ten near-copies of one hard document (a newsletter sent
// ten times, a form letter) would otherwise fill the top of an uncertainty-ordered queue, and a
// reviewer would correct the same mistake ten times over. Taking candidates in their given order
// (most informative first), a candidate whose estimated Jaccard similarity (MinHash of word shingles,
// text/minhash.ts) to one of the last WINDOW documents placed exceeds THRESHOLD is pushed back; after
// each placement, the pushed-back ones that no longer clash are placed first, oldest first (they came
// earlier in the given order). Candidates left at the end are placed as they fit, then as they come.
// So near-duplicates are spread at least WINDOW places apart while there is anything else to review,
// and distinct documents keep their order.
// The order is online: what is placed at position i depends only on candidates read so far, so a
// page at any offset is a true slice of the whole order (queue-order.ts reads just as far as needed).
// Pinned candidates (audit documents) are placed at once, never pushed back; they still count among
// the last placed, so a near-copy of an audit document is spread too.
// What it leaves out: similarity of meaning (paraphrases), and documents further apart than WINDOW.

import { similarity } from "../../text/minhash.js";

export interface DiversityOptions {
  /** Estimated Jaccard similarity above which two documents count as near-duplicates. */
  threshold: number;
  /** How many of the last placed documents a candidate is compared with. */
  window: number;
}

export const DEFAULT_DIVERSITY: DiversityOptions = { threshold: 0.5, window: 10 };

export class DiverseOrder<T> {
  private readonly recent: Uint32Array[] = [];
  private readonly deferred: { item: T; signature: Uint32Array }[] = [];

  constructor(
    private readonly signatureOf: (item: T) => Uint32Array,
    private readonly pinned: (item: T) => boolean,
    private readonly options: DiversityOptions = DEFAULT_DIVERSITY,
  ) {}

  /** Takes the next candidate; answers what is placed now (possibly nothing, or several), in order. */
  push(item: T): T[] {
    const signature = this.signatureOf(item);
    if (!this.pinned(item) && this.clashes(signature)) {
      this.deferred.push({ item, signature });
      return [];
    }
    const placed = [this.place(item, signature)];
    // Each placement changes the window: pushed-back candidates may fit now (invariant: between two
    // calls, none of the deferred fits, so only a placement can free one).
    for (let i = this.nextFitting(); i >= 0; i = this.nextFitting()) {
      const [d] = this.deferred.splice(i, 1);
      placed.push(this.place(d.item, d.signature));
    }
    return placed;
  }

  /** No more candidates: the pushed-back ones, each the first that fits, else the oldest. */
  flush(): T[] {
    const placed: T[] = [];
    while (this.deferred.length > 0) {
      const [d] = this.deferred.splice(Math.max(0, this.nextFitting()), 1);
      placed.push(this.place(d.item, d.signature));
    }
    return placed;
  }

  private place(item: T, signature: Uint32Array): T {
    this.recent.push(signature);
    if (this.recent.length > this.options.window) this.recent.shift();
    return item;
  }

  private clashes(signature: Uint32Array): boolean {
    return this.recent.some((r) => similarity(r, signature) > this.options.threshold);
  }

  private nextFitting(): number {
    return this.deferred.findIndex((d) => !this.clashes(d.signature));
  }
}

/** The whole order of a finite list (tests, and the reference queue-order.ts's paging is checked against). */
export function diverseOrder<T>(items: readonly T[], signatureOf: (item: T) => Uint32Array, pinned: (item: T) => boolean = () => false, options?: DiversityOptions): T[] {
  const order = new DiverseOrder(signatureOf, pinned, options);
  return [...items.flatMap((item) => order.push(item)), ...order.flush()];
}
