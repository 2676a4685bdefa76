// Each word's label distribution, gathered inside the pipeline's own run (no second model run): the
// softmax row of the word's first sub-token, the token training puts the word's label on. A word read
// by two overlapping windows gets the mean of its two rows (an ensemble of the two contexts; a word
// near one window's edge has little context there and more in the other). Words are told apart by
// where they start in the text; a window that begins inside a word skips the word's remaining pieces
// (the window before read its first piece).
// What it leaves out: what the distributions are used for (metrics/informativeness.ts), and the
// calibration: these are the raw model probabilities.

import type { TokenPrediction } from "./aggregation.js";

/** Called once per text of a run, with its words' label distributions in text order. */
export type WordDistributionListener = (text: number, distributions: Float64Array[]) => void;

export class WordDistributions {
  /** Per text: word start offset → (sum of rows, windows that read it). Insertion order is text order. */
  private readonly texts = new Map<number, Map<number, { sum: Float64Array; windows: number }>>();

  /** The words of one window (`tokens`: its content tokens, as NerPipeline.predictions gives them). */
  add(text: number, tokens: readonly TokenPrediction[]): void {
    let words = this.texts.get(text);
    if (!words) this.texts.set(text, (words = new Map()));
    for (const token of tokens) {
      if (token.isSubword) continue;
      let word = words.get(token.start);
      if (!word) words.set(token.start, (word = { sum: new Float64Array(token.scores.length), windows: 0 }));
      for (let l = 0; l < token.scores.length; l++) word.sum[l] += token.scores[l];
      word.windows++;
    }
  }

  /** Reports every text of the run, in order, `texts` in all (a text without words gets an empty list). */
  report(texts: number, listener: WordDistributionListener): void {
    for (let text = 0; text < texts; text++) {
      const words = [...(this.texts.get(text)?.entries() ?? [])].sort((a, b) => a[0] - b[0]);
      listener(text, words.map(([, w]) => w.sum.map((s) => s / w.windows)));
    }
  }
}
