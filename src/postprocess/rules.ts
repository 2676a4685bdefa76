// Rule-based detectors for what a model misses: a table of named regular expressions (each with an
// optional filter and an optional checksum), gazetteers of listed phrases, and the `RuleSet` config
// that picks among them. Matches are returned as they are found, overlaps included: choosing between
// overlapping spans (rule against rule, rule against model) is mergeEntities' job, not this module's.
// Left out on purpose: locale-specific formats beyond the common ones below, and context words
// ("tel:", "IBAN:") — the patterns stand on the match alone.

import { NerkitError } from "../errors.js";
import { RuleEntity } from "./entity.js";
import { ibanValid, ipv6Valid, luhnValid } from "./checksums.js";

export interface Detector {
  name: string;
  /** The entity type given to matches. */
  type: string;
  /** Must carry the "g" flag; matches of one detector never overlap each other. */
  pattern: RegExp;
  /** Drops matches the pattern alone cannot rule out (digit counts, calendar ranges). */
  accept?: (match: string) => boolean;
  /** A checksum: a match that passes is trusted over an overlapping model span (see merge.ts). */
  checksum?: (match: string) => boolean;
}

// Letters and digits of any script count as word characters, so boundaries hold beside "é" or "日".
const NOT_AFTER_WORD = String.raw`(?<![\p{L}\p{N}_])`;
const NOT_BEFORE_WORD = String.raw`(?![\p{L}\p{N}_])`;

function bounded(source: string): RegExp {
  return new RegExp(`${NOT_AFTER_WORD}(?:${source})${NOT_BEFORE_WORD}`, "gu");
}

function digitCount(match: string): number {
  return match.replace(/\D/g, "").length;
}

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = String.raw`(?<![\d.])(?:${OCTET}\.){3}${OCTET}(?!\.?\d)`;
// Candidates only (a clock time "12:30:45" matches too); ipv6Valid decides.
const IPV6 = String.raw`(?<![\w:])(?:[0-9A-Fa-f]{1,4})?(?::(?:[0-9A-Fa-f]{1,4})?){2,7}(?![\w:])`;

const MONTH = String.raw`(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`;
const DAY = String.raw`(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?`;

const AMOUNT = String.raw`(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d{2}(?!\d)|\d+(?:\.\d+)?)`;
const SCALE = String.raw`(?: ?(?:k|m|bn|b|thousand|million|billion|trillion)(?![\p{L}\p{N}_]))?`;
const SYMBOL = String.raw`(?:(?:US|A|C|NZ|HK)?\$|€|£|¥|₹)`;
const CODE = String.raw`(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR|SEK|NOK|DKK|PLN)`;
const CURRENCY_WORD = String.raw`(?:dollars?|euros?|pounds?(?: sterling)?|yen|francs?|cents?)`;

/** A day/month pair in either order (27/11 or 11/27) names a real month and day. */
function numericDateValid(match: string): boolean {
  const [a, b] = match.split(/[/.]/).map(Number);
  const valid = (day: number, month: number) => day >= 1 && day <= 31 && month >= 1 && month <= 12;
  return valid(a, b) || valid(b, a);
}

export const DETECTORS: readonly Detector[] = [
  {
    name: "EMAIL",
    type: "EMAIL",
    pattern: new RegExp(String.raw`(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])`, "gu"),
  },
  {
    name: "PHONE",
    type: "PHONE",
    // International (+…), national with a trunk 0, and North American 3-3-4; a bare run of digits
    // without "+" or a leading 0 never matches, so years and counts are safe.
    pattern: new RegExp(
      String.raw`(?<![\w+.\-/])(?:` +
        [
          String.raw`\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,4}){2,5}`,
          String.raw`\(0\d{1,4}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){1,3}`,
          String.raw`0\d{1,4}(?:[ .-]?\d{2,4}){2,4}`,
          String.raw`(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}`,
        ].join("|") +
        String.raw`)(?![\w.\-/]?\d)(?!\w)`,
      "gu",
    ),
    accept: (match) => digitCount(match) >= 8 && digitCount(match) <= 15,
  },
  {
    name: "IBAN",
    type: "IBAN",
    pattern: bounded(String.raw`[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?`),
    checksum: ibanValid,
  },
  {
    name: "CREDIT_CARD",
    type: "CREDIT_CARD",
    pattern: new RegExp(String.raw`(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])`, "gu"),
    checksum: luhnValid,
  },
  {
    name: "URL",
    type: "URL",
    // The last character may not be punctuation, so "see https://x.org/a." leaves the full stop out.
    pattern: new RegExp(String.raw`(?<![\w@])(?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]}]`, "giu"),
  },
  {
    name: "IP",
    type: "IP",
    pattern: new RegExp(`${IPV4}|${IPV6}`, "gu"),
    accept: (match) => !match.includes(":") || ipv6Valid(match),
  },
  {
    name: "DATE",
    type: "DATE",
    pattern: bounded(
      [
        String.raw`\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])`,
        String.raw`\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4}`,
        `${DAY} (?:of )?${MONTH},? \\d{4}`,
        `${MONTH} ${DAY},? \\d{4}`,
      ].join("|"),
    ),
    accept: (match) => !/^\d{1,2}[/.]/.test(match) || numericDateValid(match),
  },
  {
    name: "MONEY",
    type: "MONEY",
    pattern: new RegExp(
      String.raw`(?<![\p{L}\p{N}_$€£¥₹.,])(?:` +
        [
          `${SYMBOL} ?${AMOUNT}${SCALE}`,
          `${CODE} ?${AMOUNT}${SCALE}`,
          `${AMOUNT}${SCALE} ?(?:${SYMBOL}|${CODE}|${CURRENCY_WORD})`,
        ].join("|") +
        `)${NOT_BEFORE_WORD}`,
      "gu",
    ),
  },
];

