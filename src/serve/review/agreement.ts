// Inter-annotator agreement over documents two people reviewed: entity-level F1 between the first
// two reviewers (seqeval's, via evaluate; symmetric, so who counts as gold does not matter) and
// Cohen's kappa on per-token IOB2 labels, pooled over all such documents. Both reviewers' spans are
// tagged over the same words (tokenized at every span boundary of either). A rejected document
// counts as having no entities: the reviewer vouched for none of the model's.
// Kappa: (p_o − p_e) / (1 − p_e), Cohen (1960), https://en.wikipedia.org/wiki/Cohen%27s_kappa.

import { SCHEMES } from "../../data/schemes.js";
import { Span, spansToTags } from "../../data/spans.js";
import { evaluate } from "../../metrics/seqeval.js";
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

/** Agreement between the first two reviews (by time) of every document that has two or more. */
export function agreement(results: readonly ReviewedResult[]): Agreement {
  const first: string[][] = [];
  const second: string[][] = [];
  for (const result of results) {
    if (result.reviews.length < 2) continue;
    const [a, b] = result.reviews.slice(0, 2).map((review) => reviewedSpans(result, review) ?? ([] as Span[]));
    const words = tokenizeWords(result.text, [...a, ...b].flatMap((s) => [s.start, s.end]));
    first.push(spansToTags({ text: result.text, spans: a, tokens: words }, SCHEMES.IOB2).tags);
    second.push(spansToTags({ text: result.text, spans: b, tokens: words }, SCHEMES.IOB2).tags);
  }
  if (first.length === 0) return { documents: 0, f1: null, kappa: null };
  return { documents: first.length, f1: evaluate(first, second).overall.f1, kappa: cohenKappa(first.flat(), second.flat()) };
}
