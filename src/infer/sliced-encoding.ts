// A long text tokenized in slices, with a pause for the event loop between them, for tokenizers
// whose tokens never cross whitespace (BERT's pre-tokenizer splits at every whitespace and its
// normalizer works character by character): each slice ends just before a whitespace character, is
// encoded alone, and its offsets and word indices are shifted by where it starts, which gives the
// same ids, tokens, offsets and words as encoding the text whole (tested on the fixture tokenizers).
// Byte-level BPE and Metaspace tokenizers fold the space into the next token, so they are left to
// the one-piece encoding: `slicesAtWhitespace` says which kind a tokenizer.json describes.

import type { Tokenizer } from "../text/tokenizers/index.js";

export interface ContentEncoding {
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  wordIds: (number | null)[];
}

/** Characters per slice: a few milliseconds of tokenization on one core. */
export const SLICE_CHARS = 4096;

const PRE_TOKENIZERS_SPLITTING_AT_WHITESPACE = new Set(["BertPreTokenizer", "Whitespace", "WhitespaceSplit"]);
const CHARACTER_NORMALIZERS = new Set(["BertNormalizer", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "StripAccents"]);

/** Whether a tokenizer.json's pre-tokenizer and normalizer keep every token inside a whitespace-free run. */
export function slicesAtWhitespace(json: Record<string, unknown>): boolean {
  const type = (spec: unknown) => (spec && typeof spec === "object" ? (spec as { type?: unknown }).type : undefined);
  const steps = (spec: unknown): unknown[] => (type(spec) === "Sequence" ? ((spec as { normalizers?: unknown[]; pretokenizers?: unknown[] }).normalizers ?? (spec as { pretokenizers?: unknown[] }).pretokenizers ?? []) : spec == null ? [] : [spec]);
  const pre = steps(json.pre_tokenizer);
  const normalizers = steps(json.normalizer);
  return pre.length > 0 && pre.every((p) => PRE_TOKENIZERS_SPLITTING_AT_WHITESPACE.has(String(type(p)))) && normalizers.every((n) => CHARACTER_NORMALIZERS.has(String(type(n))));
}

/** Where the next slice starts: the last whitespace before `from + size`, or the first after it when a slice has none. */
function sliceEnd(text: string, from: number, size: number): number {
  if (from + size >= text.length) return text.length;
  for (let i = from + size; i > from; i--) if (/\s/.test(text[i])) return i;
  for (let i = from + size + 1; i < text.length; i++) if (/\s/.test(text[i])) return i;
  return text.length;
}

/** The content tokens of `text` (no special tokens), encoded slice by slice with `pause()` between slices. */
export async function encodeInSlices(tokenizer: Tokenizer, text: string, pause: () => Promise<void>, size = SLICE_CHARS): Promise<ContentEncoding> {
  const out: ContentEncoding = { ids: [], tokens: [], offsets: [], wordIds: [] };
  let words = 0;
  for (let from = 0; from < text.length; ) {
    const to = sliceEnd(text, from, size);
    const e = tokenizer.encode(text.slice(from, to), { addSpecialTokens: false });
    let last = -1;
    for (let k = 0; k < e.ids.length; k++) {
      out.ids.push(e.ids[k]);
      out.tokens.push(e.tokens[k]);
      out.offsets.push([e.offsets[k][0] + from, e.offsets[k][1] + from]);
      const word = e.wordIds[k];
      out.wordIds.push(word === null ? null : word + words);
      if (word !== null) last = Math.max(last, word);
    }
    words += last + 1;
    from = to;
    await pause();
  }
  return out;
}
