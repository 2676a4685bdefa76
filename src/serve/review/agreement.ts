// Inter-annotator agreement over documents two people reviewed: entity-level F1 between the first
// two reviewers (seqeval's, via evaluate; symmetric, so who counts as gold does not matter) and
// Cohen's kappa on per-token IOB2 labels, pooled over all such documents. Both reviewers' spans are
// tagged over the same words (tokenized at every span boundary of either). A rejected document
// counts as having no entities: the reviewer vouched for none of the model's.
// Kappa: (p_o − p_e) / (1 − p_e), Cohen (1960), https://en.wikipedia.org/wiki/Cohen%27s_kappa.
// Both are computed from counts (entities per type, label pairs) added one document at a time
// (AgreementCounter), so that the service pages through reviewed results without holding them.

import { SCHEMES } from "../../data/schemes.js";
import { Span, spansToTags } from "../../data/spans.js";
import { CorpusCounts, countEntities } from "../../metrics/entity-counts.js";
import { reportFromCounts } from "../../metrics/seqeval.js";
import { tokenizeWords } from "../../text/word-tokenizer.js";
import { ReviewedResult } from "../storage/repository.js";
import { reviewedSpans } from "./training-data.js";

export interface Agreement {
  documents: number;
  f1: number | null;
  kappa: number | null;
}

/** Cohen's kappa of two equally long label sequences; 1 when chance agreement is already 1. */
export function cohenKappa(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) throw new Error(`cohenKappa: ${a.length} labels against ${b.length}`);
  const n = a.length;
  if (n === 0) return 1;
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    countA.set(a[i], (countA.get(a[i]) ?? 0) + 1);
    countB.set(b[i], (countB.get(b[i]) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [label, ca] of countA) pe += (ca / n) * ((countB.get(label) ?? 0) / n);
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/** Agreement counts, one document at a time: seqeval's entity counts (additive over sentences) and kappa's label counts. */
export class AgreementCounter {
  private documents = 0;
  private readonly entities: CorpusCounts = { types: new Map(), tokens: 0, correctTokens: 0 };
  private readonly labelsA = new Map<string, number>();
  private readonly labelsB = new Map<string, number>();
  private tokens = 0;
  private agreed = 0;

  /** Counts the result if it has two reviews or more (the first two by time), else ignores it. */
  add(result: ReviewedResult): void {
    if (result.reviews.length < 2) return;
    const [a, b] = result.reviews.slice(0, 2).map((review) => reviewedSpans(result, review) ?? ([] as Span[]));
    const words = tokenizeWords(result.text, [...a, ...b].flatMap((s) => [s.start, s.end]));
    const tagsA = spansToTags({ text: result.text, spans: a, tokens: words }, SCHEMES.IOB2).tags;
    const tagsB = spansToTags({ text: result.text, spans: b, tokens: words }, SCHEMES.IOB2).tags;
    this.documents++;
    const counts = countEntities([tagsA], [tagsB]);
    for (const [type, c] of counts.types) {
      const total = this.entities.types.get(type) ?? { correct: 0, predicted: 0, gold: 0 };
      this.entities.types.set(type, { correct: total.correct + c.correct, predicted: total.predicted + c.predicted, gold: total.gold + c.gold });
    }
    this.entities.tokens += counts.tokens;
    this.entities.correctTokens += counts.correctTokens;
    for (let i = 0; i < tagsA.length; i++) {
      if (tagsA[i] === tagsB[i]) this.agreed++;
      this.labelsA.set(tagsA[i], (this.labelsA.get(tagsA[i]) ?? 0) + 1);
      this.labelsB.set(tagsB[i], (this.labelsB.get(tagsB[i]) ?? 0) + 1);
    }
    this.tokens += tagsA.length;
  }

  result(): Agreement {
    if (this.documents === 0) return { documents: 0, f1: null, kappa: null };
    const n = this.tokens;
    let pe = 0;
    for (const [label, ca] of this.labelsA) pe += (ca / n) * ((this.labelsB.get(label) ?? 0) / n);
    const kappa = n === 0 || pe === 1 ? 1 : (this.agreed / n - pe) / (1 - pe);
    // Documents without a word (whitespace only) give no entity to score.
    return { documents: this.documents, f1: n === 0 ? null : reportFromCounts(this.entities).overall.f1, kappa };
  }
}

/** Agreement between the first two reviews (by time) of every document that has two or more. */
export function agreement(results: Iterable<ReviewedResult>): Agreement {
  const counter = new AgreementCounter();
  for (const result of results) counter.add(result);
  return counter.result();
}
