// Tagging schemes as tables of data. Each table says which prefix a token gets from its role in an
// entity (encoding) and which (previous, current) prefix pairs start, continue and end an entity
// (strict decoding, the rules of seqeval's `mode="strict"`). Conversion between schemes goes
// through entity chunks: decode with one table, encode with another.

import { NerkitError } from "../errors.js";
import { OUTSIDE } from "./tags.js";

export const SCHEME_NAMES = ["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"] as const;
export type SchemeName = (typeof SCHEME_NAMES)[number];

/** Whether the entity types of the two tokens must be equal, differ, or either. */
export type TypeCondition = "same" | "diff" | "any";

/** [previous token's prefixes, current token's prefixes, type condition]; "*" matches any prefix. */
export type TransitionPattern = readonly [string, string, TypeCondition];

export interface SchemeTable {
  name: SchemeName;
  /** Allowed prefix letters, the outside tag included. */
  prefixes: string;
  /** Prefix of a one-token entity, and of the first, middle and last token of a longer one. */
  single: string;
  first: string;
  middle: string;
  last: string;
  /** IOB1: the first token gets this prefix when the previous token ends an entity of the same type. */
  firstAfterSameType?: string;
  /** IOE1: the last token gets this prefix when the next token starts an entity of the same type. */
  lastBeforeSameType?: string;
  /** Strict decoding (seqeval's patterns): when a token starts an entity, continues it, or ends the previous one. */
  starts: readonly TransitionPattern[];
  continues: readonly TransitionPattern[];
  ends: readonly TransitionPattern[];
}

export const SCHEMES: Record<SchemeName, SchemeTable> = {
  IOB1: {
    name: "IOB1",
    prefixes: "IOB",
    single: "I",
    first: "I",
    middle: "I",
    last: "I",
    firstAfterSameType: "B",
    starts: [["O", "I", "any"], ["I", "I", "diff"], ["B", "I", "any"], ["I", "B", "same"], ["B", "B", "same"]],
    continues: [["B", "I", "same"], ["I", "I", "same"]],
    ends: [["I", "I", "diff"], ["I", "O", "any"], ["I", "B", "any"], ["B", "O", "any"], ["B", "I", "diff"], ["B", "B", "same"]],
  },
  IOB2: {
    name: "IOB2",
    prefixes: "IOB",
    single: "B",
    first: "B",
    middle: "I",
    last: "I",
    starts: [["*", "B", "any"]],
    continues: [["B", "I", "same"], ["I", "I", "same"]],
    ends: [["I", "O", "any"], ["I", "I", "diff"], ["I", "B", "any"], ["B", "O", "any"], ["B", "I", "diff"], ["B", "B", "any"]],
  },
  IOE1: {
    name: "IOE1",
    prefixes: "IOE",
    single: "I",
    first: "I",
    middle: "I",
    last: "I",
    lastBeforeSameType: "E",
    starts: [["O", "I", "any"], ["I", "I", "diff"], ["E", "I", "any"], ["E", "E", "same"]],
    continues: [["I", "I", "same"], ["I", "E", "same"]],
    ends: [["I", "I", "diff"], ["I", "O", "any"], ["I", "E", "diff"], ["E", "I", "same"], ["E", "E", "same"]],
  },
  IOE2: {
    name: "IOE2",
    prefixes: "IOE",
    single: "E",
    first: "I",
    middle: "I",
    last: "E",
    starts: [["O", "I", "any"], ["O", "E", "any"], ["E", "I", "any"], ["E", "E", "any"], ["I", "I", "diff"], ["I", "E", "diff"]],
    continues: [["I", "E", "same"], ["I", "I", "same"]],
    ends: [["E", "*", "any"]],
  },
  IOBES: {
    name: "IOBES",
    prefixes: "IOBES",
    single: "S",
    first: "B",
    middle: "I",
    last: "E",
    starts: [["*", "B", "any"], ["*", "S", "any"]],
    continues: [["B", "I", "same"], ["B", "E", "same"], ["I", "I", "same"], ["I", "E", "same"]],
    ends: [["S", "*", "any"], ["E", "*", "any"]],
  },
  BILOU: {
    name: "BILOU",
    prefixes: "BILOU",
    single: "U",
    first: "B",
    middle: "I",
    last: "L",
    starts: [["*", "B", "any"], ["*", "U", "any"]],
    continues: [["B", "I", "same"], ["B", "L", "same"], ["I", "I", "same"], ["I", "L", "same"]],
    ends: [["U", "*", "any"], ["L", "*", "any"]],
  },
};

/** Looks a scheme up by name, case-insensitively ("iob2", "BIOES" and "IOBES" alike). */
export function schemeByName(name: string): SchemeTable {
  const upper = name.toUpperCase();
  const canonical = upper === "BIOES" ? "IOBES" : upper === "BIO" ? "IOB2" : upper;
  const scheme = (SCHEMES as Record<string, SchemeTable>)[canonical];
  if (!scheme) {
    throw new NerkitError("E_USAGE", `unknown tagging scheme '${name}': use one of ${SCHEME_NAMES.join(", ")}`);
  }
  return scheme;
}

/** An entity over tokens: [start, end) token indices and its type. */
export interface Chunk {
  type: string;
  start: number;
  end: number;
}

/** Tags for a sentence of `length` tokens holding the given non-overlapping chunks. */
export function encodeChunks(chunks: readonly Chunk[], length: number, scheme: SchemeTable): string[] {
  const tags: string[] = new Array(length).fill(OUTSIDE);
  const sorted = [...chunks].sort((a, b) => a.start - b.start);
  for (let k = 0; k < sorted.length; k++) {
    const { type, start, end } = sorted[k];
    const previous = sorted[k - 1];
    const next = sorted[k + 1];
    const followsSameType = previous !== undefined && previous.end === start && previous.type === type;
    const precedesSameType = next !== undefined && next.start === end && next.type === type;
    for (let i = start; i < end; i++) {
      let prefix = end - start === 1 ? scheme.single : i === start ? scheme.first : i === end - 1 ? scheme.last : scheme.middle;
      if (i === start && followsSameType && scheme.firstAfterSameType) prefix = scheme.firstAfterSameType;
      if (i === end - 1 && precedesSameType && scheme.lastBeforeSameType) prefix = scheme.lastBeforeSameType;
      tags[i] = `${prefix}-${type}`;
    }
  }
  return tags;
}
