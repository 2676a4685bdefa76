// The report conlleval.pl prints, line for line, for users who compare against published CoNLL
// numbers. Its arithmetic is conlleval's own: percentages first, then FB1 from the percentages.

import { CorpusCounts } from "./entity-counts.js";
import { compareCodePoints } from "../text/code-point-order.js";
import { formatFixed, padStart } from "./numeric.js";

const percent = (x: number) => padStart(formatFixed(x, 2), 6);

export function conllevalReport(counts: CorpusCounts): string {
  let gold = 0;
  let found = 0;
  let correct = 0;
  for (const c of counts.types.values()) {
    gold += c.gold;
    found += c.predicted;
    correct += c.correct;
  }
  const scores = (ok: number, guessed: number, truth: number) => {
    const precision = guessed > 0 ? (100 * ok) / guessed : 0;
    const recall = truth > 0 ? (100 * ok) / truth : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return `precision: ${percent(precision)}%; recall: ${percent(recall)}%; FB1: ${percent(f1)}`;
  };
  const lines = [`processed ${counts.tokens} tokens with ${gold} phrases; found: ${found} phrases; correct: ${correct}.`];
  if (counts.tokens > 0) {
    lines.push(`accuracy: ${percent((100 * counts.correctTokens) / counts.tokens)}%; ${scores(correct, found, gold)}`);
  }
  for (const type of [...counts.types.keys()].sort(compareCodePoints)) {
    const c = counts.types.get(type)!;
    lines.push(`${padStart(type, 17)}: ${scores(c.correct, c.predicted, c.gold)}  ${c.predicted}`);
  }
  return lines.join("\n") + "\n";
}
