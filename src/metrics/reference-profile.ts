// reference-profile.json: the drift statistics (./drift.ts) of held-out texts as the model read
// them, stored in the model folder by `nerkit train` (on --dev), `nerkit profile` (a user's own
// texts) and `nerkit calibrate`; `nerkit serve` compares its rolling window with it. This module is
// the file's one definition: its shape, the JSON it is written as, and a reader that names the field
// at fault. Histograms are counts (not shares), so a reader knows how many observations stand
// behind each; the bin edges are stored and must be the ones this nerkit uses.
// What it leaves out: running the model (../serve/drift/profile-writer.ts).

import { NerkitError } from "../errors.js";
import { BinEdges, DRIFT_BINS, DriftCounts } from "./drift.js";

export const REFERENCE_PROFILE_FILE = "reference-profile.json";
export const REFERENCE_PROFILE_VERSION = 1;

export interface ReferenceProfileMeta {
  /** The command that made it: "nerkit train", "nerkit profile", "nerkit calibrate". */
  madeBy: string;
  created: string;
  /** How the texts were read: the service's reading (aggregation first, overlapping windows), and that scores are raw. */
  reading: { aggregation: string; windows: string; scores: "raw" };
  data: {
    path: string;
    sha256: string;
    documents: number;
    /** What one document is: "-DOCSTART- documents", "sentences", "lines", "JSON lines". */
    unit: string;
  };
}

export interface ReferenceProfile {
  version: number;
  meta: ReferenceProfileMeta;
  counts: DriftCounts;
}

/** The JSON written to reference-profile.json (types as arrays of records, never as object keys). */
export function referenceProfileJson(profile: { meta: ReferenceProfileMeta; counts: DriftCounts }): string {
  const c = profile.counts;
  const json = {
    version: REFERENCE_PROFILE_VERSION,
    ...profile.meta,
    bins: DRIFT_BINS,
    documents: c.documents,
    entities: c.entities,
    histograms: {
      score: c.score,
      scoreByType: [...c.scoreByType].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, counts]) => ({ type, counts })),
      entityRate: c.entityRate,
      textLength: c.textLength,
      rarePieces: c.rarePieces,
      labels: [...c.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, count]) => ({ type, count })),
    },
  };
  // Arrays of numbers on one line each: the histograms read as rows.
  return JSON.stringify(json, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(", ")}]`) + "\n";
}

function fail(file: string, field: string, message: string): never {
  throw new NerkitError("E_FORMAT", message, { file, field });
}

function object(value: unknown, file: string, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(file, field, `expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function text(value: unknown, file: string, field: string): string {
  if (typeof value !== "string") fail(file, field, `expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function count(value: unknown, file: string, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) fail(file, field, `expected a count (an integer >= 0), got ${JSON.stringify(value)}`);
  return value;
}

function counts(value: unknown, length: number, file: string, field: string): number[] {
  if (!Array.isArray(value) || value.length !== length) fail(file, field, `expected ${length} counts, got ${JSON.stringify(value)?.slice(0, 80)}`);
  return value.map((v, i) => count(v, file, `${field}[${i}]`));
}

function sameEdges(value: unknown, edges: BinEdges, file: string, field: string): void {
  if (!Array.isArray(value) || value.length !== edges.length || value.some((v, i) => v !== edges[i])) {
    fail(file, field, `the bins differ from this nerkit's (${JSON.stringify(edges)}): the profile was made by another version; make it again with nerkit profile`);
  }
}

/** Reads reference-profile.json's text; `file` names it in errors. */
export function parseReferenceProfile(json: string, file: string): ReferenceProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`, { file });
  }
  const root = object(raw, file, "(root)");
  if (root.version !== REFERENCE_PROFILE_VERSION) fail(file, "version", `expected version ${REFERENCE_PROFILE_VERSION}, got ${JSON.stringify(root.version)}`);
  const bins = object(root.bins, file, "bins");
  for (const name of Object.keys(DRIFT_BINS) as (keyof typeof DRIFT_BINS)[]) sameEdges(bins[name], DRIFT_BINS[name], file, `bins.${name}`);
  const reading = object(root.reading, file, "reading");
  const data = object(root.data, file, "data");
  const meta: ReferenceProfileMeta = {
    madeBy: text(root.madeBy, file, "madeBy"),
    created: text(root.created, file, "created"),
    reading: { aggregation: text(reading.aggregation, file, "reading.aggregation"), windows: text(reading.windows, file, "reading.windows"), scores: "raw" },
    data: {
      path: text(data.path, file, "data.path"),
      sha256: text(data.sha256, file, "data.sha256"),
      documents: count(data.documents, file, "data.documents"),
      unit: text(data.unit, file, "data.unit"),
    },
  };
  const h = object(root.histograms, file, "histograms");
  const c = new DriftCounts();
  c.documents = count(root.documents, file, "documents");
  c.entities = count(root.entities, file, "entities");
  c.score.splice(0, Infinity, ...counts(h.score, DRIFT_BINS.score.length, file, "histograms.score"));
  c.entityRate.splice(0, Infinity, ...counts(h.entityRate, DRIFT_BINS.entityRate.length, file, "histograms.entityRate"));
  c.textLength.splice(0, Infinity, ...counts(h.textLength, DRIFT_BINS.textLength.length, file, "histograms.textLength"));
  c.rarePieces.splice(0, Infinity, ...counts(h.rarePieces, DRIFT_BINS.rarePieces.length, file, "histograms.rarePieces"));
  if (!Array.isArray(h.scoreByType)) fail(file, "histograms.scoreByType", "expected an array of {type, counts}");
  h.scoreByType.forEach((item, i) => {
    const record = object(item, file, `histograms.scoreByType[${i}]`);
    c.scoreByType.set(text(record.type, file, `histograms.scoreByType[${i}].type`), counts(record.counts, DRIFT_BINS.score.length, file, `histograms.scoreByType[${i}].counts`));
  });
  if (!Array.isArray(h.labels)) fail(file, "histograms.labels", "expected an array of {type, count}");
  h.labels.forEach((item, i) => {
    const record = object(item, file, `histograms.labels[${i}]`);
    c.labels.set(text(record.type, file, `histograms.labels[${i}].type`), count(record.count, file, `histograms.labels[${i}].count`));
  });
  const totals = [c.score, c.entityRate, c.textLength].map((hist) => hist.reduce((a, b) => a + b, 0));
  if (totals[0] !== c.entities) fail(file, "histograms.score", `the score histogram holds ${totals[0]} entities but the profile says ${c.entities}`);
  if (totals[1] !== c.documents || totals[2] !== c.documents) fail(file, "histograms", `the document histograms hold ${totals[1]} and ${totals[2]} documents but the profile says ${c.documents}`);
  return { version: REFERENCE_PROFILE_VERSION, meta, counts: c };
}
