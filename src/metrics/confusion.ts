// Where a model goes wrong, beyond one F1 number: a token-level confusion table between gold and
// predicted entity types, and an entity-level breakdown of every gold and predicted entity into
// correct, wrong type, wrong boundary, both, missed and spurious (the categories of
// Chinchor and Sundheim's MUC scoring, also used by nervaluate).

import { Chunk } from "../data/schemes.js";
import { EvaluateOptions, checkSameShape, chunkerFor } from "./entity-counts.js";
import { compareCodePoints } from "../text/code-point-order.js";

export const ERROR_KINDS = ["correct", "wrongType", "wrongBoundary", "wrongBoth", "missed", "spurious"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Maps keyed by entity type, because types are user data (a type may be named "__proto__"). */
export interface ConfusionReport {
  /** Types in order, "O" last. */
  labels: string[];
  /** tokens.get(gold).get(pred): tokens whose gold tag has type `gold` and predicted tag type `pred`; every label in both. */
  tokens: Map<string, Map<string, number>>;
  /** Per type: counts of each error kind (spurious counted under the predicted type, the rest under the gold type). */
  entities: Map<string, Record<ErrorKind, number>>;
  /** entityTypes.get(gold).get(pred) for gold entities predicted with exactly the right boundaries; every type in both. */
  entityTypes: Map<string, Map<string, number>>;
}

/** The JSON form (POST /v1/evaluate's "confusion"): the same tables as nested objects. */
export interface ConfusionReportJson {
  labels: string[];
  tokens: Record<string, Record<string, number>>;
  entities: Record<string, Record<ErrorKind, number>>;
  entityTypes: Record<string, Record<string, number>>;
}

function tokenType(tag: string): string {
  if (tag === "O" || tag.length < 3) return "O";
  return tag.slice(2);
}

const overlaps = (a: Chunk, b: Chunk) => a.start < b.end && b.start < a.end;

/**
 * Each chunk of `chunks` with the chunks of `others` it overlaps, in one sweep: both lists are one
 * sentence's chunks, sorted by start and never overlapping each other (what every chunker gives),
 * so the overlapping ones are a run of `others` that only moves forward. Linear in the two lengths
 * (a 60,000-token sentence took seconds when every gold chunk scanned every predicted one).
 */
function* overlapping(chunks: readonly Chunk[], others: readonly Chunk[]): Generator<[Chunk, Chunk[]]> {
  let first = 0;
  for (const c of chunks) {
    while (first < others.length && others[first].end <= c.start) first++;
    const near: Chunk[] = [];
    for (let k = first; k < others.length && others[k].start < c.end; k++) if (overlaps(others[k], c)) near.push(others[k]);
    yield [c, near];
  }
}

export function confusion(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: EvaluateOptions = {},
): ConfusionReport {
  checkSameShape(gold, pred);
  const chunk = chunkerFor(gold, options);
  const tokenCounts = new Map<string, Map<string, number>>();
  const entities = new Map<string, Record<ErrorKind, number>>();
  const entityTypes = new Map<string, Map<string, number>>();
  const labels = new Set<string>();
  const bump = (table: Map<string, Map<string, number>>, a: string, b: string) => {
    const row = table.get(a) ?? new Map<string, number>();
    row.set(b, (row.get(b) ?? 0) + 1);
    table.set(a, row);
  };
  const kindOf = (type: string) => {
    labels.add(type);
    let counts = entities.get(type);
    if (!counts) {
      counts = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
      entities.set(type, counts);
    }
    return counts;
  };

  for (let s = 0; s < gold.length; s++) {
    for (let i = 0; i < gold[s].length; i++) {
      const g = tokenType(gold[s][i]);
      const p = tokenType(pred[s][i]);
      labels.add(g);
      labels.add(p);
      bump(tokenCounts, g, p);
    }
    const goldChunks = chunk(gold[s]);
    const predChunks = chunk(pred[s]);
    for (const [g, near] of overlapping(goldChunks, predChunks)) {
      const exact = near.find((p) => p.start === g.start && p.end === g.end);
      if (exact) bump(entityTypes, g.type, exact.type);
      const counts = kindOf(g.type);
      if (exact) {
        counts[exact.type === g.type ? "correct" : "wrongType"]++;
        continue;
      }
      if (near.length === 0) counts.missed++;
      else if (near.some((p) => p.type === g.type)) counts.wrongBoundary++;
      else counts.wrongBoth++;
    }
    for (const [p, near] of overlapping(predChunks, goldChunks)) if (near.length === 0) kindOf(p.type).spurious++;
  }

  const ordered = [...labels].filter((l) => l !== "O").sort(compareCodePoints);
  if (labels.has("O")) ordered.push("O");
  const table = (source: Map<string, Map<string, number>>, rows: string[], columns: string[]) =>
    new Map(rows.map((r) => [r, new Map(columns.map((c) => [c, source.get(r)?.get(c) ?? 0]))]));
  const types = ordered.filter((l) => l !== "O");
  return {
    labels: ordered,
    tokens: table(tokenCounts, ordered, ordered),
    entities: new Map(types.map((t) => [t, kindOf(t)])),
    entityTypes: table(entityTypes, types, types),
  };
}

/** Object.fromEntries defines own properties, so a type named "__proto__" is printed like the others. */
export function confusionJson(report: ConfusionReport): ConfusionReportJson {
  const nested = (table: Map<string, Map<string, number>>) => Object.fromEntries([...table].map(([row, columns]) => [row, Object.fromEntries(columns)]));
  return { labels: report.labels, tokens: nested(report.tokens), entities: Object.fromEntries(report.entities), entityTypes: nested(report.entityTypes) };
}
