// Post-processors: the special tokens around a sequence and, for byte-level BPE, the trimming of
// offsets, as tokenizers' processors do it:
//   TemplateProcessing  "[CLS]:0 $A:0 [SEP]:0" (special tokens with [0, 0] offsets, no word id)
//   BertProcessing      [CLS] A [SEP]
//   RobertaProcessing   <s> A </s>, every type id 0, offsets trimmed first when trim_offsets
//   ByteLevel           offsets trimmed, nothing added
//   Sequence            each of the above in turn
// Trimming moves an offset past the leading / trailing "Ġ" (or whitespace) characters of its token,
// counted in code points as the reference counts them, except the single added prefix space of a
// first token. Left out: pair encodings (NER encodes one sequence at a time) and overflow windows.
// Hand-written because the npm @huggingface/tokenizers returns no offsets to trim.

import { codePointAt, unitWidth, isWhitespace } from "./char-classes.js";
import { bool, field, FormatProblem, isObject, kind, type JsonObject } from "./json-fields.js";
import type { PostProcessor, WorkingEncoding } from "./types.js";

const SPACE_BYTE_CHAR = 0x120; // "Ġ", GPT-2's stand-in for the space byte

function isTrimmable(c: number): boolean {
  return c === SPACE_BYTE_CHAR || isWhitespace(c);
}

/** The reference's byte_level::process_offsets, on UTF-16 offsets stepped by code points. */
export function trimOffsets(encoding: WorkingEncoding, addPrefixSpace: boolean): void {
  for (let i = 0; i < encoding.ids.length; i++) {
    const value = encoding.values[i];
    let leading = 0;
    for (let k = 0; k < value.length; k += unitWidth(codePointAt(value, k))) {
      if (!isTrimmable(codePointAt(value, k))) break;
      leading++;
    }
    let trailing = 0;
    for (let k = value.length; k > 0; ) {
      const c = codePointBefore(value, k);
      if (!isTrimmable(c)) break;
      trailing++;
      k -= unitWidth(c);
    }
    if (leading === 0 && trailing === 0) continue;
    const source = encoding.sources[i];
    let start = encoding.starts[i];
    let end = encoding.ends[i];
    if (leading > 0) {
      const isFirst = i === 0 || start === 0;
      if (!(isFirst && addPrefixSpace && leading === 1)) start = Math.min(forward(source, start, leading), end);
    }
    if (trailing > 0 && codePointsBefore(source, end, trailing) >= trailing) end = Math.max(backward(source, end, trailing), start);
    encoding.starts[i] = start;
    encoding.ends[i] = end;
  }
}

