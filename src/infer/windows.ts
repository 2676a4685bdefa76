// Long texts as overlapping windows of tokens, the way Hugging Face tokenizers cut an encoding with
// return_overflowing_tokens: windows of `size` content tokens that start every `size - stride`
// tokens, the last one ending at the text's end. Special tokens are added to each window later.
// Sentence-aware windows (which prefer to end at a sentence boundary) are the nerkit option beside it.

import { NerkitError } from "../errors.js";

export interface TokenRange {
  start: number;
  end: number;
}

/** Hugging Face's overflow windows over `count` tokens. */
export function overflowWindows(count: number, size: number, stride: number): TokenRange[] {
  if (size <= 0) throw new NerkitError("E_USAGE", `the window must hold at least one token besides special tokens (got ${size})`);
  if (stride >= size) throw new NerkitError("E_USAGE", `--stride (${stride}) must be smaller than the window's ${size} content tokens`);
  if (count <= size) return [{ start: 0, end: count }];
  const windows: TokenRange[] = [];
  for (let start = 0; start < count; start += size - stride) {
    const end = Math.min(start + size, count);
    windows.push({ start, end });
    if (end === count) break;
  }
  return windows;
}

/**
 * Windows that end at a sentence boundary when one falls in the last part of the window, so that
 * an entity is rarely cut and each window reads like whole sentences. `boundaries` are token
 * indices where a sentence starts. Consecutive windows still overlap by up to `stride` tokens.
 */
export function sentenceWindows(count: number, size: number, stride: number, boundaries: readonly number[]): TokenRange[] {
  if (count <= size) return [{ start: 0, end: count }];
  const windows: TokenRange[] = [];
  let start = 0;
  for (;;) {
    let end = Math.min(start + size, count);
    if (end < count) {
      // The latest sentence start in the second half of the window ends it, if any.
      const cut = [...boundaries].reverse().find((b) => b < end && b > start + size / 2);
      if (cut !== undefined) end = cut;
    }
    windows.push({ start, end });
    if (end === count) return windows;
    const next = Math.max(end - stride, start + 1);
    const sentenceStart = boundaries.find((b) => b >= next && b < end);
    start = sentenceStart ?? next;
  }
}
