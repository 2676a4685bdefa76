// Trains a WordPiece vocabulary from word counts the way Hugging Face tokenizers' WordPieceTrainer
// does (tokenizers/src/models/wordpiece/trainer.rs, which runs its BpeTrainer with the "##"
// continuation prefix and keeps only the vocabulary): special tokens first, then the alphabet
// (the `limitAlphabet` most frequent characters, in code point order), then every "##c" a word
// continues with, then one token per merge of the most frequent adjacent pair until the vocabulary
// has `vocabSize` tokens or no pair reaches `minFrequency`. Word counting (normalize, pre-tokenize)
// lives in `countWords`, with the same BertNormalizer and BertPreTokenizer the tokenizer encodes
// with, so training words and encoding words are the same words.
//
// Where this differs from the reference, on purpose, for determinism or exactness:
//   - ties: the reference breaks equal counts by (left id, right id) ascending, as here, but its
//     "##c" ids follow hash-map order, so its vocabulary changes from run to run; here they follow
//     code point order, and where the alphabet limit cuts among equally frequent characters the
//     lower code points are kept, so the same words give the same vocabulary, byte for byte;
//   - a character left out of the alphabet splits its word: no merge spans it (the reference drops
//     it and merges its neighbours into a piece that never occurs in the text);
//   - a merge applies to every word that holds its pair (the reference merges the words listed in
//     the heap entry it popped, which can miss some when one token is made by two merges).
// On CoNLL-2003 the alphabet and the "##c" set equal the reference's, and 7993 of 8000 tokens too.
// Left out: an initial alphabet, an end-of-word suffix and max_token_length, which BERT's
// trainer does not use. `trainWordPieceReference` recounts every pair at every merge: the slow,
// obvious oracle the incremental trainer is tested against.

import { NerkitError } from "../../errors.js";
import { codePointAt, isBertWhitespace, unitWidth } from "./char-classes.js";
import { NormalizedString } from "./normalized-string.js";
import type { Normalizer, PreTokenizer } from "./types.js";

export interface WordPieceTrainOptions {
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (the reference's min_frequency). */
  minFrequency: number;
  /** Keep only this many characters, the most frequent; the others become [UNK] when encoding. */
  limitAlphabet: number;
  specialTokens: readonly string[];
  continuingSubwordPrefix: string;
}

export interface TrainedWordPiece {
  /** Tokens in id order. */
  vocab: string[];
  alphabetSize: number;
  continuationCount: number;
  /** Characters the alphabet limit left out, most frequent first. */
  droppedChars: string[];
  merges: number;
}

/**
 * Word counts of texts: each text is cut at BERT whitespace (which the normalizer turns into spaces
 * and the pre-tokenizer drops, so cutting first changes nothing), each distinct chunk is normalized
 * and pre-tokenized once, and its words are counted as often as the chunk occurs.
 */
export function countWords(texts: Iterable<string>, normalizer: Normalizer | undefined, preTokenizer: PreTokenizer): Map<string, number> {
  const chunks = new Map<string, number>();
  for (const text of texts) {
    let start = -1;
    for (let i = 0; i <= text.length; ) {
      const c = i < text.length ? codePointAt(text, i) : 32;
      if (isBertWhitespace(c)) {
        if (start >= 0) {
          const chunk = text.slice(start, i);
          chunks.set(chunk, (chunks.get(chunk) ?? 0) + 1);
        }
        start = -1;
      } else if (start < 0) start = i;
      i += i < text.length ? unitWidth(c) : 1;
    }
  }
  const words = new Map<string, number>();
  const pieces: NormalizedString[] = [];
  for (const [chunk, count] of chunks) {
    const ns = NormalizedString.from(chunk);
    pieces.length = 0;
    preTokenizer(normalizer ? normalizer(ns) : ns, pieces);
    for (const piece of pieces) if (piece.text) words.set(piece.text, (words.get(piece.text) ?? 0) + count);
  }
  return words;
}

/** The starting point both trainers share: the vocabulary before any merge, and each word as symbol ids. */
interface InitialState {
  vocab: string[];
  ids: Map<string, number>;
  /** Segments of words between left-out characters, as symbol ids; each with its word's count. */
  words: number[][];
  counts: number[];
  alphabetSize: number;
  continuationCount: number;
  droppedChars: string[];
}

const byCodePoint = (a: string, b: string) => codePointAt(a, 0) - codePointAt(b, 0);

function initialState(wordCounts: ReadonlyMap<string, number>, options: WordPieceTrainOptions): InitialState {
  const { continuingSubwordPrefix: prefix } = options;
  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) for (const c of word) charCounts.set(c, (charCounts.get(c) ?? 0) + count);
  if (charCounts.size === 0) throw new NerkitError("E_USAGE", "the training data has no words");
  const ranked = [...charCounts].sort((x, y) => y[1] - x[1] || byCodePoint(x[0], y[0])).map(([c]) => c);
  const alphabet = ranked.slice(0, Math.max(0, options.limitAlphabet)).sort(byCodePoint);
  const kept = new Set(alphabet);

