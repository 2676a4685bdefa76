// The tokenizer pipeline, one sequence at a time, in the order of tokenizers' Tokenizer::encode:
//   added tokens (raw) → normalize → added tokens (normalized) → pre-tokenize → model
//   → offsets back to the input → post-process (special tokens, offset trimming)
// Word ids: for raw text, the index of the pre-tokenized piece a token came from (an added token
// found in the text is a piece of its own); for pre-split words, the word's index, with offsets
// relative to that word. Left out: truncation, padding and pairs, which the caller's windowing and
// batching own (a tokenizer.json's truncation/padding sections are ignored).
// Hand-written because the npm @huggingface/tokenizers returns no offsets or word ids.

import type { AddedToken, AddedVocabulary, Piece } from "./added-tokens.js";
import { NormalizedString } from "./normalized-string.js";
import type {
  EncodeOptions,
  Encoding,
  Model,
  Normalizer,
  PostProcessor,
  PreTokenizer,
  SpecialTokens,
  Tokenizer,
  WorkingEncoding,
} from "./types.js";

export interface PipelineParts {
  normalizer?: Normalizer;
  preTokenizer?: PreTokenizer;
  model: Model;
  postProcessor?: PostProcessor;
  added: AddedVocabulary;
  specialTokens: SpecialTokens;
  padTokenId: number;
}

function emptyWorking(): WorkingEncoding {
  return { ids: [], values: [], starts: [], ends: [], wordIds: [], typeIds: [], specialTokensMask: [], sources: [] };
}

export class PipelineTokenizer implements Tokenizer {
  readonly specialTokens: SpecialTokens;
  readonly padTokenId: number;
  readonly vocabSize: number;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();

  constructor(private readonly parts: PipelineParts) {
    this.specialTokens = parts.specialTokens;
    this.padTokenId = parts.padTokenId;
    for (const token of parts.added.tokens) {
      this.addedById.set(token.id, token);
      this.addedByContent.set(token.content, token);
    }
    let extra = 0;
    for (const id of this.addedById.keys()) if (parts.model.idToToken(id) === undefined) extra++;
    this.vocabSize = parts.model.size + extra;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.parts.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.parts.model.idToToken(id);
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    const work = emptyWorking();
    this.encodeSequence(text, null, work);
    return this.finish(work, options.addSpecialTokens ?? true);
  }

  encodeWords(words: string[], options: EncodeOptions = {}): Encoding {
    const work = emptyWorking();
    words.forEach((word, index) => this.encodeSequence(word, index, work));
    return this.finish(work, options.addSpecialTokens ?? true);
  }

  /** Appends the tokens of `text` to `work`; `wordIndex` is set for one of several pre-split words. */
  private encodeSequence(text: string, wordIndex: number | null, work: WorkingEncoding): void {
    const { normalizer, preTokenizer, model, added } = this.parts;
    const pieces: Piece[] = [];
    added.extract(NormalizedString.from(text), normalizer, pieces);
    let splitIndex = 0;
    const splits: NormalizedString[] = [];
    for (const piece of pieces) {
      if (piece.addedId !== undefined) {
        const [start, end] = piece.ns.toOriginal(0, piece.ns.text.length);
        push(work, piece.addedId, piece.ns.text, start, end, wordIndex ?? splitIndex++, text);
        continue;
      }
      splits.length = 0;
      if (preTokenizer) preTokenizer(piece.ns, splits);
      else splits.push(piece.ns);
      for (const split of splits) {
        // The model appends to the encoding itself; its offsets, in units of the split, are then
        // mapped back to the input in place.
        const first = work.ids.length;
        model.tokenize(split.text, work);
        const word = wordIndex ?? splitIndex;
        for (let k = first; k < work.ids.length; k++) {
          const s = work.starts[k];
          const e = work.ends[k];
          if (s < e) {
            work.starts[k] = split.start[s];
            work.ends[k] = split.end[e - 1];
          } else {
            [work.starts[k], work.ends[k]] = split.toOriginal(s, e);
          }
          work.values.push(model.idToToken(work.ids[k]) ?? "");
          work.wordIds.push(word);
          work.typeIds.push(0);
          work.specialTokensMask.push(0);
          work.sources.push(text);
        }
        splitIndex++;
      }
    }
  }

  private finish(work: WorkingEncoding, addSpecialTokens: boolean): Encoding {
    const done = this.parts.postProcessor ? this.parts.postProcessor(work, addSpecialTokens) : work;
    const n = done.ids.length;
    const offsets = new Array<[number, number]>(n);
    const tokens = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      offsets[i] = [done.starts[i], done.ends[i]];
      tokens[i] = this.idToToken(done.ids[i]) ?? done.values[i];
    }
    return {
      ids: done.ids,
      tokens,
      offsets,
      wordIds: done.wordIds,
      typeIds: done.typeIds,
      specialTokensMask: done.specialTokensMask,
    };
  }
}

function push(work: WorkingEncoding, id: number, value: string, start: number, end: number, word: number, source: string): void {
  work.ids.push(id);
  work.values.push(value);
  work.starts.push(start);
  work.ends.push(end);
  work.wordIds.push(word);
  work.typeIds.push(0);
  work.specialTokensMask.push(0);
  work.sources.push(source);
}