function codePointBefore(text: string, end: number): number {
  const low = text.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return ((high - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  }
  return low;
}

function forward(text: string, at: number, count: number): number {
  for (let k = 0; k < count && at < text.length; k++) at += unitWidth(codePointAt(text, at));
  return at;
}

function backward(text: string, at: number, count: number): number {
  for (let k = 0; k < count && at > 0; k++) at -= unitWidth(codePointBefore(text, at));
  return at;
}

/** Code points before `end`, counted only as far as `atLeast` needs. */
function codePointsBefore(text: string, end: number, atLeast: number): number {
  if (end >= 2 * atLeast) return end; // each code point is at most two units
  let n = 0;
  for (let at = end; at > 0 && n < atLeast; at -= unitWidth(codePointBefore(text, at))) n++;
  return n;
}

interface Special {
  ids: number[];
  tokens: string[];
}

type TemplatePiece = { sequence: true; typeId: number } | { sequence: false; special: string; typeId: number };

function applyTemplate(encoding: WorkingEncoding, pieces: TemplatePiece[], specials: Map<string, Special>, add: boolean): WorkingEncoding {
  const out: WorkingEncoding = { ids: [], values: [], starts: [], ends: [], wordIds: [], typeIds: [], specialTokensMask: [], sources: [] };
  for (const piece of pieces) {
    if (piece.sequence) {
      for (let i = 0; i < encoding.ids.length; i++) {
        out.ids.push(encoding.ids[i]);
        out.values.push(encoding.values[i]);
        out.starts.push(encoding.starts[i]);
        out.ends.push(encoding.ends[i]);
        out.wordIds.push(encoding.wordIds[i]);
        out.typeIds.push(piece.typeId);
        out.specialTokensMask.push(encoding.specialTokensMask[i]);
        out.sources.push(encoding.sources[i]);
      }
    } else if (add) {
      const special = specials.get(piece.special)!;
      special.ids.forEach((id, k) => {
        out.ids.push(id);
        out.values.push(special.tokens[k]);
        out.starts.push(0);
        out.ends.push(0);
        out.wordIds.push(null);
        out.typeIds.push(piece.typeId);
        out.specialTokensMask.push(1);
        out.sources.push("");
      });
    }
  }
  return out;
}

function templatePiece(item: unknown, where: string): TemplatePiece {
  if (typeof item === "string") {
    // The string form: "$A", "$A:0", "$0", "[CLS]:0".
    const [name, type] = item.split(":");
    const typeId = type === undefined ? 0 : Number(type);
    if (!Number.isInteger(typeId)) throw new FormatProblem(`${where}: bad type id in ${JSON.stringify(item)}`);
    if (name.startsWith("$")) return { sequence: true, typeId };
    return { sequence: false, special: name, typeId };
  }
  const spec = kind(item, where);
  if (isObject(spec.Sequence)) return { sequence: true, typeId: Number(spec.Sequence.type_id ?? 0) };
  if (isObject(spec.SpecialToken)) {
    const id = spec.SpecialToken.id;
    if (typeof id !== "string") throw new FormatProblem(`${where}.SpecialToken.id must be a string`);
    return { sequence: false, special: id, typeId: Number(spec.SpecialToken.type_id ?? 0) };
  }
  throw new FormatProblem(`${where} must be a Sequence or a SpecialToken`);
}

function pairField(spec: JsonObject, key: string, where: string): Special {
  const value = field(spec, key, where);
  if (!Array.isArray(value) || typeof value[0] !== "string" || typeof value[1] !== "number") {
    throw new FormatProblem(`${where}.${key} must be [token, id]`);
  }
  return { ids: [value[1]], tokens: [value[0]] };
}

/** [cls] A [sep], every type id 0. */
function wrap(cls: Special, sep: Special): PostProcessor {
  const specials = new Map([["cls", cls], ["sep", sep]]);
  const pieces: TemplatePiece[] = [
    { sequence: false, special: "cls", typeId: 0 },
    { sequence: true, typeId: 0 },
    { sequence: false, special: "sep", typeId: 0 },
  ];
  return (encoding, add) => applyTemplate(encoding, pieces, specials, add);
}

export function buildPostProcessor(json: unknown, where = "post_processor"): PostProcessor | undefined {
  if (json === null || json === undefined) return undefined;
  const spec = kind(json, where);
  switch (spec.type) {
    case "TemplateProcessing": {
      const single = field(spec, "single", where);
      if (!Array.isArray(single)) throw new FormatProblem(`${where}.single must be a list`);
      const pieces = single.map((item, k) => templatePiece(item, `${where}.single[${k}]`));
      const specials = new Map<string, Special>();
      const table = kind(spec.special_tokens ?? {}, `${where}.special_tokens`);
      for (const [name, value] of Object.entries(table)) {
        const entry = kind(value, `${where}.special_tokens.${name}`);
        if (!Array.isArray(entry.ids) || !Array.isArray(entry.tokens)) {
          throw new FormatProblem(`${where}.special_tokens.${name} needs ids and tokens`);
        }
        specials.set(name, { ids: entry.ids as number[], tokens: entry.tokens as string[] });
      }
      for (const piece of pieces) {
        if (!piece.sequence && !specials.has(piece.special)) {
          throw new FormatProblem(`${where}: special token ${JSON.stringify(piece.special)} is used but not listed in special_tokens`);
        }
      }
      return (encoding, add) => applyTemplate(encoding, pieces, specials, add);
    }
    case "BertProcessing":
      return wrap(pairField(spec, "cls", where), pairField(spec, "sep", where));
    case "RobertaProcessing": {
      const inner = wrap(pairField(spec, "cls", where), pairField(spec, "sep", where));
      const trim = bool(spec, "trim_offsets", true, where);
      const prefixSpace = bool(spec, "add_prefix_space", true, where);
      return (encoding, add) => {
        if (trim) trimOffsets(encoding, prefixSpace);
        return inner(encoding, add);
      };
    }
    case "ByteLevel": {
      const trim = bool(spec, "trim_offsets", true, where);
      const prefixSpace = bool(spec, "add_prefix_space", true, where);
      return (encoding) => {
        if (trim) trimOffsets(encoding, prefixSpace);
        return encoding;
      };
    }
    case "Sequence": {
      const list = field(spec, "processors", where);
      if (!Array.isArray(list)) throw new FormatProblem(`${where}.processors must be a list`);
      const steps = list.map((item, k) => buildPostProcessor(item, `${where}.processors[${k}]`)).filter((p): p is PostProcessor => !!p);
      return (encoding, add) => steps.reduce((acc, step) => step(acc, add), encoding);
    }
    default:
      throw new FormatProblem(`${where}: post-processor type ${JSON.stringify(spec.type)} is not supported`);
  }
}
