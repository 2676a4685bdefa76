// Unlabelled text for distillation: a .txt file (one text per line) or JSON lines {"text"} (with
// optional "tokens", as `nerkit predict` reads them, ../../infer/predict-io.ts), split into words as
// predict splits raw text (BERT's basic tokenizer: whitespace and punctuation), then into examples
// exactly as labelled sentences are (long texts cut at word boundaries). Such an example has no
// gold label anywhere (-100 on every token) and takes only the teacher's soft targets, on the
// tokens that would carry a label. Left out: sentence splitting (a line is one example, or several
// pieces when longer than --max-length).

import { NerkitError } from "../../errors.js";
import { readTextFile, splitLines } from "../../io/files.js";
import { parseInputLine } from "../../infer/predict-io.js";
import { Tokenizer } from "../../text/tokenizers/index.js";
import { tokenizeWords } from "../../text/word-tokenizer.js";
import { Example, ExampleOptions, LabelledSentence, buildExamples } from "../examples.js";
import { IGNORE_LABEL } from "../batches.js";
import { labelledPositions } from "./soft-targets.js";

/** Each text's words, with the file and line for messages. */
export function readUnlabelledWords(path: string): LabelledSentence[] {
  const lines = splitLines(readTextFile(path));
  const kind = path.toLowerCase().endsWith(".jsonl") ? "jsonl" : "text";
  const sentences: LabelledSentence[] = [];
  lines.forEach((line, i) => {
    const input = parseInputLine(line, kind, i + 1, path);
    if (!input) return;
    const tokens = (input.tokens ?? tokenizeWords(input.text)).map((w) => w.text);
    if (tokens.length > 0) sentences.push({ tokens, tags: tokens.map(() => WORD), file: path, line: i + 1 });
  });
  if (sentences.length === 0) throw new NerkitError("E_FORMAT", "the unlabelled file holds no text", { file: path });
  return sentences;
}

/** A placeholder tag: buildExamples puts label 0 on each word's first sub-token, which marks where the soft loss applies. */
const WORD = "word";

/** Examples of unlabelled texts, with the tokens that take the soft loss. */
export function unlabelledExamples(sentences: readonly LabelledSentence[], tokenizer: Tokenizer, options: ExampleOptions): { examples: Example[]; positions: number[][]; splits: number } {
  const built = buildExamples(sentences, tokenizer, [WORD], options);
  const positions = built.examples.map(labelledPositions);
  const examples = built.examples.map((e) => ({ inputIds: e.inputIds, labels: e.labels.map(() => IGNORE_LABEL) }));
  return { examples, positions, splits: built.splits };
}
