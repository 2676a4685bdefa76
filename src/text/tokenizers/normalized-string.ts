// A piece of input text as it is being normalized and split, with, for every UTF-16 unit of the
// current text, the range of the original input it came from: Hugging Face's NormalizedString,
// with the same alignment rules so that token offsets come out identical. Hand-written because
// @huggingface/tokenizers (npm) tracks no offsets.
//
// Legend: "original" offsets are UTF-16 units of the whole input string (absolute, not relative to
// the piece); "normalized" offsets are UTF-16 units of `text`. The reference keeps one alignment
// per UTF-8 byte, but every byte of a character shares its character's alignment, so one entry per
// UTF-16 unit (both units of a surrogate pair share it) carries the same information.
//
// The reference's change rules, which every operation here follows:
//   - a character that replaces an old one keeps the old one's alignment;
//   - an inserted character takes the alignment of the old character just before the read
//     position (so a replacement's content inherits the alignment of the LAST replaced character);
//   - removed characters leave nothing behind.
// Left out: the reference's original→normalized conversion (nothing here needs it) and its quirk
// for empty normalized ranges (it returns normalized byte offsets as if they were original ones);
// `toOriginal` answers an empty range with an empty range at the nearest aligned position instead.

import { codePointAt, unitWidth } from "./char-classes.js";

export class NormalizedString {
  constructor(
    /** The current (normalized) text. */
    public text: string,
    /** (N) start of the original range for each unit of `text`. */
    public start: number[],
    /** (N) end of the original range for each unit of `text`. */
    public end: number[],
    /** Start of the original range this piece covers (the reference's `original_shift`). */
    public origStart: number,
  ) {}

  static from(text: string, shift = 0): NormalizedString {
    const n = text.length;
    const start = new Array<number>(n);
    const end = new Array<number>(n);
    for (let i = 0; i < n; ) {
      const w = unitWidth(codePointAt(text, i));
      for (let k = 0; k < w; k++) {
        start[i + k] = shift + i;
        end[i + k] = shift + i + w;
      }
      i += w;
    }
    return new NormalizedString(text, start, end, shift);
  }

  get isEmpty(): boolean {
    return this.text.length === 0;
  }

  /** Original range of the normalized units [s, e): first unit's start, last unit's end. */
  toOriginal(s: number, e: number): [number, number] {
    if (s >= e) {
      const at = s < this.start.length ? this.start[s] : this.end.length ? this.end[this.end.length - 1] : this.origStart;
      return [at, at];
    }
    return [this.start[s], this.end[e - 1]];
  }

  /** The piece [s, e) of this string (unit offsets on code point boundaries, s < e). */
  slice(s: number, e: number): NormalizedString {
    return new NormalizedString(this.text.slice(s, e), this.start.slice(s, e), this.end.slice(s, e), this.start[s]);
  }
}

/** Accumulates a new normalized text and its alignments. */
class Builder {
  parts: string[] = [];
  start: number[] = [];
  end: number[] = [];

  push(chars: string, s: number, e: number): void {
    this.parts.push(chars);
    for (let k = 0; k < chars.length; k++) {
      this.start.push(s);
      this.end.push(e);
    }
  }

  /** Copies units [from, to) of `source` unchanged. */
  copy(source: NormalizedString, from: number, to: number): void {
    if (from >= to) return;
    this.parts.push(source.text.slice(from, to));
    for (let i = from; i < to; i++) {
      this.start.push(source.start[i]);
      this.end.push(source.end[i]);
    }
  }

  build(origStart: number): NormalizedString {
    return new NormalizedString(this.parts.join(""), this.start, this.end, origStart);
  }
}

/**
 * Replaces each code point by `f(codePoint)`: undefined keeps it, "" removes it, any other string
 * takes its place (every unit of that string aligned to the replaced character: the first one
 * replaces it, the rest are insertions right after it). Returns `ns` itself when nothing changed.
 */
export function mapChars(ns: NormalizedString, f: (codePoint: number) => string | undefined): NormalizedString {
  const text = ns.text;
  let builder: Builder | undefined;
  let runStart = 0;
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    const w = unitWidth(c);
    const replacement = f(c);
    if (replacement !== undefined) {
      builder ??= new Builder();
      builder.copy(ns, runStart, i);
      builder.push(replacement, ns.start[i], ns.end[i]);
      runStart = i + w;
    }
    i += w;
  }
  if (!builder) return ns;
  builder.copy(ns, runStart, text.length);
  return builder.build(ns.origStart);
}

/**
 * Replaces each [s, e) range (sorted, disjoint, non-empty) by `content`; the content's units are
 * insertions after the removed range, so they take the alignment of its last unit.
 */
export function replaceRanges(ns: NormalizedString, ranges: [number, number][], content: string): NormalizedString {
  if (ranges.length === 0) return ns;
  const builder = new Builder();
  let at = 0;
  for (const [s, e] of ranges) {
    builder.copy(ns, at, s);
    builder.push(content, ns.start[e - 1], ns.end[e - 1]);
    at = e;
  }
  builder.copy(ns, at, ns.text.length);
  return builder.build(ns.origStart);
}

/**
 * The reference's general `transform`: `chars[k]` (one code point each) with `changes[k]` = 0 to
 * replace the next old character, +1 to insert after the last one read, -n to replace the next
 * one and drop the n after it. Used where a normalizer builds such a change list itself.
 */
