// Scores the model being trained on labelled sentences with the seqeval-identical metrics: the
// current weights go into the inference graph, the sentences' words are tagged by the word tagger
// that `nerkit evaluate --model` uses (../infer/word-tagger.ts: each word takes the label of its
// first sub-token, long sentences are windowed, batches sorted by length), and the word tags are
// compared with the gold ones in seqeval's default mode.

import { Architecture } from "../model/architecture.js";
import { TokenClassifierSession } from "../model/session.js";
import { Tokenizer } from "../text/tokenizers/index.js";
import { TagProgress, tagWordsSteps } from "../infer/word-tagger.js";
import { evaluate, EvaluationReport } from "../metrics/seqeval.js";
import { LabelledSentence } from "./examples.js";

export interface ModelEvaluation {
  report: EvaluationReport;
  predictions: string[][];
}

export interface EvaluateSentencesOptions {
  tokenizer: Tokenizer;
  /** Tokens per window, special tokens included (training's --max-length). */
  maxLength: number;
  batchSize: number;
  threads?: number;
}

/** Tags `sentences` with the given weights, yielding progress per batch, and returns the report. */
export async function* evaluateSentences(
  arch: Architecture,
  weights: (name: string) => Float32Array,
  shapes: Map<string, number[]>,
  sentences: readonly LabelledSentence[],
  options: EvaluateSentencesOptions,
): AsyncGenerator<TagProgress, ModelEvaluation> {
  const session = await TokenClassifierSession.create(arch, (name) => ({ shape: shapes.get(name)!, data: weights(name) }), { threads: options.threads });
  try {
    const model = { session, tokenizer: options.tokenizer, labels: arch.labels, maxLength: options.maxLength };
    const predictions = yield* tagWordsSteps(model, sentences.map((s) => s.tokens), { batchSize: options.batchSize });
    return { report: evaluate(sentences.map((s) => s.tags), predictions), predictions };
  } finally {
    await session.release();
  }
}
