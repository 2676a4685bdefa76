// Corpus statistics for `nerkit stats`: how many sentences, tokens and entities of each type, and
// how long entities and sentences are, so a user sees at a glance what their data holds.

import { compareCodePoints } from "../text/code-point-order.js";
import { decodeTags } from "./chunks.js";
import { SchemeTable } from "./schemes.js";

export interface Distribution {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
  /** Value -> how many times it occurs, in increasing order of value. */
  histogram: Record<string, number>;
}

/** Per-type fields are Maps in code-point order of the types: types are user data, and a type
 *  named "__proto__" must count like any other. */
export interface CorpusStats {
  sentences: number;
  documents: number;
  tokens: number;
  entities: number;
  entitiesPerType: Map<string, number>;
  entityLength: Distribution;
  entityLengthPerType: Map<string, Distribution>;
  sentenceLength: Distribution;
}

/** What `nerkit stats --format json` prints: the per-type Maps as objects. */
export interface CorpusStatsJson extends Omit<CorpusStats, "entitiesPerType" | "entityLengthPerType"> {
  entitiesPerType: Record<string, number>;
  entityLengthPerType: Record<string, Distribution>;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const histogram: Record<string, number> = {};
  for (const v of sorted) histogram[v] = (histogram[v] ?? 0) + 1;
  const n = sorted.length;
  const median = n === 0 ? 0 : n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return {
    count: n,
    min: n === 0 ? 0 : sorted[0],
    max: n === 0 ? 0 : sorted[n - 1],
    mean: n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n,
    median,
    p95: percentile(sorted, 95),
    histogram,
  };
}

export interface TaggedSentence {
  tags: readonly string[];
  documentStart?: boolean;
}

export function corpusStats(sentences: readonly TaggedSentence[], scheme?: SchemeTable): CorpusStats {
  const lengths: number[] = [];
  const perType = new Map<string, number[]>();
  let documents = 0;
  for (const sentence of sentences) {
    if (sentence.documentStart) documents++;
    lengths.push(sentence.tags.length);
    for (const chunk of decodeTags(sentence.tags, scheme)) {
      const list = perType.get(chunk.type) ?? [];
      list.push(chunk.end - chunk.start);
      perType.set(chunk.type, list);
    }
  }
  const types = [...perType.keys()].sort(compareCodePoints);
  const entitiesPerType = new Map(types.map((type) => [type, perType.get(type)!.length]));
  const entityLengthPerType = new Map(types.map((type) => [type, distribution(perType.get(type)!)]));
  const allLengths = types.flatMap((t) => perType.get(t)!);
  return {
    sentences: sentences.length,
    documents,
    tokens: lengths.reduce((a, b) => a + b, 0),
    entities: allLengths.length,
    entitiesPerType,
    entityLength: distribution(allLengths),
    entityLengthPerType,
    sentenceLength: distribution(lengths),
  };
}

/** The JSON form. Object.fromEntries defines own properties, so "__proto__" is printed like the others. */
export function statsJson(stats: CorpusStats): CorpusStatsJson {
  const { sentences, documents, tokens, entities, entityLength, sentenceLength } = stats;
  return {
    sentences,
    documents,
    tokens,
    entities,
    entitiesPerType: Object.fromEntries(stats.entitiesPerType),
    entityLength,
    entityLengthPerType: Object.fromEntries(stats.entityLengthPerType),
    sentenceLength,
  };
}

/** A plain-text rendering of the statistics. */
export function formatStats(stats: CorpusStats): string {
  const fmt = (d: Distribution) =>
    `min ${d.min}, median ${d.median}, mean ${d.mean.toFixed(2)}, p95 ${d.p95}, max ${d.max}`;
  const lines = [
    `sentences: ${stats.sentences}`,
    ...(stats.documents > 0 ? [`documents: ${stats.documents}`] : []),
    `tokens: ${stats.tokens}`,
    `entities: ${stats.entities}`,
  ];
  const width = Math.max(4, ...[...stats.entitiesPerType.keys()].map((t) => t.length));
  for (const [type, count] of stats.entitiesPerType) {
    lines.push(`  ${type.padEnd(width)}  ${String(count).padStart(7)}  length: ${fmt(stats.entityLengthPerType.get(type)!)}`);
  }
  lines.push(`entity length (tokens): ${fmt(stats.entityLength)}`);
  lines.push(`sentence length (tokens): ${fmt(stats.sentenceLength)}`);
  lines.push("sentence length histogram:");
  lines.push(...histogramLines(stats.sentenceLength));
  return lines.join("\n") + "\n";
}

/** A text bar chart in buckets of powers of two, which reads well for long-tailed lengths. */
function histogramLines(d: Distribution): string[] {
  const buckets = new Map<string, number>();
  for (const [value, count] of Object.entries(d.histogram)) {
    const v = Number(value);
    const low = v === 0 ? 0 : 2 ** Math.floor(Math.log2(v));
    const label = v === 0 ? "0" : low === 1 ? "1" : `${low}-${low * 2 - 1}`;
    buckets.set(label, (buckets.get(label) ?? 0) + count);
  }
  const most = Math.max(1, ...buckets.values());
  return [...buckets].map(([label, count]) => `  ${label.padStart(9)} ${String(count).padStart(7)} ${"#".repeat(Math.ceil((40 * count) / most))}`);
}
