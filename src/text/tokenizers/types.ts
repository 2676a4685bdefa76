// The shapes shared by the tokenizer pipeline's steps (normalize → pre-tokenize → model →
// post-process) and the public Encoding / Tokenizer interfaces. Types only; no behaviour.
//
// Legend: T = tokens of one encoding. Offsets are UTF-16 units, end-exclusive, [0, 0] for special
// tokens the post-processor adds; for pre-split words they are relative to each word.
// Hand-written with the pipeline they describe.

import type { NormalizedString } from "./normalized-string.js";

export interface Encoding {
  ids: number[]; // (T)
  tokens: string[]; // (T) vocabulary form of each id
  offsets: [number, number][]; // (T)
  wordIds: (number | null)[]; // (T) null for special tokens the post-processor adds
  typeIds: number[]; // (T)
  specialTokensMask: number[]; // (T) 1 for tokens the post-processor adds
}

export interface EncodeOptions {
  addSpecialTokens?: boolean;
}

export interface SpecialTokens {
  cls?: string;
  sep?: string;
  pad?: string;
  unk?: string;
  mask?: string;
  bos?: string;
  eos?: string;
}

export interface Tokenizer {
  /** Raw text; offsets index into it. */
  encode(text: string, options?: EncodeOptions): Encoding;
  /** Pre-split words (Hugging Face's is_split_into_words=True); offsets are relative to each word. */
  encodeWords(words: string[], options?: EncodeOptions): Encoding;
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly specialTokens: SpecialTokens;
  readonly padTokenId: number;
}

/** Where a model writes its tokens: ids and [start, end) in units of the text it was given. */
export interface TokenSink {
  ids: number[];
  starts: number[];
  ends: number[];
}

export interface Model {
  tokenize(text: string, sink: TokenSink): void;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly size: number;
}

export type Normalizer = (ns: NormalizedString) => NormalizedString;

/** Splits one piece further, appending the non-empty pieces to `out`. */
export type PreTokenizer = (ns: NormalizedString, out: NormalizedString[]) => void;

/**
 * An encoding while it is being assembled and post-processed. `values` are the reference's token
 * values (the matched text for an added token), which offset trimming reads; `sources` hold, per
 * token, the string its offsets index (the text, or the token's word; "" for added specials).
 */
export interface WorkingEncoding {
  ids: number[]; // (T)
  values: string[]; // (T)
  starts: number[]; // (T)
  ends: number[]; // (T)
  wordIds: (number | null)[]; // (T)
  typeIds: number[]; // (T)
  specialTokensMask: number[]; // (T)
  sources: string[]; // (T)
}

export type PostProcessor = (encoding: WorkingEncoding, addSpecialTokens: boolean) => WorkingEncoding;
