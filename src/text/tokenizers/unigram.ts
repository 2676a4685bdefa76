// Unigram (XLM-R, SentencePiece models): the segmentation with the highest total piece score,
// found by Viterbi over character positions, as tokenizers' encode_optimized does it:
//   - every vocabulary piece starting at a position is a candidate edge (a trie walk);
//   - a character no single-character piece covers gets an unk edge scored min score − 10;
//   - a node keeps the first candidate it sees unless a later one scores strictly higher;
//   - consecutive unk pieces on the best path are fused into one unk token.
// Optional byte_fallback turns an unknown piece into <0xNN> pieces when all of them exist.
// Left out: sampling (n-best, alpha) and training, which inference never uses.
// Hand-written because the npm @huggingface/tokenizers returns no offsets for its Unigram.

import { NerkitError } from "../../errors.js";
import { codePointAt, unitWidth } from "./char-classes.js";
import type { Model, TokenSink } from "./types.js";
import { UnitTrie } from "./unit-trie.js";

const UNK_PENALTY = 10;

export interface UnigramOptions {
  /** Pieces in id order, with their scores (log probabilities). */
  vocab: [string, number][];
  unkId?: number;
  byteFallback?: boolean;
}

export class Unigram implements Model {
  private readonly trie = new UnitTrie();
  private readonly ids = new Map<string, number>();
  private readonly scores: Float64Array;
  private readonly unkScore: number;
  // Viterbi buffers, grown as needed and reused between calls: (N + 1) entries each.
  private bestScore = new Float64Array(64);
  private bestStart = new Int32Array(64);
  private bestId = new Int32Array(64);

  constructor(private readonly options: UnigramOptions) {
    this.scores = new Float64Array(options.vocab.length);
    let min = Infinity;
    options.vocab.forEach(([piece, score], id) => {
      this.ids.set(piece, id);
      this.trie.insert(piece, id);
      this.scores[id] = score;
      if (score < min) min = score;
    });
    this.unkScore = min - UNK_PENALTY;
  }

  get size(): number {
    return this.options.vocab.length;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.options.vocab[id]?.[0];
  }

  tokenize(text: string, sink: TokenSink): void {
    const n = text.length;
    if (n === 0) return;
    this.viterbi(text);
    // Walk the best path back from the end, then emit it forwards, fusing runs of unk.
    const path: number[] = []; // end positions, last first
    for (let end = n; end > 0; end = this.bestStart[end]) path.push(end);
    const unkId = this.options.unkId;
    let runStart = -1; // start of a pending run of unk pieces
    let runEnd = 0;
    const flush = () => {
      if (runStart >= 0) this.emit(text, runStart, runEnd, sink);
      runStart = -1;
    };
    for (let k = path.length - 1; k >= 0; k--) {
      const end = path[k];
      const start = this.bestStart[end];
      if (unkId !== undefined && this.bestId[end] === unkId) {
        if (runStart < 0) runStart = start;
        runEnd = end;
      } else {
        flush();
        sink.ids.push(this.bestId[end]);
        sink.starts.push(start);
        sink.ends.push(end);
      }
    }
    flush();
  }

  /** Fills bestScore / bestStart / bestId for every reachable position of `text`. */
  private viterbi(text: string): void {
    const n = text.length;
    if (this.bestScore.length < n + 1) {
      const size = Math.max(n + 1, this.bestScore.length * 2);
      this.bestScore = new Float64Array(size);
      this.bestStart = new Int32Array(size);
      this.bestId = new Int32Array(size);
    }
    const { bestScore, bestStart, bestId, trie, scores } = this;
    bestStart.fill(-1, 0, n + 1);
    bestScore[0] = 0;
    for (let start = 0; start < n; ) {
      const width = unitWidth(codePointAt(text, start));
      const here = bestScore[start];
      let hasSingle = false;
      let node = UnitTrie.ROOT;
      for (let i = start; i < n; i++) {
        node = trie.next(node, text.charCodeAt(i));
        if (node < 0) break;
        const id = trie.valueAt(node);
        if (id < 0) continue;
        const end = i + 1;
        const candidate = here + scores[id];
        if (bestStart[end] < 0 || candidate > bestScore[end]) {
          bestScore[end] = candidate;
          bestStart[end] = start;
          bestId[end] = id;
        }
        if (end - start === width) hasSingle = true;
      }
      if (!hasSingle) {
        if (this.options.unkId === undefined) throw new NerkitError("E_FORMAT", "Unigram: an unknown character needs unk_id, which this model lacks");
        const end = start + width;
        const candidate = here + this.unkScore;
        if (bestStart[end] < 0 || candidate > bestScore[end]) {
          bestScore[end] = candidate;
          bestStart[end] = start;
          bestId[end] = this.options.unkId;
        }
      }
      start += width;
    }
  }

  /** A fused run of unk pieces: its own id if the text is a piece, else bytes or unk. */
  private emit(text: string, start: number, end: number, sink: TokenSink): void {
    const piece = text.slice(start, end);
    const id = this.ids.get(piece);
    if (id === undefined && this.options.byteFallback) {
      const bytes: number[] = [];
      for (const b of new TextEncoder().encode(piece)) {
        const byteId = this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
        if (byteId === undefined) break;
        bytes.push(byteId);
      }
      if (bytes.length === new TextEncoder().encode(piece).length) {
        for (const byteId of bytes) {
          sink.ids.push(byteId);
          sink.starts.push(start);
          sink.ends.push(end);
        }
        return;
      }
    }
    sink.ids.push(id ?? this.options.unkId!);
    sink.starts.push(start);
    sink.ends.push(end);
  }
}
