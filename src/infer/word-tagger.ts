// Tags pre-split words (CoNLL tokens) with a token-classification model: one tag per word, the
// label of the word's first sub-token, as training aligns labels. The words are encoded as
// transformers does with is_split_into_words; a sentence longer than the model reads is read in
// overlapping windows of whole words (./word-windows.ts), never cut; windows are sorted by length
// and batched with padding to the longest of each batch, so little of the model's work goes to
// padding. This is the one path that `nerkit evaluate --model`, pre-tokenized `nerkit predict` and
// the dev and test evaluation of `nerkit train` share, so their reports agree by construction.
// On request (wordLogitsSteps) each word's logits row (that of its first sub-token, from the window
// that keeps the word) comes back too, for calibration (../metrics/calibration/).
// Left out: probabilities and Viterbi decoding (the argmax of the logits is what training scores).

import type { Tokenizer } from "../text/tokenizers/types.js";
import type { Batch, LogitsModel } from "../model/session-feeds.js";
import { argmax } from "./aggregation.js";
import { wordWindows } from "./word-windows.js";

/** What tagging needs of a model: its session, tokenizer and label names, and its window size. */
export interface WordTaggerModel {
  session: LogitsModel;
  tokenizer: Tokenizer;
  labels: readonly string[];
  /** Tokens per window, special tokens included. */
  maxLength: number;
}

export interface TagWordsOptions {
  /** Windows per model run (default 32, train's default batch size). */
  batchSize?: number;
  /** Sub-tokens shared by consecutive windows of a long sentence (default a quarter of a window). */
  stride?: number;
}

/** Progress after each batch. */
export interface TagProgress {
  batches: number;
  totalBatches: number;
}

/** The tag a word gets when the tokenizer makes no token of it (a lone control character). */
export const UNTOKENIZED_TAG = "O";

interface WordWindowInput {
  sentence: number;
  ids: number[];
  /** Words whose label this window gives, and the position of each one's first sub-token. */
  words: number[];
  positions: number[];
}

/** The encoded windows of one sentence. */
function windowsOf(words: readonly string[], sentence: number, tokenizer: Tokenizer, maxLength: number, stride: number | undefined): WordWindowInput[] {
  const whole = tokenizer.encodeWords([...words], { addSpecialTokens: true });
  if (whole.ids.length <= maxLength) return [windowInput(whole, 0, words.length, 0, words.length, sentence, maxLength)];
  const counts = new Array<number>(words.length).fill(0);
  for (const w of whole.wordIds) if (w !== null) counts[w]++;
  const room = maxLength - whole.specialTokensMask.reduce((n, m) => n + m, 0);
  const windows = wordWindows(counts, room, stride ?? Math.floor(room / 4));
  return windows.map((window) => {
    const encoding = tokenizer.encodeWords(words.slice(window.start, window.end), { addSpecialTokens: true });
    return windowInput(encoding, window.start, window.end, window.keepFrom, window.keepTo, sentence, maxLength);
  });
}

/** A window's ids (cut to maxLength only when one word alone is longer) and the first sub-token of each kept word. */
function windowInput(
  encoding: { ids: number[]; wordIds: (number | null)[] },
  start: number,
  end: number,
  keepFrom: number,
  keepTo: number,
  sentence: number,
  maxLength: number,
): WordWindowInput {
  let ids = encoding.ids;
  // Positions before `read` hold the encoding's own tokens.
  let read = ids.length;
  if (ids.length > maxLength) {
    // One word longer than the whole window: keep its first pieces and the closing special token.
    ids = [...ids.slice(0, maxLength - 1), ids[ids.length - 1]];
    read = maxLength - 1;
  }
  const first = new Array<number>(end - start).fill(-1);
  encoding.wordIds.forEach((w, t) => {
    if (w !== null && first[w] < 0 && t < read) first[w] = t;
  });
  const words: number[] = [];
  const positions: number[] = [];
  for (let w = keepFrom; w < keepTo; w++) {
    if (first[w - start] < 0) continue;
    words.push(w);
    positions.push(first[w - start]);
  }
  return { sentence, ids, words, positions };
}