  const continuations = new Set<string>();
  for (const word of wordCounts.keys()) {
    let first = true;
    for (const c of word) {
      if (!first && kept.has(c)) continuations.add(c);
      first = false;
    }
  }
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const add = (token: string) => {
    if (!ids.has(token)) ids.set(token, vocab.push(token) - 1);
  };
  options.specialTokens.forEach(add);
  alphabet.forEach(add);
  [...continuations].sort(byCodePoint).forEach((c) => add(prefix + c));
  if (options.vocabSize < vocab.length) {
    throw new NerkitError(
      "E_USAGE",
      `the vocabulary size ${options.vocabSize} is smaller than the vocabulary before any merge: ${vocab.length} tokens ` +
        `(${options.specialTokens.length} special, ${alphabet.length} characters, ${continuations.size} "${prefix}" continuations); ` +
        `ask for at least ${vocab.length}, or limit the alphabet`,
    );
  }

  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    let segment: number[] = [];
    let first = true;
    for (const c of word) {
      if (kept.has(c)) segment.push(ids.get(first ? c : prefix + c)!);
      else if (segment.length) {
        words.push(segment);
        counts.push(count);
        segment = [];
      }
      first = false;
    }
    if (segment.length) {
      words.push(segment);
      counts.push(count);
    }
  }
  return {
    vocab,
    ids,
    words,
    counts,
    alphabetSize: alphabet.length,
    continuationCount: continuations.size,
    droppedChars: ranked.slice(alphabet.length),
  };
}

// A pair of symbol ids as one number; ascending keys are (left, right) in lexicographic order.
const KEY_BASE = 2 ** 26;
const pairKey = (a: number, b: number) => a * KEY_BASE + b;

/** The token a merge makes: the right part loses its continuation prefix ("##b" + "##c" -> "##bc"). */
function mergedToken(state: InitialState, key: number, prefix: string): number {
  const left = state.vocab[Math.floor(key / KEY_BASE)];
  const right = state.vocab[key % KEY_BASE];
  const token = left + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
  let id = state.ids.get(token);
  if (id === undefined) state.ids.set(token, (id = state.vocab.push(token) - 1));
  return id;
}

/** Replaces every (a, b) of `symbols`, left to right without overlap, by `to`. */
function mergeSymbols(symbols: number[], a: number, b: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === a && symbols[i + 1] === b) {
      out.push(to);
      i++;
    } else out.push(symbols[i]);
  }
  return out;
}

function result(state: InitialState, merges: number): TrainedWordPiece {
  const { vocab, alphabetSize, continuationCount, droppedChars } = state;
  return { vocab, alphabetSize, continuationCount, droppedChars, merges };
}

