// Regression: the confusion tables of one very long sentence took quadratic time (every gold chunk
// scanned every predicted chunk: a 60,000-token sentence took seconds in `evaluate --format html`
// and blocked the server in POST /v1/evaluate). The sweep that replaced the scan is checked against
// the plain scan (kept here as the oracle) on random sentences, and its time must grow linearly.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Chunk } from "../src/data/schemes.js";
import { ConfusionReport, ERROR_KINDS, ErrorKind, confusion } from "../src/metrics/confusion.js";
import { EvaluateOptions, chunkerFor } from "../src/metrics/entity-counts.js";

/** The entity-level breakdown as it was computed before: each chunk against every chunk of the other side. */
function entityKindsByScan(gold: readonly string[][], pred: readonly string[][], options: EvaluateOptions): Map<string, Record<ErrorKind, number>> {
  const chunk = chunkerFor(gold, options);
  const overlaps = (a: Chunk, b: Chunk) => a.start < b.end && b.start < a.end;
  const kinds = new Map<string, Record<ErrorKind, number>>();
  const exactTypes = new Map<string, number>();
  const of = (type: string) => {
    if (!kinds.has(type)) kinds.set(type, Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>);
    return kinds.get(type)!;
  };
  for (let s = 0; s < gold.length; s++) {
    const goldChunks = chunk(gold[s]);
    const predChunks = chunk(pred[s]);
    for (const g of goldChunks) {
      const exact = predChunks.find((p) => p.start === g.start && p.end === g.end);
      if (exact) {
        const key = `${g.type}\u0000${exact.type}`;
        exactTypes.set(key, (exactTypes.get(key) ?? 0) + 1);
        of(g.type)[exact.type === g.type ? "correct" : "wrongType"]++;
        continue;
      }
      const near = predChunks.filter((p) => overlaps(p, g));
      if (near.length === 0) of(g.type).missed++;
      else if (near.some((p) => p.type === g.type)) of(g.type).wrongBoundary++;
      else of(g.type).wrongBoth++;
    }
    for (const p of predChunks) if (!goldChunks.some((g) => overlaps(p, g))) of(p.type).spurious++;
  }
  for (const [key, n] of exactTypes) of(`exact:${key}`).correct = n;
  return kinds;
}

function entityKindsOf(report: ConfusionReport): Map<string, Record<ErrorKind, number>> {
  const kinds = new Map([...report.entities].filter(([, counts]) => ERROR_KINDS.some((k) => counts[k] > 0)));
  for (const [g, row] of report.entityTypes) for (const [p, n] of row) if (n > 0) kinds.set(`exact:${g}\u0000${p}`, { ...Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])), correct: n } as Record<ErrorKind, number>);
  return kinds;
}

function random(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Tags with every prefix IOB2 and IOBES know, so that both modes meet broken and unusual runs. */
function randomTags(length: number, next: () => number, prefixes = "BIOES"): string[] {
  const types = ["PER", "LOC", "ORG"];
  return Array.from({ length }, () => {
    const prefix = prefixes[Math.floor(next() * prefixes.length)];
    return prefix === "O" ? "O" : `${prefix}-${types[Math.floor(next() * types.length)]}`;
  });
}

test("the confusion breakdown equals the chunk-against-every-chunk scan on random sentences", () => {
  const next = random(7);
  for (let trial = 0; trial < 200; trial++) {
    const sentences = 1 + Math.floor(next() * 4);
    const gold: string[][] = [];
    const pred: string[][] = [];
    for (let s = 0; s < sentences; s++) {
      const length = Math.floor(next() * 30);
      gold.push(randomTags(length, next));
      // Predictions share most tags with gold, so exact, boundary and type errors all occur.
      pred.push(gold[s].map((tag) => (next() < 0.6 ? tag : randomTags(1, next)[0])));
    }
    for (const options of [{ mode: "default" }, { mode: "strict", scheme: "IOBES" }] as EvaluateOptions[]) {
      assert.deepEqual(entityKindsOf(confusion(gold, pred, options)), entityKindsByScan(gold, pred, options), `trial ${trial}, ${options.mode}`);
    }
  }
});

test("the confusion tables of one long sentence take linear time: 4x the tokens, well under 8x the time", () => {
  const next = random(11);
  const sentence = (n: number) => {
    const gold = randomTags(n, next, "BIO");
    return { gold: [gold], pred: [gold.map((tag) => (next() < 0.7 ? tag : randomTags(1, next, "BIO")[0]))] };
  };
  // Best of three, so that a pause of the shared machine does not count; at n = 20,000 the scan
  // took ~0.3 s and 80,000 ~5 s (ratio ~16), the sweep a few ms and ~4x that.
  const seconds = (n: number) => {
    const { gold, pred } = sentence(n);
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      confusion(gold, pred);
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  seconds(20_000); // warm-up: compiled code for both sizes
  const small = seconds(20_000);
  const large = seconds(80_000);
  assert.ok(large / small < 8, `20,000 tokens took ${small.toFixed(1)} ms, 80,000 took ${large.toFixed(1)} ms (ratio ${(large / small).toFixed(1)})`);
});