/** Tags, and with `keepLogits` each word's logits row: (L) per word, null for a word the tokenizer makes no token of. */
export interface TaggedWords {
  tags: string[][];
  logits?: (Float32Array | null)[][];
}

/**
 * Tags each sentence's words; yields progress after every batch and returns the tags, one list per
 * sentence with one tag per word. Empty sentences get an empty list.
 */
export async function* tagWordsSteps(model: WordTaggerModel, sentences: readonly (readonly string[])[], options: TagWordsOptions = {}): AsyncGenerator<TagProgress, string[][]> {
  return (yield* taggedWordsSteps(model, sentences, options, false)).tags;
}

/** tagWordsSteps, returning each word's logits row (its first sub-token's) beside its tag. */
export async function* wordLogitsSteps(model: WordTaggerModel, sentences: readonly (readonly string[])[], options: TagWordsOptions = {}): AsyncGenerator<TagProgress, Required<TaggedWords>> {
  const tagged = yield* taggedWordsSteps(model, sentences, options, true);
  return { tags: tagged.tags, logits: tagged.logits! };
}

async function* taggedWordsSteps(model: WordTaggerModel, sentences: readonly (readonly string[])[], options: TagWordsOptions, keepLogits: boolean): AsyncGenerator<TagProgress, TaggedWords> {
  const batchSize = options.batchSize ?? 32;
  const { labels, tokenizer } = model;
  const L = labels.length;
  const tags = sentences.map((words) => new Array<string>(words.length).fill(UNTOKENIZED_TAG));
  const wordLogits = keepLogits ? sentences.map((words) => new Array<Float32Array | null>(words.length).fill(null)) : undefined;
  const windows = sentences.flatMap((words, s) => (words.length === 0 ? [] : windowsOf(words, s, tokenizer, model.maxLength, options.stride)));
  // Longest first (stable, so equal lengths keep the file's order): each batch pads little.
  const order = windows.map((_, i) => i).sort((a, b) => windows[b].ids.length - windows[a].ids.length);
  const totalBatches = Math.ceil(order.length / batchSize);
  const pad = BigInt(tokenizer.padTokenId);
  for (let b = 0; b < totalBatches; b++) {
    const members = order.slice(b * batchSize, (b + 1) * batchSize).map((i) => windows[i]);
    const length = members[0].ids.length;
    const batch: Batch = {
      rows: members.length,
      length,
      inputIds: new BigInt64Array(members.length * length).fill(pad),
      attentionMask: new BigInt64Array(members.length * length),
    };
    members.forEach((window, row) => {
      window.ids.forEach((id, t) => {
        batch.inputIds[row * length + t] = BigInt(id);
        batch.attentionMask[row * length + t] = 1n;
      });
    });
    const logits = await model.session.run(batch); // (B, T, L)
    members.forEach((window, row) => {
      window.words.forEach((w, k) => {
        const offset = (row * length + window.positions[k]) * L;
        const wordRow = logits.subarray(offset, offset + L); // (L)
        tags[window.sentence][w] = labels[argmax(wordRow)];
        if (wordLogits) wordLogits[window.sentence][w] = wordRow.slice();
      });
    });
    yield { batches: b + 1, totalBatches };
  }
  return { tags, logits: wordLogits };
}

/** Runs tagging steps (tagWordsSteps, NerPipeline.tagWords) to the end, reporting progress to `onProgress`. */
export async function finishSteps<T>(steps: AsyncGenerator<TagProgress, T>, onProgress?: (progress: TagProgress) => void): Promise<T> {
  for (;;) {
    const next = await steps.next();
    if (next.done) return next.value;
    onProgress?.(next.value);
  }
}
