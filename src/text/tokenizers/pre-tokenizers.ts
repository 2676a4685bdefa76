// The pre-tokenizers of a tokenizer.json: each splits one NormalizedString into words (and may
// rewrite them, as ByteLevel and Metaspace do), following tokenizers' pre_tokenizers:
//   BertPreTokenizer  whitespace removed, every punctuation character its own word
//   ByteLevel         optional leading space, GPT-2's regex, then each UTF-8 byte as a printable char
//   Metaspace         spaces become "▁", "▁" prepended (always / first / never), split before each "▁"
//   Whitespace, WhitespaceSplit, Punctuation, Digits, Split, Sequence
// Left out: UnicodeScripts, CharDelimiterSplit and the training-only pre-tokenizers (they fail with
// an error naming them). Regexes run on JavaScript's engine with \s spelled as White_Space, which is
// what Oniguruma's \s means, so GPT-2's pattern splits identically.
// Hand-written because word ids come from these splits, which the npm package does not expose.

import { codePointAt, isBertPunctuation, isNumber, isWhitespace, unitWidth } from "./char-classes.js";
import { bool, field, FormatProblem, kind, optionalString } from "./json-fields.js";
import {
  charPartition,
  literalRanges,
  mapChars,
  NormalizedString,
  prepend,
  regexPartition,
  replaceRanges,
  splitBy,
  type Partition,
  type SplitBehavior,
} from "./normalized-string.js";
import { patternRanges } from "./normalizers.js";
import type { PreTokenizer } from "./types.js";

/** BERT: cut at whitespace (dropped) and around each punctuation character, in one pass. */
export const bertPreTokenizer: PreTokenizer = (ns, out) => {
  const text = ns.text;
  let wordStart = -1;
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    const w = unitWidth(c);
    if (isWhitespace(c) || isBertPunctuation(c)) {
      if (wordStart >= 0) out.push(ns.slice(wordStart, i));
      wordStart = -1;
      if (!isWhitespace(c)) out.push(ns.slice(i, i + w));
    } else if (wordStart < 0) {
      wordStart = i;
    }
    i += w;
  }
  if (wordStart >= 0) out.push(ns.slice(wordStart, text.length));
};

// GPT-2's pattern, with \s and \S as White_Space (Oniguruma's meaning; JavaScript's \s differs).
const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const WORD_CHAR = String.raw`\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`;
const WHITESPACE_WORDS = new RegExp(`[${WORD_CHAR}]+|[^${WORD_CHAR}\\p{White_Space}]+`, "gu");

/** The printable character GPT-2 uses for each byte (bytes_to_unicode). */
export const BYTE_CHARS: string[] = (() => {
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCharCode(printable ? b : next++));
  }
  return chars;
})();

/**
 * The byte characters of one code point's UTF-8 encoding. A lone surrogate (which no Rust string
 * can hold) is encoded as U+FFFD, the character Python would have substituted on its way in.
 */
function byteCharsOf(c: number): string {
  if (c < 0x80) return BYTE_CHARS[c];
  if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
  if (c < 0x800) return BYTE_CHARS[0xc0 | (c >> 6)] + BYTE_CHARS[0x80 | (c & 0x3f)];
  if (c < 0x10000) return BYTE_CHARS[0xe0 | (c >> 12)] + BYTE_CHARS[0x80 | ((c >> 6) & 0x3f)] + BYTE_CHARS[0x80 | (c & 0x3f)];
  return (
    BYTE_CHARS[0xf0 | (c >> 18)] +
    BYTE_CHARS[0x80 | ((c >> 12) & 0x3f)] +
    BYTE_CHARS[0x80 | ((c >> 6) & 0x3f)] +
    BYTE_CHARS[0x80 | (c & 0x3f)]
  );
}

/** Rewrites every character as its byte characters; all of them align to the character. */
export function toByteChars(ns: NormalizedString): NormalizedString {
  return mapChars(ns, (c) => (c >= 0x21 && c <= 0x7e ? undefined : byteCharsOf(c)));
}

export function byteLevel(addPrefixSpace: boolean, useRegex: boolean): PreTokenizer {
  return (ns, out) => {
    if (addPrefixSpace && !ns.text.startsWith(" ")) ns = prepend(ns, " ");
    const words: NormalizedString[] = [];
    if (useRegex) splitBy(ns, regexPartition(ns.text, GPT2_PATTERN), "isolated", words);
    else words.push(ns);
    for (const word of words) out.push(toByteChars(word));
  };
}

export type PrependScheme = "always" | "first" | "never";

