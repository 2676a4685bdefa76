// Character classes the Hugging Face tokenizers test per character (whitespace, punctuation,
// "other", nonspacing marks, marks, numbers, CJK ideographs, word characters), looked up in one table for the
// Basic Multilingual Plane so that hot loops never build a one-character string. Astral code points
// fall back to a regular expression. Hand-written because @huggingface/tokenizers exposes none of
// this; the Unicode version is whatever Node's ICU carries, which can differ from the Rust crates'
// tables for characters assigned in the last few Unicode versions (left as is: it moves no fixture).

const WHITESPACE = 1; // Rust char::is_whitespace = Unicode White_Space (JS \s differs: U+FEFF, U+0085)
const PUNCTUATION = 2; // BERT punctuation: ASCII punctuation or Unicode P*
const OTHER = 4; // Unicode C* (Cc, Cf, Cs, Co, Cn): BERT's "control"
const NONSPACING_MARK = 8; // Mn, dropped when stripping accents
const WORD = 16; // Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control
const NUMBER = 64; // \p{N}
const MARK = 128; // \p{M}: continues the character before it when normalizing

const PATTERNS: [number, RegExp][] = [
  [WHITESPACE, /^\p{White_Space}$/u],
  [PUNCTUATION, /^[\p{P}!-/:-@[-`{-~]$/u],
  [OTHER, /^\p{C}$/u],
  [NONSPACING_MARK, /^\p{Mn}$/u],
  [WORD, /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u],
  [NUMBER, /^\p{N}$/u],
  [MARK, /^\p{M}$/u],
];

const COMPUTED = 0x8000; // set once a BMP entry has been classified (the table fills lazily)
const bmpTable = new Uint16Array(0x10000);

function classify(codePoint: number): number {
  // A lone surrogate becomes a one-unit string, which /u patterns see as Cs ("other").
  const char = String.fromCodePoint(codePoint);
  let flags = 0;
  for (const [flag, pattern] of PATTERNS) if (pattern.test(char)) flags |= flag;
  return flags;
}

function flagsOf(codePoint: number): number {
  if (codePoint >= 0x10000) return classify(codePoint);
  let flags = bmpTable[codePoint];
  if (flags === 0) bmpTable[codePoint] = flags = classify(codePoint) | COMPUTED;
  return flags;
}

export const isWhitespace = (c: number): boolean => (flagsOf(c) & WHITESPACE) !== 0;
export const isBertPunctuation = (c: number): boolean => (flagsOf(c) & PUNCTUATION) !== 0;
export const isOther = (c: number): boolean => (flagsOf(c) & OTHER) !== 0;
export const isNonspacingMark = (c: number): boolean => (flagsOf(c) & NONSPACING_MARK) !== 0;
export const isWordChar = (c: number): boolean => (flagsOf(c) & WORD) !== 0;
export const isNumber = (c: number): boolean => (flagsOf(c) & NUMBER) !== 0;
export const isMark = (c: number): boolean => (flagsOf(c) & MARK) !== 0;

/** BertNormalizer's "whitespace": \t \n \r or White_Space. */
export const isBertWhitespace = (c: number): boolean => c === 9 || c === 10 || c === 13 || isWhitespace(c);

/** BertNormalizer's "control": any C* category except \t \n \r. */
export const isBertControl = (c: number): boolean => c !== 9 && c !== 10 && c !== 13 && isOther(c);

/** The CJK ideograph blocks BERT puts spaces around (the same ranges as tokenizers' bert.rs). */
export function isChineseChar(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

/** The code point at unit `i`; a lone surrogate is returned as itself (one unit wide). */
export function codePointAt(text: string, i: number): number {
  return text.codePointAt(i)!;
}

/** UTF-16 width of a code point. */
export const unitWidth = (c: number): number => (c > 0xffff ? 2 : 1);

/** Lowercase of one code point as Rust's char::to_lowercase gives it (no final-sigma context). */
export function lowercaseOf(c: number): string {
  if (c < 0x80) return String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  return String.fromCodePoint(c).toLowerCase();
}

/** Number of code points in `text` (a lone surrogate counts as one). */
export function codePointCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
      const v = text.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
