// Windows over a sentence of pre-split words, for a sentence longer than the model reads: each
// window is a run of whole words whose sub-tokens fit in `room`, consecutive windows share up to
// `stride` tokens of words, and each word is read from exactly one window that holds it (in an
// overlap, the first half of the shared words from the earlier window, the rest from the later one,
// so that every word keeps some context on both sides). Nothing is cut: a word that alone is longer
// than the window gets a window of its own, in which its first sub-tokens (the one that carries
// its label included) are read. Token-level windows over raw text are ./windows.ts.

import { NerkitError } from "../errors.js";

export interface WordWindow {
  /** Words [start, end) are read by the model in this window. */
  start: number;
  end: number;
  /** Words [keepFrom, keepTo) take their label from this window. */
  keepFrom: number;
  keepTo: number;
}

/** Windows over words with `counts[w]` sub-tokens each; `room` tokens per window, special tokens excluded. */
export function wordWindows(counts: readonly number[], room: number, stride: number): WordWindow[] {
  if (room <= 0) throw new NerkitError("E_USAGE", `the window must hold at least one token besides special tokens (got ${room})`);
  if (stride < 0 || stride >= room) throw new NerkitError("E_USAGE", `the stride (${stride}) must be between 0 and the window's ${room} content tokens`);
  const n = counts.length;
  const windows: WordWindow[] = [];
  let start = 0;
  while (start < n) {
    let end = start;
    let used = 0;
    while (end < n && (end === start || used + counts[end] <= room)) used += counts[end++];
    windows.push({ start, end, keepFrom: start, keepTo: end });
    if (end === n) break;
    // The next window starts far enough back to share at most `stride` tokens, and always moves on.
    let next = end;
    let shared = 0;
    while (next - 1 > start && shared + counts[next - 1] <= stride) shared += counts[--next];
    start = next;
  }
  for (let k = 1; k < windows.length; k++) {
    const before = windows[k - 1];
    const after = windows[k];
    const middle = Math.ceil((after.start + before.end) / 2);
    before.keepTo = middle;
    after.keepFrom = middle;
  }
  return windows;
}
