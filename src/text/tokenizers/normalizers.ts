// The normalizers of a tokenizer.json, each a function from one NormalizedString to the next,
// keeping alignments the way tokenizers' normalizers do: BertNormalizer, Lowercase, NFC/NFD/NFKC/
// NFKD, StripAccents, Strip, Replace, Prepend, Nmt, Precompiled and Sequence.
// Left out: ByteLevel-as-normalizer and the rarer Chinese-conversion normalizers, which no
// BERT-family NER checkpoint uses (they fail with an error naming them). Replace takes its regex
// through JavaScript's RegExp, which agrees with Oniguruma on the simple patterns tokenizer.json
// files carry (" {2,}" and the like) but not on every construct.
// Hand-written because offsets must survive every normalizer, which no npm package tracks.

import {
  codePointAt,
  isBertControl,
  isBertWhitespace,
  isChineseChar,
  isNonspacingMark,
  isWhitespace,
  lowercaseOf,
  unitWidth,
} from "./char-classes.js";
import { literalRanges, mapChars, NormalizedString, prepend, regexRanges, replaceRanges, strip } from "./normalized-string.js";
import { precompiledNormalizer } from "./precompiled.js";
import type { Normalizer } from "./types.js";
import { normalizeForm } from "./unicode-normalize.js";
import { bool, field, FormatProblem, kind, optionalString, str } from "./json-fields.js";

export const lowercase: Normalizer = (ns) => mapChars(ns, (c) => (c >= 65 && c <= 90) || c >= 0x80 ? changed(lowercaseOf(c), c) : undefined);

/** Removes nonspacing marks (the reference's StripAccents: no decomposition of its own). */
export const stripNonspacingMarks: Normalizer = (ns) => mapChars(ns, (c) => (c >= 0x300 && isNonspacingMark(c) ? "" : undefined));

export function bertNormalizer(options: { cleanText: boolean; chineseChars: boolean; stripAccents: boolean; lowercase: boolean }): Normalizer {
  return (ns) => {
    if (options.cleanText) {
      ns = mapChars(ns, (c) => {
        if (c === 0 || c === 0xfffd || isBertControl(c)) return "";
        if (c !== 32 && isBertWhitespace(c)) return " ";
        return undefined;
      });
    }
    if (options.chineseChars) ns = spaceChineseChars(ns);
    if (options.stripAccents) ns = stripNonspacingMarks(normalizeForm(ns, "NFD"));
    if (options.lowercase) ns = lowercase(ns);
    return ns;
  };
}

/**
 * Puts a space on each side of every CJK ideograph. As in the reference's change list
 * [(' ', +1), (c, 0), (' ', +1)], the space before is an insertion after the previous character
 * (aligned to it, or to the empty range at the start) and the space after is aligned to c.
 */
function spaceChineseChars(ns: NormalizedString): NormalizedString {
  const text = ns.text;
  let found = false;
  for (let i = 0; i < text.length && !found; i++) found = isChineseChar(codePointAt(text, i));
  if (!found) return ns;
  const parts: string[] = [];
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    const w = unitWidth(c);
    if (isChineseChar(c)) {
      parts.push(" ");
      start.push(i > 0 ? ns.start[i - 1] : ns.origStart);
      end.push(i > 0 ? ns.end[i - 1] : ns.origStart);
    }
    parts.push(text.slice(i, i + w));
    for (let k = 0; k < w; k++) {
      start.push(ns.start[i]);
      end.push(ns.end[i]);
    }
    if (isChineseChar(c)) {
      parts.push(" ");
      start.push(ns.start[i]);
      end.push(ns.end[i]);
    }
    i += w;
  }
  return new NormalizedString(parts.join(""), start, end, ns.origStart);
}

/** SentencePiece's nmt_nfkc clean-up without the NFKC: drops some controls, maps others to a space. */
export const nmt: Normalizer = (ns) =>
  mapChars(ns, (c) => {
    if ((c >= 0x1 && c <= 0x8) || c === 0xb || (c >= 0xe && c <= 0x1f) || c === 0x7f || c === 0x8f || c === 0x9f) return "";
    if (c === 0x9 || c === 0xa || c === 0xc || c === 0xd || c === 0x1680 || (c >= 0x200b && c <= 0x200f)) return " ";
    if (c === 0x2028 || c === 0x2029 || c === 0x2581 || c === 0xfeff || c === 0xfffd) return " ";
    return undefined;
  });

function changed(next: string, c: number): string | undefined {
  return next.length === 1 && next.charCodeAt(0) === c ? undefined : next;
}

/** A Replace pattern: {"String": "..."} or {"Regex": "..."}. */
export function patternRanges(pattern: unknown, where: string): (text: string) => [number, number][] {
  const p = kind(pattern, where);
  if (typeof p.String === "string") {
    const literal = p.String;
    return (text) => literalRanges(text, literal);
  }
  if (typeof p.Regex === "string") {
    let regex: RegExp;
    try {
      regex = new RegExp(p.Regex, "gu");
    } catch (error) {
      throw new FormatProblem(`${where}: regex ${JSON.stringify(p.Regex)} is not supported here (${(error as Error).message})`);
    }
    return (text) => regexRanges(text, regex);
  }
  throw new FormatProblem(`${where}: pattern must be {"String": ...} or {"Regex": ...}`);
}

export function buildNormalizer(json: unknown, where = "normalizer"): Normalizer | undefined {
  if (json === null || json === undefined) return undefined;
  const spec = kind(json, where);
  switch (spec.type) {
    case "BertNormalizer": {
      const lower = bool(spec, "lowercase", true, where);
      const strip = spec.strip_accents;
      return bertNormalizer({
        cleanText: bool(spec, "clean_text", true, where),
        chineseChars: bool(spec, "handle_chinese_chars", true, where),
        // The reference: strip_accents = null means "whatever lowercase is".
        stripAccents: strip === null || strip === undefined ? lower : bool(spec, "strip_accents", lower, where),
        lowercase: lower,
      });
    }
    case "Lowercase":
      return lowercase;
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = spec.type;
      return (ns) => normalizeForm(ns, form);
    }
    case "StripAccents":
      return stripNonspacingMarks;
    case "Strip": {
      const left = bool(spec, "strip_left", true, where);
      const right = bool(spec, "strip_right", true, where);
      return (ns) => strip(ns, left, right, isWhitespace);
    }
    case "Replace": {
      const ranges = patternRanges(field(spec, "pattern", where), `${where}.pattern`);
      const content = str(spec, "content", where);
      return (ns) => replaceRanges(ns, ranges(ns.text), content);
    }
    case "Prepend": {
      const prefix = str(spec, "prepend", where);
      return (ns) => prepend(ns, prefix);
    }
    case "Nmt":
      return nmt;
    case "Precompiled":
      return precompiledNormalizer(optionalString(spec, "precompiled_charsmap", where) ?? "", where);
    case "Sequence": {
      const list = field(spec, "normalizers", where);
      if (!Array.isArray(list)) throw new FormatProblem(`${where}.normalizers must be a list`);
      const steps = list.map((item, k) => buildNormalizer(item, `${where}.normalizers[${k}]`)).filter((n): n is Normalizer => !!n);
      return (ns) => steps.reduce((acc, step) => step(acc), ns);
    }
    default:
      throw new FormatProblem(`${where}: normalizer type ${JSON.stringify(spec.type)} is not supported`);
  }
}
