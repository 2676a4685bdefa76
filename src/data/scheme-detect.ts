// Guesses the tagging scheme of a corpus from the prefixes it uses. With `seqevalOnly`, the rules
// of seqeval's auto_detect (IOB2, IOE2, IOBES, BILOU only), used by strict evaluation; otherwise
// IOB1 and IOE1 are told from IOB2 and IOE2 by whether B (or E) ever marks a lone boundary.

import { NerkitError } from "../errors.js";
import { SCHEMES, SchemeTable } from "./schemes.js";

function prefixSet(sentences: readonly (readonly string[])[]): Set<string> {
  const prefixes = new Set<string>();
  for (const tags of sentences) for (const tag of tags) prefixes.add(tag[0]);
  return prefixes;
}

function within(prefixes: Set<string>, allowed: string): boolean {
  for (const p of prefixes) if (!allowed.includes(p)) return false;
  return true;
}

/** seqeval's auto_detect: exactly which prefix sets it maps to which scheme. */
function seqevalDetect(prefixes: Set<string>): SchemeTable | undefined {
  const key = [...prefixes].sort().join("");
  const table: Record<string, readonly string[]> = {
    IOB2: ["BIO", "BI", "BO", "B"],
    IOE2: ["EIO", "EI", "EO", "E"],
    IOBES: ["BEIOS", "BEIS", "BEIO", "BEOS", "BEI", "BES", "BEO", "BE", "S"],
    BILOU: ["BILOU", "BILU", "BILO", "BLOU", "BIL", "BLU", "BLO", "BL", "U"],
  };
  for (const [name, sets] of Object.entries(table)) if (sets.includes(key)) return SCHEMES[name as keyof typeof SCHEMES];
  return undefined;
}

export function detectScheme(
  sentences: readonly (readonly string[])[],
  options: { seqevalOnly?: boolean } = {},
): SchemeTable {
  const prefixes = prefixSet(sentences);
  if (options.seqevalOnly) {
    const scheme = seqevalDetect(prefixes);
    if (!scheme) {
      throw new NerkitError(
        "E_TAG",
        `cannot detect the tagging scheme from prefixes {${[...prefixes].sort().join(", ")}}: give --scheme`,
      );
    }
    return scheme;
  }
  prefixes.delete("O");
  if (within(prefixes, "BI")) return startsWithInside(sentences) ? SCHEMES.IOB1 : SCHEMES.IOB2;
  if (within(prefixes, "EI")) return endsWithInside(sentences) ? SCHEMES.IOE1 : SCHEMES.IOE2;
  if (within(prefixes, "BIES")) return SCHEMES.IOBES;
  if (within(prefixes, "BILU")) return SCHEMES.BILOU;
  throw new NerkitError(
    "E_TAG",
    `cannot detect the tagging scheme from prefixes {${[...prefixes].sort().join(", ")}}: give the scheme`,
  );
}

/** True when some entity starts with I- (IOB1), i.e. I-X follows O or another type. */
function startsWithInside(sentences: readonly (readonly string[])[]): boolean {
  for (const tags of sentences) {
    for (let i = 0; i < tags.length; i++) {
      if (tags[i][0] !== "I") continue;
      const prev = tags[i - 1];
      if (prev === undefined || prev === "O" || prev.slice(2) !== tags[i].slice(2)) return true;
    }
  }
  return false;
}

/** True when some entity ends with I- (IOE1), i.e. I-X precedes O or another type. */
function endsWithInside(sentences: readonly (readonly string[])[]): boolean {
  for (const tags of sentences) {
    for (let i = 0; i < tags.length; i++) {
      if (tags[i][0] !== "I") continue;
      const next = tags[i + 1];
      if (next === undefined || next === "O" || next.slice(2) !== tags[i].slice(2)) return true;
    }
  }
  return false;
}
