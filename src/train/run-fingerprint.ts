// What makes two training runs the same run, so that `--resume` continues only its own checkpoint:
// hashes of the tokenized training and dev data, of the starting weights with the model's config
// and of the tokenizer files, plus every setting that shapes the schedule, the data order, the
// updates or the choice of the best checkpoint. It is stored in each checkpoint's trainer state.
// Left out on purpose: --threads (speed only), --save-every (which states are written, not what
// they hold), --test (scored once after training) and file paths (a moved folder is the same run).

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import { TOKENIZER_FILES } from "../text/tokenizers/tokenizer-files.js";
import { Example, LabelledSentence } from "./examples.js";
import type { HiddenMatchingSettings } from "../model/graph/hidden-matching-loss.js";

/** Field name (as the user knows it: an option name or a word for the input) → value as text. */
export type RunFingerprint = Record<string, string>;

/** The settings that shape a run: a resumed run must have the same (TrainSettings adds the others). */
export interface ShapingSettings {
  epochs: number;
  batchSize: number;
  gradAccum: number;
  maxSteps?: number;
  lr: number;
  warmupSteps?: number;
  warmupRatio?: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  shuffle: boolean;
  /** Batches of like length (transformers' group_by_length), length-groups.ts. */
  groupByLength?: boolean;
  metric: string;
  evalEvery: "epoch" | number;
  earlyStopping?: number;
  classWeights?: Float32Array;
  /**
   * `nerkit distill`: its temperature and α, and the key of the teacher's cached logits (teacher,
   * data and tokenization); with --match-hidden, the pairs, β and the key of the teacher's cached states.
   */
  distillation?: { temperature: number; alpha: number; teacher: string; hidden?: HiddenMatchingSettings & { teacherStates: string } };
}

export interface RunContent {
  arch: Architecture;
  config: Record<string, unknown>;
  weights: ReadonlyMap<string, Float32Array>;
  tokenizerDir: string;
  train: readonly Example[];
  dev?: readonly LabelledSentence[];
  /** Tokens per example (training's pieces and dev's windows). */
  maxLength: number;
}

function digest(update: (hash: ReturnType<typeof createHash>) => void): string {
  const hash = createHash("sha256");
  update(hash);
  return `sha256:${hash.digest("hex").slice(0, 16)}`;
}

/** The training examples as the model sees them: ids and labels. */
function examplesDigest(examples: readonly Example[]): string {
  return digest((hash) => {
    for (const e of examples) hash.update(JSON.stringify([e.inputIds, e.labels]) + "\n");
  });
}

/** The dev sentences as they are scored: words and gold tags (the tokenizer and --max-length have digests of their own). */
function sentencesDigest(sentences: readonly LabelledSentence[]): string {
  return digest((hash) => {
    for (const s of sentences) hash.update(JSON.stringify([s.tokens, s.tags]) + "\n");
  });
}

function weightsDigest(config: Record<string, unknown>, weights: ReadonlyMap<string, Float32Array>): string {
  return digest((hash) => {
    hash.update(JSON.stringify(config));
    for (const name of [...weights.keys()].sort()) {
      const data = weights.get(name)!;
      hash.update(name);
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}

function tokenizerDigest(dir: string): string {
  return digest((hash) => {
    for (const file of TOKENIZER_FILES) {
      if (!existsSync(join(dir, file))) continue;
      hash.update(file);
      hash.update(readFileSync(join(dir, file)));
    }
  });
}

const text = (value: number | string | boolean | undefined): string => (value === undefined ? "none" : String(value));

export function runFingerprint(content: RunContent, settings: ShapingSettings): RunFingerprint {
  return {
    "training data": examplesDigest(content.train),
    "dev data": content.dev && content.dev.length > 0 ? sentencesDigest(content.dev) : "none",
    labels: content.arch.labels.join(" "),
    "model (config and starting weights)": weightsDigest(content.config, content.weights),
    tokenizer: tokenizerDigest(content.tokenizerDir),
    "--max-length": text(content.maxLength),
    "--epochs": text(settings.maxSteps && settings.maxSteps > 0 ? undefined : settings.epochs),
    "--max-steps": text(settings.maxSteps && settings.maxSteps > 0 ? settings.maxSteps : undefined),
    "--batch-size": text(settings.batchSize),
    "--grad-accum": text(settings.gradAccum),
    "--lr": text(settings.lr),
    "--warmup-steps": text(settings.warmupSteps),
    "--warmup-ratio": text(settings.warmupRatio),
    "--weight-decay": text(settings.weightDecay),
    "--max-grad-norm": text(settings.maxGradNorm),
    "--seed": text(settings.seed),
    shuffle: text(settings.shuffle),
    // Recorded only when on: checkpoints written before the option existed hold no such field and
    // are the same run as one without it.
    ...(settings.groupByLength ? { "--group-by-length": "on" } : {}),
    "--class-weights": settings.classWeights ? [...settings.classWeights].map((w) => w.toPrecision(6)).join(" ") : "none",
    "--metric": settings.metric,
    "--eval-every": text(settings.evalEvery),
    "--early-stopping": text(settings.earlyStopping),
    ...(settings.distillation
      ? { "--temperature": text(settings.distillation.temperature), "--alpha": text(settings.distillation.alpha), "teacher logits": settings.distillation.teacher }
      : {}),
    // Recorded only when on, as --group-by-length.
    ...(settings.distillation?.hidden
      ? {
          "--match-hidden": settings.distillation.hidden.pairs.map((p) => `${p.teacher}:${p.student}`).join(","),
          "--hidden-weight": text(settings.distillation.hidden.weight),
          "teacher hidden states": settings.distillation.hidden.teacherStates,
        }
      : {}),
  };
}

/** Each field whose value differs, with the checkpoint's value and the current one. */
export function fingerprintDifferences(saved: RunFingerprint, current: RunFingerprint): { field: string; saved: string; current: string }[] {
  const fields = new Set([...Object.keys(current), ...Object.keys(saved)]);
  return [...fields]
    .filter((field) => saved[field] !== current[field])
    .map((field) => ({ field, saved: saved[field] ?? "(not recorded)", current: current[field] ?? "(not recorded)" }));
}

/** Refuses to resume `checkpointDir` unless it was written by the same run. */
export function checkSameRun(checkpointDir: string, saved: RunFingerprint | undefined, current: RunFingerprint): void {
  if (!saved) {
    throw new NerkitError("E_USAGE", `--resume: ${checkpointDir} records no run fingerprint (written by an older nerkit), so it cannot be checked to belong to this run; start again with --overwrite`);
  }
  const differences = fingerprintDifferences(saved, current);
  if (differences.length === 0) return;
  const list = differences.map((d) => `${d.field}: ${d.saved} in the checkpoint, ${d.current} now`).join("; ");
  throw new NerkitError("E_USAGE", `--resume: ${checkpointDir} belongs to a different run (${list}); resume with the same data, model and settings, or start again with --overwrite or another --out`);
}
