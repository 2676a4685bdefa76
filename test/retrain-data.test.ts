// Retraining data from reviews (issue 12 §3), table-driven on hand-made reviews: accepted documents
// as the model proposed them, corrections as labels, rejected documents left out, several reviewers
// resolved by majority with ties to the latest; the held-out share stable as reviews accumulate and
// never in training; documents naming a type the model does not predict left out.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ReviewedResult, StoredReview } from "../src/serve/storage/repository.js";
import { resolveReviews } from "../src/serve/review/resolution.js";
import { holdoutPosition, isHeldOut } from "../src/serve/review/holdout.js";
import { retrainDocuments } from "../src/serve/review/retrain-documents.js";

const text = "Ada Lovelace met Charles Babbage in London";
// The model proposed PER "Ada Lovelace" and ORG "London" (wrong type).
const entities = [
  { type: "PER", start: 0, end: 12, score: 0.9 },
  { type: "ORG", start: 35, end: 41, score: 0.6 },
];
const proposed = [
  { start: 0, end: 12, label: "PER" },
  { start: 35, end: 41, label: "ORG" },
];
const fixA = [
  { start: 0, end: 12, label: "PER" },
  { start: 17, end: 31, label: "PER" },
  { start: 35, end: 41, label: "LOC" },
];
const fixB = [{ start: 0, end: 12, label: "PER" }];

let clock = 0;
const accept = (reviewer: string): StoredReview => ({ reviewer, action: "accept", createdAt: new Date(++clock * 1000).toISOString() });
const reject = (reviewer: string): StoredReview => ({ reviewer, action: "reject", createdAt: new Date(++clock * 1000).toISOString() });
const correct = (reviewer: string, spans: object[]): StoredReview => ({ reviewer, action: "correct", spans: spans as unknown[], createdAt: new Date(++clock * 1000).toISOString() });

function reviewed(reviews: StoredReview[], jobId = "job-1", seq = 0): ReviewedResult {
  return { jobId, seq, text, entities, decision: "review", reviews };
}

const cases: { name: string; reviews: StoredReview[]; spans: object[] | undefined; agreeing: number }[] = [
  { name: "one accept: the model's spans", reviews: [accept("a")], spans: proposed, agreeing: 1 },
  { name: "one correction: its spans", reviews: [correct("a", fixA)], spans: fixA, agreeing: 1 },
  { name: "one reject: left out", reviews: [reject("a")], spans: undefined, agreeing: 1 },
  { name: "two corrections agree, the latest rejects: majority", reviews: [correct("a", fixA), correct("b", [...fixA].reverse()), reject("c")], spans: fixA, agreeing: 2 },
  { name: "two rejects, the latest accepts: majority rejects", reviews: [reject("a"), reject("b"), accept("c")], spans: undefined, agreeing: 2 },
  { name: "an accept and a correction that keeps the model's spans agree", reviews: [accept("a"), correct("b", proposed), correct("c", fixA)], spans: proposed, agreeing: 2 },
  { name: "tie of two: the latest wins (correction)", reviews: [accept("a"), correct("b", fixA)], spans: fixA, agreeing: 1 },
  { name: "tie of two: the latest wins (reject)", reviews: [correct("a", fixA), reject("b")], spans: undefined, agreeing: 1 },
  { name: "tie 2–2: the verdict whose latest review is later", reviews: [correct("a", fixA), correct("b", fixB), correct("c", fixB), correct("d", fixA)], spans: fixA, agreeing: 2 },
  { name: "tie 2–2 with a later lone verdict: among the tied, the later", reviews: [correct("a", fixB), correct("b", fixA), correct("c", fixB), correct("d", fixA), reject("e")], spans: fixA, agreeing: 2 },
];

for (const c of cases) {
  test(`review resolution: ${c.name}`, () => {
    const resolved = resolveReviews(reviewed(c.reviews));
    assert.ok(resolved);
    assert.equal(resolved.reviewers, c.reviews.length);
    assert.equal(resolved.agreeing, c.agreeing);
    if (c.spans === undefined) assert.equal(resolved.spans, undefined);
    else assert.deepEqual([...resolved.spans!].sort((a, b) => a.start - b.start), c.spans);
  });
}

test("review resolution: an accept leaves out the entities routing rejected", () => {
  const result: ReviewedResult = { ...reviewed([accept("a")]), entities: [...entities, { type: "PER", start: 17, end: 31, score: 0.1, decision: "reject" }] };
  assert.deepEqual(resolveReviews(result)!.spans, proposed);
});

test("holdout: a document's side depends on its id only, and a larger share only adds documents", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => ({ jobId: `job-${i % 7}`, seq: i }));
  const held = ids.filter((d) => isHeldOut(d.jobId, d.seq, 0.2));
  // 2000 draws of a fair 20% share: 400 ± 3 standard deviations (17.9).
  assert.ok(Math.abs(held.length - 400) < 54, `${held.length} of 2000 held out`);
  const wider = new Set(ids.filter((d) => isHeldOut(d.jobId, d.seq, 0.3)).map((d) => d.seq));
  for (const d of held) assert.ok(wider.has(d.seq));
  assert.equal(ids.filter((d) => isHeldOut(d.jobId, d.seq, 0)).length, 0);
  assert.equal(ids.filter((d) => isHeldOut(d.jobId, d.seq, 1)).length, ids.length);
  // The same id, the same position; job and seq are not run together ("job-1"+"23" vs "job-12"+"3").
  assert.equal(holdoutPosition("job-1", 5), holdoutPosition("job-1", 5));
  assert.notEqual(holdoutPosition("job-1", 23), holdoutPosition("job-12", 3));
});

test("retrain documents: the split is stable as reviews accumulate, rejected and unknown types left out", () => {
  const types = new Set(["PER", "ORG", "LOC"]);
  const batch = (n: number, from = 0) => Array.from({ length: n }, (_, i) => reviewed([accept("a")], "job-x", from + i));
  const first = retrainDocuments(batch(200), { holdout: 0.2, types });
  assert.equal(first.train.length + first.holdout.length, 200);
  assert.ok(first.holdout.length > 10 && first.holdout.length < 70, `${first.holdout.length} held out`);
  // More reviews arrive, some documents get a second reviewer: nothing moves between the sides.
  const later = [...batch(200).map((r, i) => (i % 3 === 0 ? { ...r, reviews: [...r.reviews, correct("b", proposed)] } : r)), ...batch(100, 200)];
  const second = retrainDocuments(later, { holdout: 0.2, types });
  const heldBefore = new Set(first.holdout.map((d) => d.id));
  const trainedAfter = new Set(second.train.map((d) => d.id));
  for (const id of heldBefore) assert.ok(!trainedAfter.has(id), `${id} moved from holdout into training`);
  assert.deepEqual(second.holdout.map((d) => d.id).filter((id) => heldBefore.has(id)), [...heldBefore]);

  const mixed = retrainDocuments(
    [reviewed([reject("a")], "j", 1), reviewed([correct("a", [{ start: 0, end: 3, label: "PRODUCT" }])], "j", 2), reviewed([correct("a", fixA)], "j", 3)],
    { holdout: 0, types },
  );
  assert.equal(mixed.rejected, 1);
  assert.deepEqual([...mixed.unknownTypes], [["PRODUCT", 1]]);
  assert.deepEqual(mixed.train.map((d) => d.id), ["j:3"]);
  assert.deepEqual(mixed.train[0].spans, fixA);
});
