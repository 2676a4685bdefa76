// Per-type counts of gold, predicted and correctly predicted entities over a corpus, the numbers
// every entity-level metric is made from. An entity is correct when type, start and end all match.

import { NerkitError } from "../errors.js";
import { conllevalChunks, strictChunks } from "../data/chunks.js";
import { Chunk, SchemeName, SchemeTable, schemeByName } from "../data/schemes.js";
import { detectScheme } from "../data/scheme-detect.js";

export type EvaluationMode = "default" | "strict";

export interface EvaluateOptions {
  /** "default" is seqeval's default (conlleval-compatible); "strict" is seqeval's mode="strict". */
  mode?: EvaluationMode;
  /** Scheme for strict mode; detected from the gold tags (as seqeval does) when absent. */
  scheme?: SchemeName | SchemeTable;
}

export interface TypeCounts {
  correct: number;
  predicted: number;
  gold: number;
}

export interface CorpusCounts {
  types: Map<string, TypeCounts>;
  tokens: number;
  correctTokens: number;
}

/** Throws unless gold and pred have the same number of sentences and tokens in each. */
export function checkSameShape(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): void {
  if (gold.length !== pred.length) {
    throw new NerkitError("E_MISMATCH", `gold has ${gold.length} sentences but predictions have ${pred.length}`);
  }
  for (let s = 0; s < gold.length; s++) {
    if (gold[s].length !== pred[s].length) {
      throw new NerkitError(
        "E_MISMATCH",
        `sentence ${s + 1}: gold has ${gold[s].length} tokens but predictions have ${pred[s].length}`,
      );
    }
  }
}

/** The chunker an evaluation mode uses. */
export function chunkerFor(
  gold: readonly (readonly string[])[],
  options: EvaluateOptions,
): (tags: readonly string[]) => Chunk[] {
  if ((options.mode ?? "default") === "default") return conllevalChunks;
  const scheme =
    options.scheme === undefined
      ? detectScheme(gold, { seqevalOnly: true })
      : typeof options.scheme === "string"
        ? schemeByName(options.scheme)
        : options.scheme;
  return (tags) => strictChunks(tags, scheme);
}

function countsOf(types: Map<string, TypeCounts>, type: string): TypeCounts {
  let counts = types.get(type);
  if (!counts) {
    counts = { correct: 0, predicted: 0, gold: 0 };
    types.set(type, counts);
  }
  return counts;
}

/** Counts entities per type over sentence pairs; both chunk lists are sorted by start. */
export function countEntities(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: EvaluateOptions = {},
): CorpusCounts {
  checkSameShape(gold, pred);
  const chunk = chunkerFor(gold, options);
  const types = new Map<string, TypeCounts>();
  let tokens = 0;
  let correctTokens = 0;
  for (let s = 0; s < gold.length; s++) {
    const goldTags = gold[s];
    const predTags = pred[s];
    tokens += goldTags.length;
    for (let i = 0; i < goldTags.length; i++) if (goldTags[i] === predTags[i]) correctTokens++;
    const goldChunks = chunk(goldTags);
    const predChunks = chunk(predTags);
    for (const c of goldChunks) countsOf(types, c.type).gold++;
    for (const c of predChunks) countsOf(types, c.type).predicted++;
    let g = 0;
    for (const p of predChunks) {
      while (g < goldChunks.length && goldChunks[g].start < p.start) g++;
      // Chunks of one sentence never share a start, so at most one gold chunk can match.
      const candidate = goldChunks[g];
      if (candidate && candidate.start === p.start && candidate.end === p.end && candidate.type === p.type) {
        countsOf(types, p.type).correct++;
      }
    }
  }
  return { types, tokens, correctTokens };
}
