// Orthographic words, the unit a redaction covers: a word is a run of letters, marks, digits and
// connectors (\p{L} \p{M} \p{N} \p{Pc}, so "_" too, as the rule detectors' word boundaries count it),
// joined across a single apostrophe, hyphen or zero-width (non-)joiner standing between two such
// characters ("O'Brien", "Jean-Luc", "Paris-based", "می‌خواهم" are one word each). Han, Hiragana
// and Katakana are written without spaces: each of their letters (with the marks after it) is a
// word of its own, or one name would widen to a whole clause. Other scripts written without spaces
// (Thai, Lao, Khmer, Myanmar) are left to the run rule: a name there widens to the run around it,
// more than the name, never less.
// This is not word-tokenizer.ts's word: that one is BERT's basic tokenizer (a cut at every
// punctuation character, "O", "'", "Brien"), which labels are aligned to; a redaction cut there
// would leave "O'" of a name in clear. Offsets are UTF-16, half-open; a surrogate pair is never split.

export interface WordSpan {
  start: number;
  end: number;
}

// Classes with set operations ("v" flag): && intersection, -- difference.
/** A letter or digit of a script written without spaces (their punctuation, "、" "。", is no word). */
const UNSPACED = String.raw`[[\p{L}\p{N}]&&[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]]`;
const LETTER = String.raw`[[\p{L}\p{M}\p{N}\p{Pc}]--${UNSPACED}]`;
const JOINER = String.raw`['’ʼ\-‐‑\u200C\u200D]`;
const WORD = new RegExp(`${UNSPACED}\\p{M}*|${LETTER}+(?:${JOINER}${LETTER}+)*`, "gv");

/** The words of `text`, in order. */
export function wordSpans(text: string): WordSpan[] {
  return [...text.matchAll(WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/** The word that holds `offset` strictly inside it (start < offset < end), if any; `words` sorted, from wordSpans. */
export function wordAround(words: readonly WordSpan[], offset: number): WordSpan | undefined {
  let low = 0;
  let high = words.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const word = words[middle];
    if (offset <= word.start) high = middle - 1;
    else if (offset >= word.end) low = middle + 1;
    else return word;
  }
  return undefined;
}

/** Whether `offset` falls between words (or at a word's edge), not inside one. */
export function onWordBoundary(words: readonly WordSpan[], offset: number): boolean {
  return wordAround(words, offset) === undefined;
}
