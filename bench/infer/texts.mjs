// The texts of the inference benchmarks (bench/infer, bench/web), chosen in one place so that both
// measure the same work: the first `sentences` sentences of CoNLL-2003 dev, tokens joined by
// spaces; and one text of at most `latencyTokens` tokens (special tokens included) built from the
// sentences after them. Left out: the model (make-model.mjs) and the timing (each side's script).

import { join } from "node:path";
import { loadTokenizer, parseConll, readTextFile } from "../../dist/src/index.js";

/** {texts, latencyText}; `modelDir` gives the tokenizer that counts the latency text's tokens. */
export function benchTexts({ shared, modelDir, sentences = 256, latencyTokens = 100 }) {
  const dev = join(shared, "data", "conll2003", "dev.conll");
  const all = parseConll(readTextFile(dev), { file: dev }).sentences.map((s) => s.tokens);
  const texts = all.slice(0, sentences).map((tokens) => tokens.join(" "));
  const tokenizer = loadTokenizer(modelDir, { flavor: "transformers" });
  const tokenCount = (text) => tokenizer.encode(text, { addSpecialTokens: true }).ids.length;
  let latencyText = "";
  for (const word of all.slice(sentences).flat()) {
    const next = latencyText ? `${latencyText} ${word}` : word;
    if (tokenCount(next) > latencyTokens) break;
    latencyText = next;
  }
  return { texts, latencyText };
}
