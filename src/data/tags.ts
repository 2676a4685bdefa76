// Tag syntax: "O", or a one-letter prefix, a hyphen and an entity type ("B-PER", "I-GPE-LOC").
// Readers validate tags here so that a malformed one is reported with its file and line; the
// metrics module deliberately does not, because seqeval accepts anything and so must we there.

import { NerkitError } from "../errors.js";

export const OUTSIDE = "O";

/** Every prefix letter used by any supported scheme. */
export const ALL_PREFIXES = "BIESLU";

export interface ParsedTag {
  /** "O" for the outside tag, else one of ALL_PREFIXES. */
  prefix: string;
  /** Entity type; "" for the outside tag. */
  type: string;
}

/** Parses a tag, throwing E_TAG for anything that is not "O" or "P-TYPE" with P in `prefixes`. */
export function parseTag(tag: string, prefixes: string = ALL_PREFIXES): ParsedTag {
  if (tag === OUTSIDE) return { prefix: OUTSIDE, type: "" };
  const prefix = tag[0] ?? "";
  if (tag.length < 3 || tag[1] !== "-") {
    throw new NerkitError("E_TAG", `malformed tag '${tag}': expected 'O' or PREFIX-TYPE such as 'B-PER'`);
  }
  if (!prefixes.includes(prefix)) {
    throw new NerkitError(
      "E_TAG",
      `unknown prefix '${prefix}' in tag '${tag}': allowed prefixes are ${[...prefixes].join(", ")} and the tag O`,
    );
  }
  return { prefix, type: tag.slice(2) };
}

/** Builds a tag from its parts. */
export function makeTag(prefix: string, type: string): string {
  return prefix === OUTSIDE ? OUTSIDE : `${prefix}-${type}`;
}
