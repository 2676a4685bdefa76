// Counts a text's unknown or rare word pieces for the drift statistics (metrics/drift.ts,
// PieceCounts says what "rare" means). Only the text's first PIECE_SAMPLE_CHARS characters (cut
// back to whitespace) are tokenized: the statistic is a share, which a prefix estimates, and serve
// pays this once per document on top of the pipeline's own tokenization, so the cost is bounded
// whatever the text's length. What it leaves out: the model; the tokenizer alone decides.

import type { PieceCounts } from "../metrics/drift.js";
import { RARE_WORD_PIECES } from "../metrics/drift.js";
import type { Tokenizer } from "../text/tokenizers/index.js";

export const PIECE_SAMPLE_CHARS = 4000;

/** What counting needs of a tokenizer (a NerPipeline's tokenizer has it). */
export type PieceTokenizer = Pick<Tokenizer, "encode" | "tokenToId" | "specialTokens">;

/** The text's first PIECE_SAMPLE_CHARS characters, cut at the last whitespace before that (whole words only). */
export function pieceSample(text: string): string {
  if (text.length <= PIECE_SAMPLE_CHARS) return text;
  const cut = text.lastIndexOf(" ", PIECE_SAMPLE_CHARS);
  return text.slice(0, cut > 0 ? cut : PIECE_SAMPLE_CHARS);
}

export function countPieces(tokenizer: PieceTokenizer, text: string): PieceCounts {
  const e = tokenizer.encode(pieceSample(text), { addSpecialTokens: false });
  const unk = tokenizer.specialTokens.unk === undefined ? undefined : tokenizer.tokenToId(tokenizer.specialTokens.unk);
  // Pieces per word: a word is a run of pieces with the same word id.
  const perWord = new Map<number, number>();
  for (const w of e.wordIds) if (w !== null) perWord.set(w, (perWord.get(w) ?? 0) + 1);
  let rare = 0;
  e.ids.forEach((id, k) => {
    const w = e.wordIds[k];
    if (id === unk || (w !== null && (perWord.get(w) ?? 0) >= RARE_WORD_PIECES)) rare++;
  });
  return { pieces: e.ids.length, rare };
}
