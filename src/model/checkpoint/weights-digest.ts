// The sha256 of a checkpoint's weights, so that a file fitted on one set of weights (calibration.json)
// can tell when the folder now holds others (`train --resume` into the folder, weights copied over
// by hand). The weight files are the ones loading opens (./load-checkpoint.ts: model.safetensors,
// or the shard index followed by its shards in name order), read in chunks so that a large model
// is hashed without a second copy of it in memory. A process reads a model's calibration several
// times (loading it, serve's --target-precision, each promotion, a retrain's judging), so digests are
// kept per file identity (device, inode, size, modification time in ns): the same files are hashed
// once, and a file rewritten or replaced since (`train --resume`) is hashed again.
// What it leaves out: the ONNX graph of an export (nerkit builds its graph from the safetensors).

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { WEIGHTS_FILE } from "./load-checkpoint.js";
import { SHARD_INDEX_FILE, parseShardIndex } from "./sharded.js";

const CHUNK_BYTES = 16 * 1024 * 1024;

/** The weight files of the checkpoint in `dir` in hashing order; empty when it has none. */
export function weightFilesOf(dir: string): string[] {
  const single = join(dir, WEIGHTS_FILE);
  if (existsSync(single)) return [single];
  const index = join(dir, SHARD_INDEX_FILE);
  if (!existsSync(index)) return [];
  const shards = new Set(parseShardIndex(readFileSync(index, "utf8"), index).weightMap.values());
  return [index, ...[...shards].sort().map((s) => join(dir, s))];
}

/** Digests already computed in this process, by the identity of the files hashed. */
const known = new Map<string, string>();

/** What changes when a file is rewritten or replaced. */
function identity(files: readonly string[]): string {
  return files
    .map((file) => {
      const s = statSync(file, { bigint: true });
      return `${file}\u0000${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    })
    .join("\u0001");
}

/** "sha256:" and the hex digest of the weight files' bytes, in order; undefined when the folder has none. */
export function weightsDigest(dir: string): string | undefined {
  const files = weightFilesOf(dir);
  if (files.length === 0) return undefined;
  const key = identity(files);
  let digest = known.get(key);
  if (digest === undefined) known.set(key, (digest = hashFiles(files)));
  return digest;
}

function hashFiles(files: readonly string[]): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  for (const file of files) {
    const fd = openSync(file, "r");
    try {
      for (let n; (n = readSync(fd, buffer, 0, CHUNK_BYTES, null)) > 0; ) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return `sha256:${hash.digest("hex")}`;
}
