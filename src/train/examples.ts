// Labelled sentences to model inputs: words through the tokenizer, each word's label on its first
// sub-token and -100 elsewhere (or on every sub-token), special tokens added. A sentence longer than
// the model reads is split into consecutive pieces at word boundaries, never silently cut.
// Evaluation does not use these examples: it tags whole sentences (../infer/word-tagger.ts).

import { NerkitError } from "../errors.js";
import { Tokenizer, alignLabels } from "../text/tokenizers/index.js";
import type { SoftTargets } from "./distill/soft-targets.js";
import type { HiddenRows } from "./distill/hidden-targets.js";

export interface LabelledSentence {
  tokens: string[];
  tags: string[];
  /** Where the sentence came from, for error messages. */
  file?: string;
  line?: number;
}

export interface Example {
  inputIds: number[];
  labels: number[];
  /** Distillation only: the teacher's soft targets for this example (./distill/soft-targets.ts). */
  soft?: SoftTargets;
  /** Distillation with --match-hidden only: where the teacher's hidden states for this example lie (./distill/teacher-hidden.ts). */
  teacherHidden?: HiddenRows;
}

/** The label list of a training corpus, sorted as transformers' run_ner does. */
export function labelListOf(sentences: readonly LabelledSentence[]): string[] {
  const seen = new Set<string>();
  for (const s of sentences) for (const tag of s.tags) seen.add(tag);
  return [...seen].sort();
}

/** Checks that every tag of `sentences` is in `labels` (a dev label the training data never had is an error). */
export function checkLabels(sentences: readonly LabelledSentence[], labels: readonly string[], what: string): void {
  const known = new Set(labels);
  for (const s of sentences) {
    s.tags.forEach((tag, i) => {
      if (!known.has(tag)) {
        throw new NerkitError("E_TAG", `the ${what} data has the label ${tag}, which the training data never has (${labels.length} labels: ${labels.join(", ")})`, {
          file: s.file,
          line: s.line === undefined ? undefined : s.line + i,
        });
      }
    });
  }
}

export interface ExampleOptions {
  maxLength: number;
  labelAllSubtokens?: boolean;
}

/** Examples of `sentences`; `splits` counts the sentences that had to be split to fit. */
export function buildExamples(sentences: readonly LabelledSentence[], tokenizer: Tokenizer, labels: readonly string[], options: ExampleOptions): { examples: Example[]; splits: number } {
  const index = new Map(labels.map((l, i) => [l, i]));
  const specials = tokenizer.encodeWords(["a"], { addSpecialTokens: true }).specialTokensMask.filter((m) => m === 1).length;
  const room = options.maxLength - specials;
  const examples: Example[] = [];
  let splits = 0;
  for (const sentence of sentences) {
    if (sentence.tokens.length === 0) continue;
    // Count each word's sub-tokens once, then cut the sentence into pieces that fit.
    const counts = sentence.tokens.map((w) => Math.max(1, tokenizer.encodeWords([w], { addSpecialTokens: false }).ids.length));
    let start = 0;
    let pieces = 0;
    while (start < sentence.tokens.length) {
      let end = start;
      let used = 0;
      while (end < sentence.tokens.length && (end === start || used + counts[end] <= room)) used += counts[end++];
      examples.push(exampleOf(sentence.tokens.slice(start, end), sentence.tags.slice(start, end), tokenizer, index, options));
      pieces++;
      start = end;
    }
    if (pieces > 1) splits++;
  }
  return { examples, splits };
}

function exampleOf(words: string[], tags: string[], tokenizer: Tokenizer, index: Map<string, number>, options: ExampleOptions): Example {
  const encoding = tokenizer.encodeWords(words, { addSpecialTokens: true });
  let inputIds = encoding.ids;
  let labels = alignLabels(encoding, tags.map((t) => index.get(t)!), { labelAllSubtokens: options.labelAllSubtokens });
  if (inputIds.length > options.maxLength) {
    // One word longer than the whole window: keep its first pieces and the closing special token.
    inputIds = [...inputIds.slice(0, options.maxLength - 1), inputIds[inputIds.length - 1]];
    labels = [...labels.slice(0, options.maxLength - 1), -100];
  }
  return { inputIds, labels };
}
