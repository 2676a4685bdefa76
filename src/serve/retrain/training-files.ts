// The files a retrain trains and judges on, written into its work folder: the reviewed documents
// for training (reviewed.conll) and the held-out ones (holdout.conll), in the tagging scheme of the
// serving model's labels, and the training file the trainer reads (train.conll): the original
// training data the serving version records, then the reviewed documents. The original data must
// use the model's labels only: `nerkit train --model` keeps a checkpoint's head (and its label
// order) only when every label of the data is one of its own, and would otherwise start a new head.
// What it leaves out: reading the reviews (retrain-documents.ts decides which documents go where).

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { formatConll } from "../../data/conll.js";
import { SCHEMES, SchemeTable } from "../../data/schemes.js";
import { SpanDocument, spansToTags } from "../../data/spans.js";
import { LabelledSentence } from "../../train/examples.js";
import { readLabelledFile } from "../../train/prepare.js";

/** The scheme whose prefixes cover the model's labels (IOB2 unless the labels have S-/E- or L-/U-). */
export function schemeOfLabels(labels: readonly string[]): SchemeTable {
  const prefixes = new Set(labels.filter((l) => l !== "O").map((l) => l.split("-")[0]));
  for (const scheme of [SCHEMES.IOB2, SCHEMES.IOBES, SCHEMES.BILOU]) {
    if ([...prefixes].every((p) => scheme.prefixes.includes(p))) return scheme;
  }
  throw new NerkitError("E_FORMAT", `the serving model's labels (${labels.join(", ")}) follow no scheme reviewed documents can be written in (IOB2, IOBES, BILOU)`);
}

/** Documents as labelled sentences in the scheme (a document is one sentence; one without a word is dropped). */
export function documentSentences(documents: readonly SpanDocument[], scheme: SchemeTable, file: string): LabelledSentence[] {
  return documents
    .map((doc) => {
      const { words, tags } = spansToTags(doc, scheme);
      return { tokens: words.map((w) => w.text), tags, file };
    })
    .filter((s) => s.tokens.length > 0);
}

function writeSentences(path: string, sentences: readonly LabelledSentence[]): void {
  const conll = formatConll({ sentences: sentences.map((s, i) => ({ tokens: s.tokens, tags: s.tags, line: i + 1, documentStart: false })), columns: 2, tagColumn: 1 });
  writeFileSync(path, conll);
}

/** sha256 (hex) of the files' contents, in order. */
export function filesDigest(files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest("hex");
}

export interface TrainingFiles {
  /** What the trainer reads: the original data, then the reviewed documents. */
  train: string;
  /** The reviewed documents for training. */
  reviewed: string;
  /** The held-out reviewed documents; undefined when there are none. */
  holdout?: string;
  trainSentences: number;
  reviewedSentences: number;
  holdoutSentences: number;
}

/**
 * Writes the retrain's files into dir. original: the training data files the serving version
 * records (or --train). Refuses original data with labels the model lacks (naming the file).
 */
export function writeTrainingFiles(dir: string, original: readonly string[], documents: { train: readonly SpanDocument[]; holdout: readonly SpanDocument[] }, labels: readonly string[]): TrainingFiles {
  const known = new Set(labels);
  const originalSentences = original.flatMap((file) => readLabelledFile(file));
  for (const s of originalSentences) {
    const unknown = s.tags.find((tag) => !known.has(tag));
    if (unknown !== undefined) {
      throw new NerkitError("E_TAG", `the original training data has the label ${unknown}, which the serving model does not have (${labels.join(", ")}): a retrain keeps the model's labels`, { file: s.file, line: s.line });
    }
  }
  const scheme = schemeOfLabels(labels);
  const reviewed = join(dir, "reviewed.conll");
  const reviewedSentences = documentSentences(documents.train, scheme, reviewed);
  writeSentences(reviewed, reviewedSentences);
  const train = join(dir, "train.conll");
  writeSentences(train, [...originalSentences, ...reviewedSentences]);
  const holdoutSentences = documentSentences(documents.holdout, scheme, "holdout.conll");
  let holdout: string | undefined;
  if (holdoutSentences.length > 0) {
    holdout = join(dir, "holdout.conll");
    writeSentences(holdout, holdoutSentences);
  }
  return { train, reviewed, holdout, trainSentences: originalSentences.length + reviewedSentences.length, reviewedSentences: reviewedSentences.length, holdoutSentences: holdoutSentences.length };
}
