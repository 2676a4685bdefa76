// Added tokens ("[MASK]", "<s>", user additions) found in text before the model sees it, as
// tokenizers' AddedVocabulary does: leftmost-longest non-overlapping matches, first of the tokens
// with normalized=false on the raw text, then of those with normalized=true on each normalized
// piece; single_word rejects a match touching a word character, lstrip/rstrip widen a match over
// the whitespace beside it. Each match becomes its own word, tokenized as that one id.
// Left out: adding tokens at run time (the set is fixed at load).
// Hand-written with the rest of the pipeline: the npm @huggingface/tokenizers hides these splits.

import { codePointAt, isWhitespace, isWordChar } from "./char-classes.js";
import { NormalizedString } from "./normalized-string.js";
import type { Normalizer } from "./types.js";

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of the input: either still text to pre-tokenize, or one added token's id. */
export interface Piece {
  ns: NormalizedString;
  addedId?: number;
}

interface Matcher {
  pattern: RegExp; // alternation of the contents, longest first: leftmost-longest by construction
  tokens: Map<string, AddedToken>; // matched text → token
}

function buildMatcher(entries: [string, AddedToken][]): Matcher | undefined {
  const usable = entries.filter(([text]) => text.length > 0);
  if (usable.length === 0) return undefined;
  const tokens = new Map<string, AddedToken>();
  for (const [text, token] of usable) if (!tokens.has(text)) tokens.set(text, token);
  const alternatives = [...tokens.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return { pattern: new RegExp(alternatives.join("|"), "g"), tokens };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

export class AddedVocabulary {
  private readonly raw: Matcher | undefined;
  private readonly normalized: Matcher | undefined;

  constructor(
    readonly tokens: AddedToken[],
    normalize: Normalizer | undefined,
  ) {
    this.raw = buildMatcher(tokens.filter((t) => !t.normalized).map((t) => [t.content, t]));
    // Tokens with normalized=true are searched for in their normalized form.
    const form = (text: string) => (normalize ? normalize(NormalizedString.from(text)).text : text);
    this.normalized = buildMatcher(tokens.filter((t) => t.normalized).map((t) => [form(t.content), t]));
  }

  /**
   * Splits `ns` (the raw input or one word) into pieces: added tokens on the raw text, then the
   * rest normalized and searched for normalized added tokens. Empty pieces are dropped.
   */
  extract(ns: NormalizedString, normalize: Normalizer | undefined, out: Piece[]): void {
    const first: Piece[] = [];
    splitOnMatches(ns, this.raw, first);
    for (const piece of first) {
      if (piece.addedId !== undefined) {
        out.push(piece);
        continue;
      }
      const normalized = normalize ? normalize(piece.ns) : piece.ns;
      splitOnMatches(normalized, this.normalized, out);
    }
  }
}

function splitOnMatches(ns: NormalizedString, matcher: Matcher | undefined, out: Piece[]): void {
  const text = ns.text;
  if (!matcher || text.length === 0) {
    if (text.length > 0) out.push({ ns });
    return;
  }
  let done = 0; // end of the previous piece
  const { pattern, tokens } = matcher;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const token = tokens.get(m[0])!;
    let start = m.index;
    let stop = start + m[0].length;
    if (token.singleWord) {
      const before = start === 0 || !isWordChar(lastCodePoint(text, start));
      const after = stop === text.length || !isWordChar(codePointAt(text, stop));
      if (!before || !after) continue;
    }
    if (token.lstrip) {
      let s = start;
      while (s > 0 && isWhitespace(lastCodePoint(text, s))) s -= lastCodePoint(text, s) > 0xffff ? 2 : 1;
      start = Math.max(s, done);
    }
    if (token.rstrip) {
      while (stop < text.length && isWhitespace(codePointAt(text, stop))) stop += codePointAt(text, stop) > 0xffff ? 2 : 1;
      pattern.lastIndex = stop;
    }
    if (done < start) out.push({ ns: ns.slice(done, start) });
    out.push({ ns: ns.slice(start, stop), addedId: token.id });
    done = stop;
  }
  if (done < text.length) out.push({ ns: ns.slice(done, text.length) });
}

function lastCodePoint(text: string, end: number): number {
  const low = text.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return ((high - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  }
  return low;
}
