// Training checkpoints in Hugging Face layout, written so that a crash never leaves one that
// cannot load: everything goes into a temporary folder that is renamed into place at the end.
// A checkpoint folder holds config.json (with the trained label set), model.safetensors and the
// tokenizer files (what `nerkit predict` and transformers load), plus optimizer.safetensors and
// trainer_state.json, which `--resume` reads. optimizer.safetensors holds the AdamW moments and the
// parameters of training only (distillation's projections), which never go into the model.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NerkitError } from "../errors.js";
import { ioReason, writeFileAtomic } from "../io/files.js";
import { writeSafetensors } from "../model/checkpoint/safetensors-writer.js";
import { readSafetensors } from "../model/checkpoint/safetensors.js";
import { ParameterSpec } from "../model/parameters.js";
import { Architecture } from "../model/architecture.js";
import type { RunFingerprint } from "./run-fingerprint.js";
import { TOKENIZER_FILES } from "../text/tokenizers/tokenizer-files.js";

const ARCHITECTURES: Record<string, string> = {
  bert: "BertForTokenClassification",
  distilbert: "DistilBertForTokenClassification",
  roberta: "RobertaForTokenClassification",
  "xlm-roberta": "XLMRobertaForTokenClassification",
};

export interface TrainerState {
  /** Optimizer updates done. */
  updates: number;
  epoch: number;
  /** Batches of the current epoch already used. */
  batchInEpoch: number;
  /** Shuffle generator state at the start of the current epoch. */
  epochRandomState: number;
  /** Dropout noise generator state after the last update. */
  dropoutRandomState: number;
  bestMetric?: number;
  bestCheckpoint?: string;
  evaluationsWithoutImprovement: number;
  totalUpdates: number;
  /** What makes this run this run (data, model, shaping settings): --resume continues only a match. */
  run?: RunFingerprint;
}

/** config.json of the trained model: the base config with the new labels and head class. */
export function trainedConfig(baseConfig: Record<string, unknown>, arch: Architecture): Record<string, unknown> {
  const id2label = Object.fromEntries(arch.labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(arch.labels.map((l, i) => [l, i]));
  return { ...baseConfig, architectures: [ARCHITECTURES[arch.modelType]], id2label, label2id };
}

export interface CheckpointContent {
  config: Record<string, unknown>;
  parameters: readonly ParameterSpec[];
  tensor: (name: string) => Float32Array;
  /**
   * Optimizer moments and trainer state, and the parameters of training only (`parameters` being
   * the model's), read with `moments` too; absent for the final model folder.
   */
  training?: { moments: (name: string) => Float32Array; momentNames: string[]; state: TrainerState; parameters?: readonly ParameterSpec[] };
  tokenizerDir: string;
}

/** Writes the model files (config, weights, tokenizer) into `dir`, each file atomically. */
export function saveModelFiles(dir: string, content: CheckpointContent): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, "config.json"), JSON.stringify(content.config, null, 2) + "\n");
  const tensors = Object.fromEntries(content.parameters.map((p) => [p.name, { shape: p.shape, data: content.tensor(p.name) }]));
  writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  for (const file of TOKENIZER_FILES) {
    if (existsSync(join(content.tokenizerDir, file))) writeFileAtomic(join(dir, file), readFileSync(join(content.tokenizerDir, file)));
  }
}

/** Writes a checkpoint folder atomically (replacing an older one of the same name). */
export function saveCheckpoint(dir: string, content: CheckpointContent): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const temp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  try {
    saveModelFiles(temp, content);
    if (content.training) {
      const { moments, momentNames, state } = content.training;
      const trainingOnly = content.training.parameters ?? [];
      const shapes = new Map([...content.parameters, ...trainingOnly].map((p) => [p.name, p.shape]));
      const names = [...momentNames, ...trainingOnly.map((p) => p.name)];
      writeSafetensors(
        join(temp, "optimizer.safetensors"),
        Object.fromEntries(names.map((n) => [n, { shape: shapes.get(n.replace(/^adam_[mv]\./, ""))!, data: moments(n) }])),
      );
      writeFileAtomic(join(temp, "trainer_state.json"), JSON.stringify(state, null, 2) + "\n");
    }
    const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(temp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    // A file's error names it inside the temporary folder, which the user never chose: name the checkpoint.
    if (error instanceof NerkitError) throw new NerkitError(error.code, error.message, { line: error.line, field: error.field, file: error.file?.startsWith(temp) ? dir + error.file.slice(temp.length) : error.file });
    throw new NerkitError("E_IO", `cannot write the checkpoint: ${ioReason(error)}`, { file: dir });
  }
}

/** The newest complete training checkpoint under `outDir` (checkpoint-<updates>), if any. */
export function latestCheckpoint(outDir: string): string | undefined {
  if (!existsSync(outDir)) return undefined;
  const steps = readdirSync(outDir)
    .map((name) => /^checkpoint-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(outDir, m[0], "trainer_state.json")))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length > 0 ? join(outDir, `checkpoint-${steps[0]}`) : undefined;
}

export function readTrainerState(dir: string): { state: TrainerState; moments: (name: string) => Float32Array | undefined } {
  const state = JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8")) as TrainerState;
  const optimizer = readSafetensors(join(dir, "optimizer.safetensors"));
  return { state, moments: (name) => (optimizer.has(name) ? optimizer.tensor(name).data : undefined) };
}
