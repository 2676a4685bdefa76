// Sharded checkpoints: `model.safetensors.index.json` maps each tensor to the shard file that holds
// it (`{"metadata": {...}, "weight_map": {tensor: file}}`, as transformers writes it). The shards are
// opened (headers only) and merged into one TensorStore. A missing shard, a shard name that leaves
// the folder, or a tensor the map places in a shard that lacks it is an error. Tensors a shard holds
// but the map does not list are not exposed: the map is what transformers loads from.

import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { NerkitError } from "../../errors.js";
import { readTextFile } from "../../io/files.js";
import { FloatTensor, IntegerTensor, SafetensorsFile, TensorInfo, TensorStore, readSafetensors } from "./safetensors.js";

export const SHARD_INDEX_FILE = "model.safetensors.index.json";

export interface ShardedSafetensors extends TensorStore {
  readonly indexPath: string;
  /** Shard file names, relative to the index's folder, in first-use order. */
  readonly shards: readonly string[];
  /** The index's `metadata` object (transformers puts `total_size` there). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Reads the index's weight map, checking its shape and that every shard name stays in the folder. */
export function parseShardIndex(text: string, indexPath: string): { weightMap: Map<string, string>; metadata: Record<string, unknown> } {
  const fail = (message: string, field?: string) => new NerkitError("E_FORMAT", message, { file: indexPath, field });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`not valid JSON: ${(error as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(json) || !isObject(json.weight_map)) throw fail('no "weight_map" object');
  const metadata = isObject(json.metadata) ? json.metadata : {};
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(json.weight_map)) {
    if (typeof shard !== "string" || shard === "") throw fail("shard file name is not a string", tensor);
    const parts = shard.split(/[\\/]/);
    if (isAbsolute(shard) || parts.includes("..") || parts.includes("")) {
      throw fail(`shard file ${JSON.stringify(shard)} is not a plain file name inside the checkpoint folder`, tensor);
    }
    weightMap.set(tensor, shard);
  }
  if (weightMap.size === 0) throw fail("weight_map is empty");
  return { weightMap, metadata };
}

/** Opens a sharded checkpoint from its index file. */
export function readShardedSafetensors(indexPath: string): ShardedSafetensors {
  const { weightMap, metadata } = parseShardIndex(readTextFile(indexPath), indexPath);
  const folder = dirname(indexPath);
  const files = new Map<string, SafetensorsFile>();
  for (const [tensor, shard] of weightMap) {
    let file = files.get(shard);
    if (!file) {
      const path = join(folder, shard);
      if (!existsSync(path)) {
        throw new NerkitError("E_IO", `shard ${shard} listed in the index is missing`, { file: indexPath, field: tensor });
      }
      file = readSafetensors(path);
      files.set(shard, file);
    }
    if (!file.has(tensor)) {
      throw new NerkitError("E_FORMAT", `the index places this tensor in ${shard}, which does not hold it`, { file: indexPath, field: tensor });
    }
  }
  const fileOf = (name: string): SafetensorsFile => {
    const shard = weightMap.get(name);
    if (shard === undefined) throw new NerkitError("E_FORMAT", "no tensor of that name in the checkpoint", { file: indexPath, field: name });
    return files.get(shard)!;
  };
  return {
    indexPath,
    shards: [...files.keys()],
    metadata,
    names: [...weightMap.keys()],
    has: (name: string) => weightMap.has(name),
    info: (name: string): TensorInfo => fileOf(name).info(name),
    tensor: (name: string, into?: Float32Array): FloatTensor => fileOf(name).tensor(name, into),
    integerTensor: (name: string): IntegerTensor => fileOf(name).integerTensor(name),
  };
}
