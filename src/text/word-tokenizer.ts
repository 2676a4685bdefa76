// Splits raw text into words with their offsets, the way BERT's basic tokenizer does before
// WordPiece: at whitespace, and around every punctuation character, so that entity boundaries
// ("Apple's", "(IBM)") fall between words. Extra boundaries (the ends of annotated spans) split a
// word further, so spans always align with words. Offsets are UTF-16 indices, end-exclusive.
// Whitespace is JavaScript's \s and CoNLL's column whitespace (./column-whitespace.ts) together, so
// a word never holds a character that would split it into two CoNLL columns.

import { isColumnSpace } from "./column-whitespace.js";

export interface Word {
  text: string;
  start: number;
  end: number;
}

const WHITESPACE = /\s/u;
const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/u;

/** Whether [start, end) of `text` holds a character of a word (anything but whitespace): tokenizeWords(slice).length > 0 without building the words. */
export function hasWordCharacter(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; ) {
    const codePoint = text.codePointAt(i)!;
    const width = codePoint > 0xffff ? 2 : 1;
    if (!(isColumnSpace(codePoint) || WHITESPACE.test(text.slice(i, i + width)))) return true;
    i += width;
  }
  return false;
}

/** Words of `text`; a word never crosses any offset in `boundaries`. */
export function tokenizeWords(text: string, boundaries: Iterable<number> = []): Word[] {
  const cuts = new Set(boundaries);
  const words: Word[] = [];
  let start = -1;
  const close = (end: number) => {
    if (start >= 0) words.push({ text: text.slice(start, end), start, end });
    start = -1;
  };
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i)!;
    const width = codePoint > 0xffff ? 2 : 1;
    const char = text.slice(i, i + width);
    if (cuts.has(i)) close(i);
    if (isColumnSpace(codePoint) || WHITESPACE.test(char)) {
      close(i);
    } else if (PUNCTUATION.test(char)) {
      close(i);
      words.push({ text: char, start: i, end: i + width });
    } else if (start < 0) {
      start = i;
    }
    i += width;
  }
  close(text.length);
  return words;
}

/** Joins tokens with single spaces and returns the text with each token's offsets. */
export function joinTokens(tokens: readonly string[]): { text: string; words: Word[] } {
  const words: Word[] = [];
  let offset = 0;
  for (const token of tokens) {
    words.push({ text: token, start: offset, end: offset + token.length });
    offset += token.length + 1;
  }
  return { text: tokens.join(" "), words };
}