export function applyChanges(ns: NormalizedString, chars: string[], changes: number[]): NormalizedString {
  const oldAt: number[] = []; // unit index of each old code point
  for (let i = 0; i < ns.text.length; i += unitWidth(codePointAt(ns.text, i))) oldAt.push(i);
  const builder = new Builder();
  let read = 0; // old code points consumed
  for (let k = 0; k < chars.length; k++) {
    const change = changes[k];
    if (change > 0) {
      if (read < 1) builder.push(chars[k], ns.origStart, ns.origStart);
      else builder.push(chars[k], ns.start[oldAt[read - 1]], ns.end[oldAt[read - 1]]);
    } else {
      const at = oldAt[Math.min(read, oldAt.length - 1)];
      builder.push(chars[k], ns.start[at], ns.end[at]);
      read += 1 - change;
    }
  }
  return builder.build(ns.origStart);
}

/** Non-overlapping matches of a global regular expression, as [start, end) unit ranges (empty ones skipped). */
export function regexRanges(text: string, pattern: RegExp): [number, number][] {
  const out: [number, number][] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m[0].length === 0) {
      pattern.lastIndex++;
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/** Non-overlapping occurrences of a literal string, left to right. */
export function literalRanges(text: string, needle: string): [number, number][] {
  const out: [number, number][] = [];
  if (!needle) return out;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) out.push([i, i + needle.length]);
  return out;
}

/** Prepends `prefix`: all of it aligned to the first character (the reference's `prepend`). */
export function prepend(ns: NormalizedString, prefix: string): NormalizedString {
  if (ns.isEmpty || !prefix) return ns;
  const builder = new Builder();
  builder.push(prefix, ns.start[0], ns.end[0]);
  builder.copy(ns, 0, ns.text.length);
  return builder.build(ns.origStart);
}

/** Removes leading and/or trailing whitespace (the reference's lstrip/rstrip). */
export function strip(ns: NormalizedString, left: boolean, right: boolean, isSpace: (c: number) => boolean): NormalizedString {
  let s = 0;
  let e = ns.text.length;
  if (left) while (s < e && isSpace(codePointAt(ns.text, s))) s += unitWidth(codePointAt(ns.text, s));
  if (right) {
    while (e > s) {
      const u = ns.text.charCodeAt(e - 1);
      const back = u >= 0xdc00 && u <= 0xdfff && e - 2 >= s && codePointAt(ns.text, e - 2) > 0xffff ? 2 : 1;
      if (!isSpace(codePointAt(ns.text, e - back))) break;
      e -= back;
    }
  }
  if (s === 0 && e === ns.text.length) return ns;
  const builder = new Builder();
  builder.copy(ns, s, e);
  return builder.build(ns.origStart);
}

// ── Splitting ───────────────────────────────────────────────────────────────────────────────────

/** How a split keeps its delimiters (the reference's SplitDelimiterBehavior). */
export type SplitBehavior = "removed" | "isolated" | "merged_with_previous" | "merged_with_next" | "contiguous";

/** Partition of a text into [start, end, isMatch] pieces, covering it all. */
export type Partition = [number, number, boolean][];

/** Each code point for which `test` holds is its own match (the reference's char-predicate pattern). */
export function charPartition(text: string, test: (c: number) => boolean): Partition {
  const out: Partition = [];
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    const w = unitWidth(c);
    if (test(c)) {
      if (last < i) out.push([last, i, false]);
      out.push([i, i + w, true]);
      last = i + w;
    }
    i += w;
  }
  if (last < text.length) out.push([last, text.length, false]);
  return out;
}

/** Matches of a global regular expression and the gaps between them. */
export function regexPartition(text: string, pattern: RegExp): Partition {
  const out: Partition = [];
  let last = 0;
  for (const [s, e] of regexRanges(text, pattern)) {
    if (last < s) out.push([last, s, false]);
    out.push([s, e, true]);
    last = e;
  }
  if (last < text.length) out.push([last, text.length, false]);
  return out;
}

/** Splits `ns` along a partition, appending the non-empty pieces to `out`. */
export function splitBy(ns: NormalizedString, partition: Partition, behavior: SplitBehavior, out: NormalizedString[]): void {
  const pieces: [number, number][] = [];
  if (behavior === "removed") {
    for (const [s, e, m] of partition) if (!m) pieces.push([s, e]);
  } else if (behavior === "isolated") {
    for (const [s, e] of partition) pieces.push([s, e]);
  } else if (behavior === "contiguous") {
    let previous: boolean | undefined;
    for (const [s, e, m] of partition) {
      if (previous === m && pieces.length) pieces[pieces.length - 1][1] = e;
      else pieces.push([s, e]);
      previous = m;
    }
  } else if (behavior === "merged_with_previous") {
    let previous = false;
    for (const [s, e, m] of partition) {
      if (m && !previous && pieces.length) pieces[pieces.length - 1][1] = e;
      else pieces.push([s, e]);
      previous = m;
    }
  } else {
    // merged_with_next: walk right to left, gluing a delimiter onto the non-delimiter after it.
    let previous = false;
    for (let k = partition.length - 1; k >= 0; k--) {
      const [s, e, m] = partition[k];
      if (m && !previous && pieces.length) pieces[pieces.length - 1][0] = s;
      else pieces.push([s, e]);
      previous = m;
    }
    pieces.reverse();
  }
  for (const [s, e] of pieces) if (s < e) out.push(ns.slice(s, e));
}
