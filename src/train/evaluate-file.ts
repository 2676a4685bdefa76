// `nerkit evaluate --model`: a model scored on a labelled file of any format training reads. The
// file's words are tagged by the word tagger that training's dev and test evaluation use
// (../infer/word-tagger.ts), the predicted tags are written as one more column of the file (CoNLL
// input keeps its lines and columns; span files become "token gold predicted" lines), and that
// CoNLL text is scored by evaluateConll, the code behind `nerkit evaluate --gold --pred-column`.
// So the report is the one `evaluate --gold FILE --pred PREDICTIONS` gives on what is written.
// The predicted entities also come back scored (../infer/entity-samples.ts), for calibration quality.

import { NerkitError } from "../errors.js";
import { readTextFile } from "../io/files.js";
import { Corpus, parseCorpus } from "../data/corpus.js";
import { appendTagColumn } from "../data/conll-columns.js";
import { formatConll } from "../data/conll.js";
import { SchemeTable } from "../data/schemes.js";
import { EvaluationMode } from "../metrics/entity-counts.js";
import { FileEvaluation, evaluateConll } from "../metrics/evaluate-files.js";
import { NerPipeline } from "../infer/pipeline.js";
import { TagProgress, finishSteps } from "../infer/word-tagger.js";
import { HeldOutEntities, heldOutEntities } from "../infer/entity-samples.js";
import { labelledSentencesOf } from "./prepare.js";
import { LabelledSentence } from "./examples.js";

export interface EvaluateModelFileOptions {
  mode?: EvaluationMode;
  scheme?: SchemeTable;
  batchSize?: number;
  /** Tokens per window (training's --max-length); what the model reads by default. */
  maxLength?: number;
  onProgress?: (progress: TagProgress) => void;
}

export interface ModelFileEvaluation {
  evaluation: FileEvaluation;
  /** CoNLL text: the input's columns (or token and gold tag), then the predicted tag. */
  predictions: string;
  /** The predicted entities (seqeval's default-mode reading), right or not, with their raw scores and logits. */
  entities: HeldOutEntities;
}

/** A labelled file read for scoring: its text, its kind, and its sentences as training reads them. */
export interface LabelledData {
  file: string;
  text: string;
  kind: Corpus["kind"];
  sentences: LabelledSentence[];
}

/** Reads and checks a labelled file (before a model is loaded, so that bad data fails fast). */
export function readLabelledData(file: string): LabelledData {
  const text = readTextFile(file);
  const { corpus } = parseCorpus(text, { file });
  const sentences = labelledSentencesOf(corpus, file);
  if (sentences.length === 0) throw new NerkitError("E_FORMAT", "the file has no labelled sentences", { file });
  return { file, text, kind: corpus.kind, sentences };
}

export async function evaluateModelOnData(pipeline: NerPipeline, data: LabelledData, options: EvaluateModelFileOptions = {}): Promise<ModelFileEvaluation> {
  const { file, sentences } = data;
  const steps = pipeline.tagWordsWithLogits(sentences.map((s) => s.tokens), { batchSize: options.batchSize, maxLength: options.maxLength });
  const { tags, logits } = await finishSteps(steps, options.onProgress);
  // CoNLL input keeps its own lines, so line numbers in messages are the file's.
  const predictions =
    data.kind === "tokens"
      ? appendTagColumn(data.text, tags, file)
      : formatConll({
          sentences: sentences.map((s, i) => ({ tokens: s.tokens, tags: s.tags, rows: s.tokens.map((t, w) => [t, s.tags[w], tags[i][w]]), line: 0, documentStart: false })),
          columns: 3,
          tagColumn: 1,
        });
  const name = data.kind === "tokens" ? file : `${file} (as CoNLL)`;
  const evaluation = evaluateConll({ gold: { name, text: predictions }, tagColumn: -2, predColumn: -1, mode: options.mode, scheme: options.scheme });
  const entities = heldOutEntities(sentences.map((s) => s.tags), tags, logits);
  return { evaluation, predictions, entities };
}

/** readLabelledData, then evaluateModelOnData. */
export async function evaluateModelOnFile(pipeline: NerPipeline, file: string, options: EvaluateModelFileOptions = {}): Promise<ModelFileEvaluation> {
  return evaluateModelOnData(pipeline, readLabelledData(file), options);
}
