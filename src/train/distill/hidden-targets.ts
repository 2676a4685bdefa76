// The teacher's hidden states carried by each example of a `--match-hidden` run (where they lie in
// the cache file teacher-hidden.ts writes), and their padded batch form, read from that file for
// the batch in hand and widened from binary16 to float32. Shapes: B batch, T tokens, H the
// teacher's width. Its own module (as soft-targets.ts) so that ../examples.ts can name the type
// without importing the teacher.

import { closeSync, openSync, readSync } from "node:fs";
import { NerkitError } from "../../errors.js";
import { f16ToF32 } from "../../model/checkpoint/dtypes.js";

/** Where one example's teacher states lie in the cache file. */
export interface HiddenRows {
  store: TeacherHiddenStore;
  /** Byte offset of the example's first layer. */
  offset: number;
  tokens: number;
}

/** The cache file of a run and what it holds: the teacher layers (ascending) and their width; the teacher layer of each pair, in pair order. */
export interface TeacherHiddenStore {
  file: string;
  layers: number[];
  width: number;
  pairLayers: number[];
}

/**
 * The teacher's states of a batch for each pair's teacher layer, (B, T, H) float32 each (zeros on
 * padding, which the loss does not read), read from the cache file; nothing when the examples carry none.
 */
export function collateTeacherHidden(examples: readonly { teacherHidden?: HiddenRows }[], rows: number, length: number): { teacherHidden: Float32Array[] } | Record<string, never> {
  const first = examples.find((e) => e.teacherHidden)?.teacherHidden;
  if (!first) return {};
  const { store } = first;
  const { pairLayers, width: H } = store;
  const out = pairLayers.map(() => new Float32Array(rows * length * H));
  const fd = openSync(store.file, "r");
  try {
    examples.forEach((e, r) => {
      if (!e.teacherHidden) throw new Error("distillation: an example without the teacher's hidden states");
      const { offset, tokens } = e.teacherHidden;
      const block = new Uint16Array(tokens * store.layers.length * H);
      const read = readSync(fd, new Uint8Array(block.buffer), 0, block.byteLength, offset);
      if (read !== block.byteLength) throw new NerkitError("E_IO", "the teacher-state cache file is shorter than its record says (changed while training?)", { file: store.file });
      pairLayers.forEach((layer, k) => {
        const j = store.layers.indexOf(layer);
        out[k].set(f16ToF32(block.subarray(j * tokens * H, (j + 1) * tokens * H)), r * length * H);
      });
    });
  } finally {
    closeSync(fd);
  }
  return { teacherHidden: out };
}