export const DETECTOR_NAMES: readonly string[] = DETECTORS.map((detector) => detector.name);

export interface GazetteerOptions {
  /** false by default. */
  caseSensitive?: boolean;
  /** true by default: a phrase matches only between non-word characters. */
  wholeWord?: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** A detector for listed phrases; where several match at one place, the longest wins. */
export function gazetteerRule(type: string, phrases: readonly string[], options: GazetteerOptions = {}): Detector {
  if (typeof type !== "string" || type === "") {
    throw new NerkitError("E_USAGE", "a gazetteer needs a non-empty entity type", { field: "rules.gazetteers.type" });
  }
  if (!Array.isArray(phrases) || phrases.length === 0 || phrases.some((p) => typeof p !== "string" || p.trim() === "")) {
    throw new NerkitError("E_USAGE", `gazetteer ${type}: phrases must be a non-empty list of non-empty strings`, {
      field: "rules.gazetteers.phrases",
    });
  }
  // Alternatives are tried in order, so sorting longest first makes the regex prefer the longest.
  const alternatives = [...new Set(phrases)].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const body = `(?:${alternatives.join("|")})`;
  const source = options.wholeWord === false ? body : `${NOT_AFTER_WORD}${body}${NOT_BEFORE_WORD}`;
  return { name: `gazetteer:${type}`, type, pattern: new RegExp(source, options.caseSensitive ? "gu" : "giu") };
}

export interface GazetteerConfig extends GazetteerOptions {
  type: string;
  phrases: string[];
}

export interface RuleSet {
  /** Names from DETECTOR_NAMES to enable; all of them by default ([] for none). */
  detectors?: string[];
  gazetteers?: GazetteerConfig[];
}

/** Checks a RuleSet (which may come from a JSON file) and builds its detectors. */
export function compileRules(config: RuleSet = {}): Detector[] {
  if (config === null || typeof config !== "object") {
    throw new NerkitError("E_USAGE", "rules must be an object { detectors?, gazetteers? }", { field: "rules" });
  }
  const names = config.detectors ?? DETECTOR_NAMES;
  if (!Array.isArray(names)) {
    throw new NerkitError("E_USAGE", "rules.detectors must be a list of detector names", { field: "rules.detectors" });
  }
  for (const name of names) {
    if (!DETECTOR_NAMES.includes(name)) {
      throw new NerkitError("E_USAGE", `unknown detector ${JSON.stringify(name)} (known: ${DETECTOR_NAMES.join(", ")})`, {
        field: "rules.detectors",
      });
    }
  }
  const gazetteers = config.gazetteers ?? [];
  if (!Array.isArray(gazetteers)) {
    throw new NerkitError("E_USAGE", "rules.gazetteers must be a list of { type, phrases }", { field: "rules.gazetteers" });
  }
  return [
    ...DETECTORS.filter((detector) => names.includes(detector.name)),
    ...gazetteers.map((g) => gazetteerRule(g?.type, g?.phrases, g ?? {})),
  ];
}

/** Every match of every detector, sorted by start (then longest first); score 1. */
export function applyRules(text: string, rules: RuleSet | readonly Detector[] = {}): RuleEntity[] {
  const detectors = Array.isArray(rules) ? (rules as readonly Detector[]) : compileRules(rules as RuleSet);
  const found: RuleEntity[] = [];
  for (const detector of detectors) {
    for (const match of text.matchAll(detector.pattern)) {
      const matched = match[0];
      if (matched === "" || (detector.accept && !detector.accept(matched))) continue;
      const validated = detector.checksum ? detector.checksum(matched) : false;
      if (detector.checksum && !validated) continue;
      const start = match.index;
      found.push({ type: detector.type, text: matched, start, end: start + matched.length, score: 1, source: "rule", rule: detector.name, validated });
    }
  }
  return found.sort((a, b) => a.start - b.start || b.end - a.end);
}
