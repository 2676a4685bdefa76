// The teacher's hidden states for `nerkit distill --match-hidden`: computed once (the teacher run
// over every training example, ../../model/graph/hidden-states-graph.ts) at the teacher layers the
// pairs name, on every token of each example (the loss reads all non-padding tokens), and cached on
// disk as binary16 beside the teacher's logits (teacher-cache.ts), so that later epochs, a resumed
// run and other students of the same teacher, data and layers read them instead of running the
// teacher. A cache entry is <key>.hidden.f16 (example after example, each its layers one after
// another, (tokens, H) each, little-endian binary16) and <key>.hidden.json (written last: an entry
// without it is computed again). The key is a SHA-256 of the teacher's files, the layers and every
// example's token ids.
// Size: 2 bytes × H × layers × tokens, e.g. CoNLL-2003's training set (309,080 tokens with
// [CLS] and [SEP]) at two layers of a 512-wide teacher is about 600 MiB. So the states are never
// held in memory: each batch reads its examples' rows from the file (hidden-targets.ts), and a
// cache larger than the limit (--hidden-cache-limit, 8 GiB by default) is refused before anything
// runs, with the size it would take. Left out: removing old entries.

import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { writeFileAtomic } from "../../io/files.js";
import { ort } from "../../model/onnx-runtime.js";
import { HOST_IS_LITTLE_ENDIAN, f32ToF16 } from "../../model/checkpoint/dtypes.js";
import { buildHiddenStatesModel, hiddenStatesOutput } from "../../model/graph/hidden-states-graph.js";
import { Example } from "../examples.js";
import { teacherBatches } from "./teacher-batches.js";
import { Teacher } from "./teacher-cache.js";
import { TeacherHiddenStore } from "./hidden-targets.js";

export interface TeacherHidden {
  key: string;
  file: string;
  reused: boolean;
  bytes: number;
}

export function hiddenCacheKey(teacher: Teacher, layers: readonly number[], examples: readonly Example[]): string {
  const hash = createHash("sha256");
  for (const file of teacher.files) hash.update(readFileSync(file));
  hash.update(JSON.stringify({ hiddenStates: layers }));
  for (const e of examples) hash.update(JSON.stringify(e.inputIds) + "\n");
  return hash.digest("hex").slice(0, 32);
}

/** Bytes the cache of the teacher's `pairLayers` takes for `examples`; refused over `limitBytes`, before anything runs. */
export function checkHiddenCacheLimit(teacher: Teacher, pairLayers: readonly number[], examples: readonly Example[], limitBytes: number): number {
  const layers = [...new Set(pairLayers)].sort((a, b) => a - b);
  const bytes = examples.reduce((n, e) => n + e.inputIds.length, 0) * layers.length * teacher.arch.hidden * 2;
  if (bytes > limitBytes) {
    throw new NerkitError(
      "E_USAGE",
      `--match-hidden: the teacher's hidden states at layers ${layers.join(", ")} would take ${size(bytes)} on disk (2 bytes × width ${teacher.arch.hidden} × ${layers.length} layers × every token), over --hidden-cache-limit (${size(limitBytes)}): match fewer teacher layers, train on less data, or raise the limit`,
    );
  }
  return bytes;
}

/** A size in the largest binary unit under it. */
export function size(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 2 ** 10)} KiB`;
}

/**
 * Gives each example its place in the cache (`example.teacherHidden`): the cache entry when there is
 * one, else the teacher is run over the examples and the entry written. Refuses a cache over `limitBytes`.
 */
export async function attachTeacherHidden(
  teacher: Teacher,
  examples: Example[],
  pairLayers: readonly number[],
  options: { cacheDir: string; batchSize: number; padTokenId: number; limitBytes: number; threads?: number },
): Promise<TeacherHidden> {
  if (!HOST_IS_LITTLE_ENDIAN) throw new NerkitError("E_USAGE", "the teacher-state cache is little-endian; this host is not");
  const layers = [...new Set(pairLayers)].sort((a, b) => a - b);
  const bytes = checkHiddenCacheLimit(teacher, layers, examples, options.limitBytes);
  const key = hiddenCacheKey(teacher, layers, examples);
  const file = join(options.cacheDir, `${key}.hidden.f16`);
  const meta = join(options.cacheDir, `${key}.hidden.json`);
  const store: TeacherHiddenStore = { file, layers, width: teacher.arch.hidden, pairLayers: [...pairLayers] };
  // A file of another size cannot hold these states (a damaged entry): it is computed again.
  const reused = existsSync(meta) && existsSync(file) && statSync(file).size === bytes;
  if (!reused) {
    mkdirSync(options.cacheDir, { recursive: true });
    await runTeacher(teacher, examples, store, options);
    const record = { teacher: teacher.dir, layers, examples: examples.length, tokens: bytes / (2 * layers.length * store.width), dtype: "F16", width: store.width };
    writeFileAtomic(meta, JSON.stringify(record, null, 2) + "\n");
  }
  let offset = 0;
  for (const e of examples) {
    e.teacherHidden = { store, offset, tokens: e.inputIds.length };
    offset += e.inputIds.length * layers.length * store.width * 2;
  }
  return { key, file, reused, bytes };
}

/** Runs the teacher over every example (batches of similar lengths) and writes the cache file, each example's rows at its offset. */
async function runTeacher(teacher: Teacher, examples: readonly Example[], store: TeacherHiddenStore, options: { batchSize: number; padTokenId: number; threads?: number }): Promise<void> {
  const { layers, width: H } = store;
  const offsets: number[] = [];
  let total = 0;
  for (const e of examples) {
    offsets.push(total);
    total += e.inputIds.length * layers.length * H * 2;
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", interOpNumThreads: 1 };
  if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
  const session = await ort.InferenceSession.create(buildHiddenStatesModel(teacher.arch, teacher.weights, layers), sessionOptions);
  const temp = `${store.file}.${process.pid}.tmp`;
  const fd = openSync(temp, "w");
  try {
    for (const { rows, length: T, inputIds, attentionMask } of teacherBatches(examples, options.batchSize, options.padTokenId)) {
      const dims = [rows.length, T];
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor("int64", inputIds, dims), attention_mask: new ort.Tensor("int64", attentionMask, dims) };
      if (teacher.arch.modelType === "bert") feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(rows.length * T), dims);
      const out = await session.run(feeds);
      rows.forEach((i, r) => {
        const n = examples[i].inputIds.length;
        layers.forEach((layer, j) => {
          const states = (out[hiddenStatesOutput(layer)].data as Float32Array).subarray(r * T * H, (r * T + n) * H); // (n, H)
          const half = f32ToF16(states);
          writeSync(fd, new Uint8Array(half.buffer), 0, half.byteLength, offsets[i] + j * n * H * 2);
        });
      });
    }
    closeSync(fd);
    renameSync(temp, store.file);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  } finally {
    await session.release();
  }
}
