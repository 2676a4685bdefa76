// Parsers for option values shared by commands; a bad value is a usage error naming the option.

import { Option } from "commander";
import { NerkitError, SkippedRecord } from "../errors.js";
import { QUANTIZATIONS } from "../model/export/export-model.js";
import { SchemeTable, schemeByName } from "../data/schemes.js";
import { Corpus, INPUT_FORMATS, InputFormat } from "../data/corpus.js";
import { OffsetUnit } from "../text/offsets.js";

export function integer(name: string): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new NerkitError("E_USAGE", `${name} expects an integer, got '${value}'`);
    return Number(value);
  };
}

export function probability(name: string): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (!(value.trim() !== "" && x >= 0 && x <= 1)) throw new NerkitError("E_USAGE", `${name} expects a number between 0 and 1, got '${value}'`);
    return x;
  };
}

export function positiveNumber(name: string): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (!(value.trim() !== "" && Number.isFinite(x) && x > 0)) throw new NerkitError("E_USAGE", `${name} expects a number > 0, got '${value}'`);
    return x;
  };
}

/**
 * Accumulates repeated `--threshold TYPE=ACCEPT[:REVIEW]` options into per-type thresholds
 * (e.g. `--threshold PER=0.9:0.7 --threshold MONEY=0.99`).
 */
export type TypeThresholds = Record<string, { accept: number; review?: number }>;

export function typeThreshold(value: string, previous: TypeThresholds = {}): TypeThresholds {
  const match = /^([^=\s]+)=([^:]+)(?::(.+))?$/.exec(value.trim());
  if (!match) throw new NerkitError("E_USAGE", `--threshold expects TYPE=ACCEPT or TYPE=ACCEPT:REVIEW (e.g. PER=0.9:0.7), got '${value}'`);
  const [, type, accept, review] = match;
  const thresholds = { accept: probability(`--threshold ${type} accept`)(accept), ...(review !== undefined ? { review: probability(`--threshold ${type} review`)(review) } : {}) };
  return { ...previous, [type]: thresholds };
}

export function scheme(value: string): SchemeTable {
  return schemeByName(value);
}

export function inputFormat(value: string): InputFormat {
  if (!(INPUT_FORMATS as readonly string[]).includes(value)) {
    throw new NerkitError("E_USAGE", `unknown format '${value}': use one of ${INPUT_FORMATS.join(", ")}`);
  }
  return value as InputFormat;
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new NerkitError("E_USAGE", `${name} must be one of ${allowed.join(", ")}, got '${value}'`);
    }
    return value as T;
  };
}

export const offsetUnit = oneOf<OffsetUnit>("--offset-unit", ["utf16", "codepoint"]);

/** Tells the user, on stderr, how many records a lenient read skipped and why (the first few). */
export function reportSkipped(skipped: readonly SkippedRecord[], stderr: (text: string) => void): void {
  if (skipped.length === 0) return;
  stderr(`nerkit: skipped ${skipped.length} bad record${skipped.length === 1 ? "" : "s"} (--lenient)\n`);
  for (const { error } of skipped.slice(0, 5)) stderr(`  ${error.describe()}\n`);
  if (skipped.length > 5) stderr(`  … and ${skipped.length - 5} more\n`);
}

/** Tells the user, on stderr, that an input held nothing to read (rather than printing zeros silently). */
export function warnIfEmpty(corpus: Corpus, file: string, skipped: readonly SkippedRecord[], stderr: (text: string) => void): void {
  const empty = corpus.kind === "tokens" ? corpus.conll.sentences.length === 0 : corpus.documents.length === 0;
  if (!empty) return;
  const unit = corpus.kind === "tokens" ? "sentence" : "document";
  stderr(`nerkit: warning: ${file} holds no ${unit}${skipped.length > 0 ? " that could be read" : ""}\n`);
}

/** --quantize of the commands that load a model to run it (predict, serve, worker). */
export function quantizeOption(): Option {
  return new Option("--quantize <kind>", "int8: quantize the encoder's Linear layers at load (about 1.3-1.4x faster on CPU; scores move by ~0.1%)").argParser(oneOf("--quantize", QUANTIZATIONS));
}
