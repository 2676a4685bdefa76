// What the retrain tests share: a serving version (the bert-tiny fixture, random weights with
// CoNLL's nine labels) with a few original training sentences, reviewed documents made from the
// demo's dev sentences (corrections carrying their gold spans), and settings for a run of 2 steps.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { parseConll } from "../src/data/conll.js";
import { tagsToSpans } from "../src/data/spans.js";
import { JobRepository, ReviewedResult } from "../src/serve/storage/repository.js";
import { repoRoot } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";
import { MemoryRegistry } from "./memory-registry.js";

export const demoGold = join(repoRoot, "examples", "demo", "gold.conll");
const demoDev = join(repoRoot, "examples", "demo", "dev.conll");
const demoTrain = join(repoRoot, "examples", "demo", "train.conll");

function sentences(file: string, from: number, count: number) {
  return parseConll(readFileSync(file, "utf8")).sentences.filter((s) => s.tokens.length > 0).slice(from, from + count);
}

/** The first `count` training sentences of the demo, written as CoNLL into dir. */
export function originalTraining(dir: string, count = 8): string {
  const path = join(dir, "original.conll");
  writeFileSync(path, sentences(demoTrain, 0, count).map((s) => s.tokens.map((t, i) => `${t} ${s.tags[i]}`).join("\n")).join("\n\n") + "\n");
  return path;
}

/** `count` reviewed documents (dev sentences, each corrected to its gold spans by one reviewer). */
export function reviewedDocuments(count: number, jobId = "job-retrain"): ReviewedResult[] {
  return sentences(demoDev, 0, count).map((s, seq) => {
    const doc = tagsToSpans(s.tokens, s.tags);
    return { jobId, seq, text: doc.text, entities: [], decision: "review", reviews: [{ reviewer: "ann", action: "correct", spans: doc.spans, createdAt: new Date(seq * 1000).toISOString() }] };
  });
}

/** Stores `count` reviewed documents (reviewedDocuments) in `repository`: one job, a "review" result each, ann's correction of each. */
export async function storeReviewedDocuments(repository: JobRepository, count: number): Promise<void> {
  const documents = reviewedDocuments(count);
  const job = await repository.createJob(documents.map((d) => ({ text: d.text })));
  await repository.saveResults(job.id, documents.map((_, seq) => ({ seq, entities: [], decision: "review" })));
  for (const [seq, d] of documents.entries()) await repository.saveReview({ jobId: job.id, seq, reviewer: "ann", action: "correct", spans: d.reviews[0].spans });
}

/** A registry whose serving v1 is the bert-tiny fixture trained (as recorded) on `original`. */
export function tinyRegistry(root: string, original: string): MemoryRegistry {
  return new MemoryRegistry(root, { folder: tinyModelDir("bert"), trainingData: { files: [original], sha256: "0".repeat(64), reviewedDocuments: 0 } });
}

/** `nerkit train` options of a run short enough for a test. */
export const shortTraining = ["--max-steps", "2", "--batch-size", "4", "--lr", "1e-3", "--threads", "1"];
