// NFC / NFD / NFKC / NFKD on a NormalizedString, keeping every output character aligned to the
// input character it came from. JavaScript's String.prototype.normalize does the Unicode work; this
// file only decides alignments, the way the reference's unicode-normalization-alignments crate does
// in the cases that occur in practice:
//   - a character that decomposes (é → e + ◌́, ™ → T M, … → ...) gives all of its parts its own
//     alignment;
//   - a composition (e + ◌́ → é) takes the alignment of its starter, and the absorbed marks vanish.
// Left out: the crate's exact bookkeeping when canonical reordering moves marks across each other
// inside one combining sequence (rare, and only the alignment of marks inside one word changes).
// The text is cut into combining sequences (a character and the marks after it), which
// normalization never crosses, so each is normalized on its own; text that is already normal is
// returned as is, which keeps the common case allocation-free.
// Hand-written: no npm package reports what each normalized character came from.

import { codePointAt, isMark, unitWidth } from "./char-classes.js";
import { NormalizedString } from "./normalized-string.js";

export type NormalForm = "NFC" | "NFD" | "NFKC" | "NFKD";

// Conjoining Hangul vowels and trailing consonants compose with the syllable before them.
const continuesSequence = (c: number): boolean => (c >= 0x1160 && c <= 0x11ff) || isMark(c);

// ASCII is invariant under every normal form.
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function normalizeForm(ns: NormalizedString, form: NormalForm): NormalizedString {
  const text = ns.text;
  if (ASCII_ONLY.test(text) || text.normalize(form) === text) return ns;
  const decompose: NormalForm = form === "NFC" || form === "NFD" ? "NFD" : "NFKD";
  const composes = form === "NFC" || form === "NFKC";
  const parts: string[] = [];
  const start: number[] = [];
  const end: number[] = [];
  const push = (chars: string, s: number, e: number) => {
    parts.push(chars);
    for (let k = 0; k < chars.length; k++) {
      start.push(s);
      end.push(e);
    }
  };

  for (let i = 0; i < text.length; ) {
    // One combining sequence: [i, j).
    let j = i + unitWidth(codePointAt(text, i));
    while (j < text.length && continuesSequence(codePointAt(text, j))) j += unitWidth(codePointAt(text, j));
    const piece = text.slice(i, j);
    const normalized = piece.normalize(form);
    if (normalized === piece) {
      for (let k = i; k < j; k++) push(text[k], ns.start[k], ns.end[k]);
    } else if (j - i === unitWidth(codePointAt(text, i))) {
      push(normalized, ns.start[i], ns.end[i]);
    } else {
      alignSequence(ns, i, j, normalized, decompose, composes, push);
    }
    i = j;
  }
  return new NormalizedString(parts.join(""), start, end, ns.origStart);
}

/** Aligns the normalization of a multi-character combining sequence [i, j) of `ns`. */
function alignSequence(
  ns: NormalizedString,
  i: number,
  j: number,
  normalized: string,
  decompose: NormalForm,
  composes: boolean,
  push: (chars: string, s: number, e: number) => void,
): void {
  // The fully decomposed parts, each tagged with the input character it came from.
  const parts: { c: number; s: number; e: number; used: boolean }[] = [];
  for (let k = i; k < j; ) {
    const c = codePointAt(ns.text, k);
    for (const part of String.fromCodePoint(c).normalize(decompose)) {
      parts.push({ c: part.codePointAt(0)!, s: ns.start[k], e: ns.end[k], used: false });
    }
    k += unitWidth(c);
  }
  const take = (c: number) => {
    const found = parts.find((p) => !p.used && p.c === c) ?? parts.find((p) => !p.used);
    if (found) found.used = true;
    return found;
  };
  for (const out of normalized) {
    const c = out.codePointAt(0)!;
    // A composed character is found through its canonical decomposition's first (starter) part.
    const pieces = composes ? [...out.normalize("NFD")].map((p) => p.codePointAt(0)!) : [c];
    const head = take(pieces[0]);
    for (let k = 1; k < pieces.length; k++) take(pieces[k]);
    push(out, head ? head.s : ns.start[i], head ? head.e : ns.end[i]);
  }
}