export function metaspace(replacement: string, scheme: PrependScheme, split: boolean): PreTokenizer {
  const replacementCode = replacement.codePointAt(0)!;
  return (ns, out) => {
    ns = replaceRanges(ns, literalRanges(ns.text, " "), replacement);
    const starts = ns.text.startsWith(replacement);
    if (!starts && (scheme === "always" || (scheme === "first" && ns.origStart === 0))) ns = prepend(ns, replacement);
    if (split) splitBy(ns, charPartition(ns.text, (c) => c === replacementCode), "merged_with_next", out);
    else if (!ns.isEmpty) out.push(ns);
  };
}

const splitWith =
  (partition: (text: string) => Partition, behavior: SplitBehavior): PreTokenizer =>
  (ns, out) =>
    splitBy(ns, partition(ns.text), behavior, out);

function behaviorOf(spec: Record<string, unknown>, fallback: SplitBehavior, where: string): SplitBehavior {
  const value = optionalString(spec, "behavior", where);
  if (value === undefined) return fallback;
  const name = value.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() as SplitBehavior;
  if (!["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"].includes(name)) {
    throw new FormatProblem(`${where}.behavior ${JSON.stringify(value)} is not a split behavior`);
  }
  return name;
}

function prependSchemeOf(spec: Record<string, unknown>, where: string): PrependScheme {
  const scheme = optionalString(spec, "prepend_scheme", where);
  if (scheme === undefined) return bool(spec, "add_prefix_space", true, where) ? "always" : "never";
  if (scheme !== "always" && scheme !== "first" && scheme !== "never") {
    throw new FormatProblem(`${where}.prepend_scheme ${JSON.stringify(scheme)} must be always, first or never`);
  }
  return scheme;
}

export function buildPreTokenizer(json: unknown, where = "pre_tokenizer"): PreTokenizer | undefined {
  if (json === null || json === undefined) return undefined;
  const spec = kind(json, where);
  switch (spec.type) {
    case "BertPreTokenizer":
      return bertPreTokenizer;
    case "ByteLevel":
      return byteLevel(bool(spec, "add_prefix_space", true, where), bool(spec, "use_regex", true, where));
    case "Metaspace": {
      const replacement = optionalString(spec, "replacement", where) ?? "▁";
      if ([...replacement].length !== 1) throw new FormatProblem(`${where}.replacement must be one character`);
      return metaspace(replacement, prependSchemeOf(spec, where), bool(spec, "split", true, where));
    }
    case "Whitespace":
      // Keeps the matches of \w+|[^\w\s]+ (with Rust's Unicode \w) and drops what lies between.
      return splitWith(
        (text) => regexPartition(text, WHITESPACE_WORDS).map(([s, e, m]) => [s, e, !m] as [number, number, boolean]),
        "removed",
      );
    case "WhitespaceSplit":
      return splitWith((text) => charPartition(text, isWhitespace), "removed");
    case "Punctuation":
      return splitWith((text) => charPartition(text, isBertPunctuation), behaviorOf(spec, "isolated", where));
    case "Digits": {
      const individual = bool(spec, "individual_digits", false, where);
      // Rust's char::is_numeric: any Unicode number (Nd, Nl, No).
      return splitWith((text) => charPartition(text, isNumber), individual ? "isolated" : "contiguous");
    }
    case "Split": {
      const ranges = patternRanges(field(spec, "pattern", where), `${where}.pattern`);
      const invert = bool(spec, "invert", false, where);
      const behavior = behaviorOf(spec, "removed", where);
      return splitWith((text) => {
        const partition = rangesToPartition(text, ranges(text));
        return invert ? partition.map(([s, e, m]) => [s, e, !m]) : partition;
      }, behavior);
    }
    case "Sequence": {
      const list = field(spec, "pretokenizers", where);
      if (!Array.isArray(list)) throw new FormatProblem(`${where}.pretokenizers must be a list`);
      const steps = list.map((item, k) => buildPreTokenizer(item, `${where}.pretokenizers[${k}]`)).filter((p): p is PreTokenizer => !!p);
      return (ns, out) => {
        let pieces = [ns];
        for (const step of steps) {
          const next: NormalizedString[] = [];
          for (const piece of pieces) step(piece, next);
          pieces = next;
        }
        out.push(...pieces);
      };
    }
    default:
      throw new FormatProblem(`${where}: pre-tokenizer type ${JSON.stringify(spec.type)} is not supported`);
  }
}

function rangesToPartition(text: string, ranges: [number, number][]): Partition {
  const out: Partition = [];
  let last = 0;
  for (const [s, e] of ranges) {
    if (last < s) out.push([last, s, false]);
    out.push([s, e, true]);
    last = e;
  }
  if (last < text.length) out.push([last, text.length, false]);
  return out;
}
