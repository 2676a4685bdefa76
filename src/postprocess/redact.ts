// Redaction: entity spans replaced by a type label ("[PER]"), a mask of "█" (one per code point of
// the span, so that the redacted text keeps its visible length), or a salted hash ("[PER:3f2a…]",
// the same for the same text and salt, so that redacted documents can still be joined on it).
// A redaction covers whole words: each entity is widened to the words it touches, and widened
// spans that overlap or touch become one replacement, typed by their highest-scoring entity
// (whole-words.ts), so that no piece of a name stays in clear ("Dario" labelled "D" + "ario" is
// replaced once, not as "[PER]io"). Replacement offsets refer to the original text and always fall
// on word boundaries. Which of two overlapping entities to believe is mergeEntities' question, asked
// before; here an overlap is covered as one region.

import { NerkitError } from "../errors.js";
import { wholeWordRegions } from "./whole-words.js";
import { hmacSha256Hex } from "./hmac-sha256.js";

export type RedactStyle = "mask" | "type" | "hash";
export const REDACT_STYLES: readonly RedactStyle[] = ["mask", "type", "hash"];

export interface RedactOptions {
  style: RedactStyle;
  /** Only entities of these types are redacted; all by default. */
  types?: string[];
  /** The HMAC key for "hash"; required there (an unsalted hash of a name is easily reversed). */
  salt?: string;
}

export interface Replacement {
  type: string;
  start: number;
  end: number;
  replacement: string;
}

export interface Redacted {
  text: string;
  replacements: Replacement[];
}

export interface Span {
  type: string;
  start: number;
  end: number;
  /** Decides the type where spans merge into one replacement (raw_score first, when given); 0 when left out. */
  score?: number;
  raw_score?: number;
}

export const MASK_CHAR = "█";

function replacementFor(span: string, type: string, options: RedactOptions): string {
  switch (options.style) {
    case "type":
      return `[${type}]`;
    case "mask":
      return MASK_CHAR.repeat([...span].length);
    case "hash":
      return `[${type}:${hmacSha256Hex(options.salt as string, span).slice(0, 10)}]`;
  }
}

function checkOptions(options: RedactOptions): void {
  if (!REDACT_STYLES.includes(options?.style)) {
    throw new NerkitError("E_USAGE", `unknown redaction style ${JSON.stringify(options?.style)} (known: ${REDACT_STYLES.join(", ")})`, {
      field: "style",
    });
  }
  if (options.style === "hash" && (typeof options.salt !== "string" || options.salt === "")) {
    throw new NerkitError("E_USAGE", 'redaction style "hash" needs a non-empty salt', { field: "salt" });
  }
  if (options.types !== undefined && !Array.isArray(options.types)) {
    throw new NerkitError("E_USAGE", "types must be a list of entity types", { field: "types" });
  }
}

export function redact(text: string, entities: readonly Span[], options: RedactOptions): Redacted {
  checkOptions(options);
  for (const { start, end, type } of entities) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > text.length) {
      throw new NerkitError("E_SPAN", `entity ${type} [${start}, ${end}) is not a span of a text of length ${text.length}`);
    }
  }
  // An empty span hides nothing; models give them (RoBERTa's pipeline labels a trailing "Ġ" token at [n, n)).
  const selected = entities.filter((entity) => entity.end > entity.start && (!options.types || options.types.includes(entity.type)));
  const replacements: Replacement[] = [];
  const pieces: string[] = [];
  let position = 0;
  for (const { type, start, end } of wholeWordRegions(text, selected)) {
    const replacement = replacementFor(text.slice(start, end), type, options);
    replacements.push({ type, start, end, replacement });
    pieces.push(text.slice(position, start), replacement);
    position = end;
  }
  pieces.push(text.slice(position));
  return { text: pieces.join(""), replacements };
}
