// The Precompiled normalizer: SentencePiece's compiled normalization rules (nmt_nfkc and the like,
// as shipped in XLM-R's tokenizer.json), read from the base64 `precompiled_charsmap`:
//   [u32 little-endian: trie size in bytes][trie: u32 units (a Darts double array over UTF-8
//   bytes)][replacement strings, each ending in \0]
// Applied as tokenizers applies it (normalizers/precompiled.rs): each extended grapheme cluster
// shorter than 6 UTF-8 bytes is looked up whole, else each of its characters; the lookup takes the
// FIRST (shortest) prefix the trie knows, and the change list the reference builds (new characters
// replace old ones in order, extra ones are insertions, a shorter result drops the rest) sets the
// alignments. Graphemes come from Intl.Segmenter, whose Unicode version may differ slightly from
// the unicode-segmentation crate's. Left out: the crate's longest-prefix normalize_string, which
// tokenizers does not call.
// Hand-written: no npm package reads this format with alignments.

import { codePointAt, unitWidth } from "./char-classes.js";
import { FormatProblem } from "./json-fields.js";
import { applyChanges, type NormalizedString } from "./normalized-string.js";
import type { Normalizer } from "./types.js";

/** The double array and replacement strings of one charsmap. */
export class Charsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly decoded = new Map<number, string>();
  private readonly key = new Uint8Array(64);

  constructor(bytes: Uint8Array) {
    if (bytes.length < 4) throw new Error("too short");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize % 4 !== 0 || 4 + trieSize > bytes.length || trieSize === 0) throw new Error(`bad trie size ${trieSize}`);
    this.units = new Uint32Array(trieSize / 4);
    for (let k = 0; k < this.units.length; k++) this.units[k] = view.getUint32(4 + 4 * k, true);
    this.strings = bytes.subarray(4 + trieSize);
  }

  /** The replacement for `chunk` (its shortest known prefix's), or undefined. */
  transform(chunk: string): string | undefined {
    const length = this.encode(chunk);
    if (length < 0) return undefined;
    const units = this.units;
    let unit = units[0];
    let node = offsetOf(unit);
    for (let k = 0; k < length; k++) {
      const c = this.key[k];
      if (c === 0) break;
      node ^= c;
      if (node >= units.length) return undefined;
      unit = units[node];
      if ((unit & 0x800000ff) >>> 0 !== c) return undefined; // label mismatch (a leaf unit never matches)
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) return this.stringAt(units[node] & 0x7fffffff);
    }
    return undefined;
  }

  /** UTF-8 of `chunk` into the key buffer; -1 if it does not fit (then nothing can match). */
  private encode(chunk: string): number {
    let n = 0;
    const key = this.key;
    for (let i = 0; i < chunk.length; ) {
      let c = codePointAt(chunk, i);
      i += unitWidth(c);
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (n + 4 > key.length) return -1;
      if (c < 0x80) key[n++] = c;
      else if (c < 0x800) {
        key[n++] = 0xc0 | (c >> 6);
        key[n++] = 0x80 | (c & 0x3f);
      } else if (c < 0x10000) {
        key[n++] = 0xe0 | (c >> 12);
        key[n++] = 0x80 | ((c >> 6) & 0x3f);
        key[n++] = 0x80 | (c & 0x3f);
      } else {
        key[n++] = 0xf0 | (c >> 18);
        key[n++] = 0x80 | ((c >> 12) & 0x3f);
        key[n++] = 0x80 | ((c >> 6) & 0x3f);
        key[n++] = 0x80 | (c & 0x3f);
      }
    }
    return n;
  }

  private stringAt(index: number): string {
    let value = this.decoded.get(index);
    if (value === undefined) {
      let end = index;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      value = new TextDecoder().decode(this.strings.subarray(index, end));
      this.decoded.set(index, value);
    }
    return value;
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += unitWidth(c);
  }
  return n;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const ASCII_WITHOUT_CR = /^[\x00-\x0c\x0e-\x7f]*$/;

/** The reference's `replace`: new characters replace old ones in order; extras insert; fewer drop. */
function pushReplacement(chars: string[], changes: number[], oldPart: string, newPart: string): void {
  const newChars = [...newPart];
  const diff = newChars.length - [...oldPart].length;
  for (const c of newChars) {
    chars.push(c);
    changes.push(0);
  }
  if (diff > 0) for (let k = 0; k < diff; k++) changes[changes.length - 1 - k] = 1;
  else if (diff < 0 && changes.length > 0) changes[changes.length - 1] += diff;
}

/** Base64 to bytes with atob, which Node and browsers both have (Buffer is Node's only); whitespace is skipped, as Buffer skips it. */
function base64Bytes(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function precompiledNormalizer(charsmapBase64: string, where: string): Normalizer {
  let charsmap: Charsmap;
  try {
    charsmap = new Charsmap(base64Bytes(charsmapBase64));
  } catch (error) {
    throw new FormatProblem(`${where}: the Precompiled normalizer's precompiled_charsmap cannot be read (${(error as Error).message})`);
  }
  return (ns: NormalizedString) => normalizePrecompiled(ns, charsmap);
}

export function normalizePrecompiled(ns: NormalizedString, charsmap: Charsmap): NormalizedString {
  const text = ns.text;
  if (text.length === 0) return ns;
  const graphemes: string[] = [];
  if (ASCII_WITHOUT_CR.test(text)) for (const c of text) graphemes.push(c);
  else for (const { segment } of segmenter.segment(text)) graphemes.push(segment);
  const chars: string[] = [];
  const changes: number[] = [];
  let modified = false;
  for (const grapheme of graphemes) {
    if (utf8Length(grapheme) < 6) {
      const whole = charsmap.transform(grapheme);
      if (whole !== undefined) {
        modified = true;
        pushReplacement(chars, changes, grapheme, whole);
        continue;
      }
    }
    for (const c of grapheme) {
      const part = charsmap.transform(c);
      if (part !== undefined) {
        modified = true;
        pushReplacement(chars, changes, c, part);
      } else {
        chars.push(c);
        changes.push(0);
      }
    }
  }
  return modified ? applyChanges(ns, chars, changes) : ns;
}
