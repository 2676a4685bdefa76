// Opens a Hugging Face checkpoint folder: config.json (typed by config.ts) and the weights, either
// one model.safetensors or a model.safetensors.index.json with its shards. Tensor values are read
// when the model asks for them. Left out: pytorch_model.bin and other pickle formats (they need a
// pickle interpreter; convert them to safetensors with transformers first), tokenizer files (the
// tokenizer module reads them from the same folder).

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { NerkitError } from "../../errors.js";
import { ModelConfig, readModelConfig } from "./config.js";
import { TensorStore, readSafetensors } from "./safetensors.js";
import { SHARD_INDEX_FILE, readShardedSafetensors } from "./sharded.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  weights: TensorStore;
  /** The weight files opened: model.safetensors, or the index followed by its shards. */
  weightFiles: string[];
}

/** Opens the weights of a checkpoint folder, preferring a single file over a sharded index. */
export function openWeights(dir: string): { weights: TensorStore; weightFiles: string[] } {
  const single = join(dir, WEIGHTS_FILE);
  if (existsSync(single)) return { weights: readSafetensors(single), weightFiles: [single] };
  const index = join(dir, SHARD_INDEX_FILE);
  if (existsSync(index)) {
    const sharded = readShardedSafetensors(index);
    return { weights: sharded, weightFiles: [index, ...sharded.shards.map((s) => join(dir, s))] };
  }
  const pickle = existsSync(join(dir, "pytorch_model.bin")) ? "; it has pytorch_model.bin, which nerkit does not read: save the model with safe_serialization=True" : "";
  // An export made with --no-safetensors holds only the ONNX graph, which nerkit never reads.
  const onnx = existsSync(join(dir, "onnx")) ? "; its onnx/ graph is for transformers.js and ONNX Runtime: nerkit builds its own graph from the safetensors weights (export again without --no-safetensors)" : "";
  throw new NerkitError("E_IO", `no ${WEIGHTS_FILE} or ${SHARD_INDEX_FILE}${pickle}${onnx}`, { file: dir });
}

/** Reads config.json and opens the weights of the checkpoint in `dir`. */
export function loadCheckpoint(dir: string): Checkpoint {
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new NerkitError("E_IO", "not a checkpoint folder: no such directory", { file: dir });
  }
  const configPath = join(folder, CONFIG_FILE);
  if (!existsSync(configPath)) throw new NerkitError("E_IO", `no ${CONFIG_FILE} in the checkpoint folder`, { file: dir });
  const config = readModelConfig(configPath);
  return { dir: folder, config, ...openWeights(folder) };
}
