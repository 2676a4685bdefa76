// disjointSpans keeps each candidate that overlaps no span kept before it (by rank); it checks
// only the two neighbours of a sorted list. This compares it with the plain oracle (check every
// kept span) on random spans, and bounds its time on a long text's worth of entities (the plain
// scan held the server's event loop for seconds on 100,000-character texts).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { disjointSpans, coversWord, ScoredSpan } from "../src/postprocess/disjoint.js";
import { hasWordCharacter, tokenizeWords } from "../src/text/word-tokenizer.js";
import { overlaps } from "../src/postprocess/entity.js";

/** The oracle: the same ranking, each candidate checked against every span kept so far. */
function plainDisjoint<E extends ScoredSpan>(text: string, entities: readonly E[]): E[] {
  const candidates = entities.filter((e) => coversWord(text, e));
  const rank = (a: ScoredSpan) => (Number.isNaN(a.score) ? -Infinity : a.score);
  const order = candidates.map((_, i) => i).sort((i, j) => {
    const a = candidates[i];
    const b = candidates[j];
    return rank(b) - rank(a) || b.end - b.start - (a.end - a.start) || a.start - b.start || i - j;
  });
  const kept: E[] = [];
  for (const i of order) if (kept.every((k) => !overlaps(candidates[i], k))) kept.push(candidates[i]);
  return kept.sort((a, b) => a.start - b.start);
}

test("disjointSpans equals the plain every-kept-span scan on random spans", () => {
  const text = "ab cd  ef g hij k lm nopq r s tu v wxyz 01 23 4 5678 9";
  const span = fc.record({ start: fc.nat(text.length), length: fc.nat(8), score: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0.5, 0.25, Number.NaN)) });
  fc.assert(
    fc.property(fc.array(span, { maxLength: 40 }), (raw) => {
      const entities = raw.map((r, id) => ({ id, start: r.start, end: Math.min(text.length, r.start + r.length), score: r.score }));
      assert.deepEqual(disjointSpans(text, entities).map((e) => e.id), plainDisjoint(text, entities).map((e) => e.id));
    }),
    { numRuns: 2000 },
  );
});

test("20,000 entities of a long text are made disjoint in well under a second", () => {
  const text = "word ".repeat(20_000);
  // Every word once, and every second pair of words once more as one overlapping span.
  const entities = Array.from({ length: 20_000 }, (_, i) => ({ start: 5 * i, end: 5 * i + 4, score: (i % 7) / 7 }));
  for (let i = 0; i + 1 < 20_000; i += 2) entities.push({ start: 5 * i, end: 5 * i + 9, score: 0.5 });
  const started = performance.now();
  const kept = disjointSpans(text, entities);
  const ms = performance.now() - started;
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i - 1].end <= kept[i].start, "kept spans are disjoint and sorted");
  // Measured ~100 ms (coversWord on each span included); the plain scan compares up to 30,000 × 20,000 pairs.
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});

test("hasWordCharacter is tokenizeWords(slice).length > 0 on random text with every kind of white space", () => {
  const chars = fc.constantFrom("a", "Z", "é", "7", ".", "'", " ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff", "😀", "\u0085");
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 12 }), fc.nat(12), fc.nat(12), (parts, a, b) => {
      const text = parts.join("");
      const [start, end] = [Math.min(a, b, text.length), Math.min(Math.max(a, b), text.length)];
      assert.equal(hasWordCharacter(text, start, end), tokenizeWords(text.slice(start, end)).length > 0, JSON.stringify([text, start, end]));
    }),
    { numRuns: 3000 },
  );
});

test("one span over 20,000 others (one cluster of 20,001) is settled as fast as 20,000 apart", () => {
  const text = "word ".repeat(20_000);
  const words = Array.from({ length: 20_000 }, (_, i) => ({ start: 5 * i, end: 5 * i + 4, score: 0.5 + (i % 5) / 10 }));
  const timed = (entities: ScoredSpan[]) => {
    const started = performance.now();
    const kept = disjointSpans(text, entities);
    return { kept, ms: performance.now() - started };
  };
  const apart = timed(words);
  assert.equal(apart.kept.length, 20_000);
  // The long span ranks last (lowest score): every word is kept and the long span is not.
  const cluster = timed([...words, { start: 0, end: text.length - 1, score: 0.1 }]);
  assert.equal(cluster.kept.length, 20_000);
  assert.ok(cluster.ms < 1000, `${cluster.ms.toFixed(0)} ms`);
});
