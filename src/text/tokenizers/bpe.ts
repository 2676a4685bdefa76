// Byte-pair encoding (RoBERTa, GPT-2): a word starts as one symbol per character and the adjacent
// pair with the lowest merge rank is merged, leftmost first, until no listed pair remains (the
// order tokenizers' priority queue produces). Supports the tokenizer.json options BPE vocabularies
// use: continuing_subword_prefix, end_of_word_suffix, unk_token with fuse_unk, byte_fallback and
// ignore_merges. Words are cached, as in the reference, since running text repeats them.
// Left out: dropout (a training-time option; encoding here is deterministic) and training.
// Hand-written because the npm @huggingface/tokenizers returns no offsets for its BPE.

import { NerkitError } from "../../errors.js";
import { codePointAt, unitWidth } from "./char-classes.js";
import type { TokenSink } from "./types.js";
import { VocabularyModel } from "./vocabulary-model.js";

export interface BpeOptions {
  vocab: Map<string, number>;
  /** Merges in rank order, each as its two parts. */
  merges: [string, string][];
  unkToken?: string;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
  continuingSubwordPrefix?: string;
  endOfWordSuffix?: string;
}

// Pair keys and merge entries pack two numbers below 2^21 (vocabularies stay far under 2 million).
const SHIFT = 2 ** 21;

interface Word {
  ids: number[];
  starts: number[]; // [start, end) of each symbol in the word, UTF-16 units
  ends: number[];
}

const CACHE_LIMIT = 10_000;

export class Bpe extends VocabularyModel {
  private readonly merges = new Map<number, number>(); // pair key → rank * SHIFT + merged id
  private readonly cache = new Map<string, Word>();

  constructor(private readonly options: BpeOptions) {
    super(options.vocab);
    const prefixLength = options.continuingSubwordPrefix?.length ?? 0;
    options.merges.forEach(([a, b], rank) => {
      const left = options.vocab.get(a);
      const right = options.vocab.get(b);
      const merged = options.vocab.get(a + b.slice(prefixLength));
      if (left === undefined || right === undefined || merged === undefined) {
        throw new Error(`BPE merge ${JSON.stringify(`${a} ${b}`)} (rank ${rank}) uses a token missing from the vocabulary`);
      }
      this.merges.set(left * SHIFT + right, rank * SHIFT + merged);
    });
  }

  tokenize(text: string, sink: TokenSink): void {
    if (text.length === 0) return;
    if (this.options.ignoreMerges) {
      const id = this.options.vocab.get(text);
      if (id !== undefined) {
        push(sink, id, 0, text.length);
        return;
      }
    }
    let word = this.cache.get(text);
    if (!word) {
      word = this.mergeWord(text);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(text, word);
    }
    for (let k = 0; k < word.ids.length; k++) push(sink, word.ids[k], word.starts[k], word.ends[k]);
  }

  private mergeWord(text: string): Word {
    const { vocab, continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, unkToken } = this.options;
    const word: Word = { ids: [], starts: [], ends: [] };
    let unkStart = -1; // start of a pending unknown run (fused or single), or -1
    let unkEnd = 0;
    let unkId = -1;
    const flushUnk = () => {
      if (unkStart >= 0) {
        word.ids.push(unkId);
        word.starts.push(unkStart);
        word.ends.push(unkEnd);
        unkStart = -1;
      }
    };
    for (let i = 0; i < text.length; ) {
      const width = unitWidth(codePointAt(text, i));
      let symbol = text.slice(i, i + width);
      if (i > 0 && prefix) symbol = prefix + symbol;
      if (i + width >= text.length && suffix) symbol += suffix;
      const id = vocab.get(symbol);
      const pieces = id === undefined && this.options.byteFallback ? this.bytePieces(symbol) : undefined;
      if (id !== undefined) {
        flushUnk();
        word.ids.push(id);
        word.starts.push(i);
        word.ends.push(i + width);
      } else if (pieces) {
        flushUnk();
        // Each byte piece covers its whole character, as the reference's byte offsets map back.
        for (const piece of pieces) {
          word.ids.push(piece);
          word.starts.push(i);
          word.ends.push(i + width);
        }
      } else if (unkToken !== undefined) {
        const unk = vocab.get(unkToken);
        if (unk === undefined) throw new NerkitError("E_FORMAT", `BPE: the unk token ${JSON.stringify(unkToken)} is not in the vocabulary`);
        if (unkStart >= 0 && !this.options.fuseUnk) flushUnk();
        unkId = unk;
        if (unkStart < 0) unkStart = i;
        unkEnd = i + width;
      }
      i += width;
    }
    flushUnk();
    this.mergeAll(word);
    return word;
  }

  /** Byte fallback: the <0xNN> pieces for every UTF-8 byte of an unknown symbol, if all exist. */
  private bytePieces(symbol: string): number[] | undefined {
    const pieces: number[] = [];
    for (const b of new TextEncoder().encode(symbol)) {
      const id = this.options.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      if (id === undefined) return undefined;
      pieces.push(id);
    }
    return pieces;
  }

  /** Merges the lowest-ranked adjacent pair, leftmost first, until none is listed. */
  private mergeAll(word: Word): void {
    const { ids, starts, ends } = word;
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      let bestId = -1;
      for (let k = 0; k + 1 < ids.length; k++) {
        const entry = this.merges.get(ids[k] * SHIFT + ids[k + 1]);
        if (entry === undefined) continue;
        const rank = Math.floor(entry / SHIFT);
        if (rank < bestRank) {
          bestRank = rank;
          bestAt = k;
          bestId = entry - rank * SHIFT;
        }
      }
      if (bestAt < 0) return;
      ids.splice(bestAt, 2, bestId);
      starts.splice(bestAt + 1, 1);
      ends.splice(bestAt, 1);
    }
  }
}

function push(sink: TokenSink, id: number, start: number, end: number): void {
  sink.ids.push(id);
  sink.starts.push(start);
  sink.ends.push(end);
}