function checkOptions(options: WordPieceTrainOptions): void {
  const { vocabSize, minFrequency, limitAlphabet } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize >= KEY_BASE) throw new NerkitError("E_USAGE", `the vocabulary size must be an integer from 1 to ${KEY_BASE - 1}, got ${vocabSize}`);
  if (!Number.isInteger(minFrequency) || minFrequency < 0) throw new NerkitError("E_USAGE", `the minimum frequency must be a non-negative integer, got ${minFrequency}`);
  if (!Number.isInteger(limitAlphabet) || limitAlphabet < 1) throw new NerkitError("E_USAGE", `the alphabet limit must be a positive integer, got ${limitAlphabet}`);
}

/**
 * The trainer: pair counts and, per pair, the words that may hold it are kept up to date, so a
 * merge touches only the words that hold its pair. A max-heap of (count, pair) entries is updated
 * lazily as in the reference: an entry whose count went stale is put back with the current count
 * when it reaches the top, and a pair whose count grew gets a fresh entry.
 */
export function trainWordPiece(wordCounts: ReadonlyMap<string, number>, options: WordPieceTrainOptions): TrainedWordPiece {
  checkOptions(options);
  const state = initialState(wordCounts, options);
  const { words, counts } = state;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const notePair = (key: number, w: number) => {
    const holders = pairWords.get(key);
    if (holders) holders.add(w);
    else pairWords.set(key, new Set([w]));
  };
  words.forEach((symbols, w) => {
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i], symbols[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + counts[w]);
      notePair(key, w);
    }
  });
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  let merges = 0;
  while (state.vocab.length < options.vocabSize && heap.size > 0) {
    const { count, key } = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (count !== current) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < Math.max(1, options.minFrequency)) break;
    const a = Math.floor(key / KEY_BASE);
    const b = key % KEY_BASE;
    const to = mergedToken(state, key, options.continuingSubwordPrefix);
    merges++;
    const grown = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const symbols = words[w];
      if (!holdsPair(symbols, a, b)) continue; // a stale holder: the pair left this word earlier
      const c = counts[w];
      for (let i = 0; i + 1 < symbols.length; i++) {
        const old = pairKey(symbols[i], symbols[i + 1]);
        pairCounts.set(old, pairCounts.get(old)! - c);
      }
      const merged = (words[w] = mergeSymbols(symbols, a, b, to));
      for (let i = 0; i + 1 < merged.length; i++) {
        const fresh = pairKey(merged[i], merged[i + 1]);
        pairCounts.set(fresh, (pairCounts.get(fresh) ?? 0) + c);
        // Only pairs with the new symbol can gain words or count; the others were here before.
        if (merged[i] === to || merged[i + 1] === to) {
          notePair(fresh, w);
          grown.add(fresh);
        }
      }
    }
    pairWords.delete(key);
    for (const fresh of grown) heap.push(pairCounts.get(fresh)!, fresh);
  }
  return result(state, merges);
}

function holdsPair(symbols: number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < symbols.length; i++) if (symbols[i] === a && symbols[i + 1] === b) return true;
  return false;
}

/** The oracle: the same choices, with every pair recounted over every word at every merge. */
export function trainWordPieceReference(wordCounts: ReadonlyMap<string, number>, options: WordPieceTrainOptions): TrainedWordPiece {
  checkOptions(options);
  const state = initialState(wordCounts, options);
  let merges = 0;
  while (state.vocab.length < options.vocabSize) {
    const pairCounts = new Map<number, number>();
    state.words.forEach((symbols, w) => {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = pairKey(symbols[i], symbols[i + 1]);
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + state.counts[w]);
      }
    });
    let best = -1;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && key < best)) [best, bestCount] = [key, count];
    }
    if (best < 0 || bestCount < Math.max(1, options.minFrequency)) break;
    const to = mergedToken(state, best, options.continuingSubwordPrefix);
    merges++;
    const a = Math.floor(best / KEY_BASE);
    const b = best % KEY_BASE;
    state.words = state.words.map((symbols) => mergeSymbols(symbols, a, b, to));
  }
  return result(state, merges);
}

/** A binary max-heap of (count, key): the higher count first, then the smaller key (the pair that sorts first). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.keys.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0], key: this.keys[0] };
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < last && this.above(l, best)) best = l;
      if (r < last && this.above(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}
