// The teacher's logits for distillation, computed once with nerkit's inference (the eval-mode
// graph of ../../model/session.ts) on the very token ids the student trains on, kept on the
// tokens that take the soft loss, and cached on disk as binary16 so that later epochs, a resumed
// run and other students of the same teacher and data read them instead of running the teacher.
// A cache entry is two files in the cache folder: <key>.f16 (the logits, little-endian binary16,
// example after example, (positions, L) each) and <key>.json (what they are, written last: an
// entry without it is incomplete and computed again). The key is a SHA-256 of the teacher's
// config.json and weight files, its label list, and every example's ids and soft positions (the
// data and its tokenization), so a changed teacher or data never meets a stale entry.
// Left out: removing old entries (they are small: 2 bytes × L per word).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { writeFileAtomic } from "../../io/files.js";
import { Architecture } from "../../model/architecture.js";
import { HOST_IS_LITTLE_ENDIAN, f32ToF16 } from "../../model/checkpoint/dtypes.js";
import { Tensor } from "../../model/graph/encoder.js";
import { TokenClassifierSession } from "../../model/session.js";
import { Example } from "../examples.js";
import { teacherBatches } from "./teacher-batches.js";

export interface Teacher {
  dir: string;
  arch: Architecture;
  weights: (name: string) => Tensor;
  /** config.json and the weight files, hashed into the cache key. */
  files: string[];
}

export interface TeacherTargets {
  key: string;
  file: string;
  /** True when the logits came from the cache, false when the teacher ran (and the cache was written). */
  reused: boolean;
  /** Tokens with soft targets. */
  tokens: number;
}

export function teacherCacheKey(teacher: Teacher, examples: readonly Example[], positions: readonly number[][]): string {
  const hash = createHash("sha256");
  for (const file of teacher.files) hash.update(readFileSync(file));
  hash.update(JSON.stringify(teacher.arch.labels));
  examples.forEach((e, i) => hash.update(JSON.stringify([e.inputIds, positions[i]]) + "\n"));
  return hash.digest("hex").slice(0, 32);
}

/**
 * Gives each example its soft targets (`example.soft`): from the cache folder when it holds them,
 * else by running the teacher over the examples (batches of similar lengths) and caching the result.
 */
export async function attachTeacherLogits(
  teacher: Teacher,
  examples: Example[],
  positions: readonly number[][],
  options: { cacheDir: string; batchSize: number; padTokenId: number; threads?: number },
): Promise<TeacherTargets> {
  if (!HOST_IS_LITTLE_ENDIAN) throw new NerkitError("E_USAGE", "the teacher-logit cache is little-endian; this host is not");
  const labelCount = teacher.arch.labels.length;
  const key = teacherCacheKey(teacher, examples, positions);
  const file = join(options.cacheDir, `${key}.f16`);
  const meta = join(options.cacheDir, `${key}.json`);
  const tokens = positions.reduce((n, p) => n + p.length, 0);
  let all: Uint16Array | undefined;
  if (existsSync(meta) && existsSync(file)) {
    // A file of another size cannot hold these logits (a damaged entry): it is computed again.
    const bytes = readFileSync(file);
    if (bytes.byteLength === tokens * labelCount * 2) all = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  const reused = all !== undefined;
  if (!all) {
    all = await runTeacher(teacher, examples, positions, options);
    mkdirSync(options.cacheDir, { recursive: true });
    writeFileAtomic(file, new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    const record = { teacher: teacher.dir, labels: teacher.arch.labels, examples: examples.length, tokens, dtype: "F16", shape: [tokens, labelCount] };
    writeFileAtomic(meta, JSON.stringify(record, null, 2) + "\n");
  }
  let offset = 0;
  examples.forEach((e, i) => {
    const size = positions[i].length * labelCount;
    e.soft = { positions: positions[i], logits: all!.subarray(offset, offset + size), labelCount };
    offset += size;
  });
  return { key, file, reused, tokens };
}

/** The teacher's logits on every example's positions, (tokens, L) binary16, in example order. */
async function runTeacher(teacher: Teacher, examples: readonly Example[], positions: readonly number[][], options: { batchSize: number; padTokenId: number; threads?: number }): Promise<Uint16Array> {
  const labelCount = teacher.arch.labels.length;
  const offsets: number[] = [];
  let total = 0;
  for (const p of positions) {
    offsets.push(total);
    total += p.length * labelCount;
  }
  const out = new Uint16Array(total);
  const session = await TokenClassifierSession.create(teacher.arch, teacher.weights, { threads: options.threads });
  try {
    for (const { rows, length, inputIds, attentionMask } of teacherBatches(examples, options.batchSize, options.padTokenId)) {
      const logits = await session.run({ rows: rows.length, length, inputIds, attentionMask }); // (B, T, L)
      rows.forEach((i, r) => {
        positions[i].forEach((t, p) => {
          const row = logits.subarray((r * length + t) * labelCount, (r * length + t + 1) * labelCount);
          out.set(f32ToF16(row), offsets[i] + p * labelCount);
        });
      });
    }
  } finally {
    await session.release();
  }
  return out;
}
