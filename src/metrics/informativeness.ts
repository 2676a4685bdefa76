// How much a document would teach the model if a person reviewed it: its informativeness, from the
// label distribution the model gives each of its words (the first sub-token's, as training labels it).
//
// The measure: the mean normalised entropy of the document's K least certain words,
//   u(w) = H(p_w) / ln L = -Σ_l p_w(l) ln p_w(l) / ln L        (0: one label certain, 1: uniform)
//   informativeness(d) = (1 / k) Σ_{w ∈ top-k(d)} u(w),  k = min(K, words in d),  K = 10
// Why this one, of the usual three (Settles, "Active Learning Literature Survey", 2009, §3.1;
// Settles & Craven, "An Analysis of Active Learning Strategies for Sequence Labeling Tasks", EMNLP 2008):
// - least confidence (1 - max p) and margin (p₁ - p₂) look at one or two labels only; entropy sees
//   the whole distribution, so a word torn between B-ORG, B-LOC and O ranks above one torn between
//   two, which is what a NER reviewer's correction fixes. Normalising by ln L puts models with
//   different label sets on one scale, in [0, 1].
// - A plain sum over words (Settles & Craven's "total token entropy") grows with length: long
//   documents fill the queue because they are long, not because they are hard. A mean over all words
//   has the opposite bias: the many certain "O" words of a long document drown its few hard ones.
//   The mean over the k least certain words is neither: a document scores by its hardest words,
//   whatever its length, and k > 1 keeps one stray word from deciding alone.
// What it leaves out: the diversity between documents (serve/review/diverse-order.ts) and how the
// distributions are read (infer/word-distributions.ts); scores are the model's raw softmax, before
// any calibration (a temperature would change every document's score alike, not the ranking much).

/** Words that decide a document's informativeness. */
export const LEAST_CERTAIN_WORDS = 10;

/** H(p) / ln L: 0 when one label has all the mass, 1 when the L labels are equally likely. */
export function normalisedEntropy(p: ArrayLike<number>): number {
  if (p.length < 2) return 0;
  let h = 0;
  for (let l = 0; l < p.length; l++) if (p[l] > 0) h -= p[l] * Math.log(p[l]);
  return h / Math.log(p.length);
}

/** p₁ - p₂, the gap between the two likeliest labels (1: certain, 0: a tie); for comparison and tests. */
export function margin(p: ArrayLike<number>): number {
  let first = -Infinity;
  let second = -Infinity;
  for (let l = 0; l < p.length; l++) {
    if (p[l] > first) [first, second] = [p[l], first];
    else if (p[l] > second) second = p[l];
  }
  return p.length < 2 ? 1 : first - second;
}

/** The mean normalised entropy of the k least certain words (k = min(K, words)); 0 for a document without words. */
export function informativeness(words: readonly ArrayLike<number>[], k = LEAST_CERTAIN_WORDS): number {
  if (words.length === 0) return 0;
  const entropies = words.map(normalisedEntropy).sort((a, b) => b - a);
  const top = entropies.slice(0, Math.min(k, entropies.length));
  return top.reduce((sum, u) => sum + u, 0) / top.length;
}
