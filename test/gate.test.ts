// The promotion gate (issue 12 §3) at its boundaries: a rise of exactly the margin promotes, a hair
// less does not; a type falling 2.00 points passes, 2.01 does not; a type new to the candidate
// cannot fall; a type the candidate lost counts as F1 0; scores come from seqeval's report.

import { test } from "node:test";
import assert from "node:assert/strict";
import { GateScores, gate, gateScores } from "../src/metrics/gate.js";
import { evaluate } from "../src/metrics/seqeval.js";

const scores = (microF1: number, perType: Record<string, number>): GateScores => ({ microF1, perType, support: 100 });
const serving = scores(0.8, { PER: 0.9, LOC: 0.7 });

const cases: { name: string; candidate: GateScores; decision: "promote" | "keep-candidate"; reason: RegExp }[] = [
  { name: "exactly the margin (0.5 points) promotes", candidate: scores(0.805, { PER: 0.9, LOC: 0.71 }), decision: "promote", reason: /\+0\.50 points/ },
  { name: "0.49 points is below the margin", candidate: scores(0.8049, { PER: 0.9, LOC: 0.71 }), decision: "keep-candidate", reason: /below the promote margin of 0\.50/ },
  { name: "a type falling exactly 2 points passes", candidate: scores(0.82, { PER: 0.88, LOC: 0.75 }), decision: "promote", reason: /largest fall: PER −2\.00/ },
  { name: "a type falling 2.01 points is refused", candidate: scores(0.82, { PER: 0.8799, LOC: 0.75 }), decision: "keep-candidate", reason: /fell more than 2\.00 points for PER −2\.01/ },
  { name: "a new type absent from serving cannot fall", candidate: scores(0.81, { PER: 0.9, LOC: 0.7, PRODUCT: 0.1 }), decision: "promote", reason: /promoted/ },
  { name: "a type the candidate lost counts as F1 0", candidate: scores(0.9, { PER: 0.95 }), decision: "keep-candidate", reason: /LOC −70\.00/ },
  { name: "a worse model is refused", candidate: scores(0.7, { PER: 0.89, LOC: 0.69 }), decision: "keep-candidate", reason: /80\.00 → 70\.00 \(−10\.00 points\)/ },
];

for (const c of cases) {
  test(`gate: ${c.name}`, () => {
    const verdict = gate(c.candidate, serving, { promoteMargin: 0.5, maxTypeDrop: 2 });
    assert.equal(verdict.decision, c.decision, verdict.reason);
    assert.match(verdict.reason, c.reason);
  });
}

test("gate: a type named __proto__ is compared like any other", () => {
  const before = gateScores(evaluate([["B-__proto__", "O"]], [["B-__proto__", "O"]]));
  const after = gateScores(evaluate([["B-__proto__", "O"]], [["O", "O"]]));
  assert.deepEqual(Object.keys(before.perType), ["__proto__"]);
  assert.equal(before.perType["__proto__"], 1);
  const verdict = gate(after, before);
  assert.equal(verdict.decision, "keep-candidate");
  assert.match(verdict.reason, /__proto__ −100\.00/);
});

test("gate scores: seqeval's micro F1, per-type F1 and the gold entities counted", () => {
  // gold: PER, LOC, LOC; predicted: PER (right), LOC (right), ORG (wrong).
  const report = evaluate([["B-PER", "O", "B-LOC", "O", "B-LOC"]], [["B-PER", "O", "B-LOC", "O", "B-ORG"]]);
  const s = gateScores(report);
  assert.equal(s.support, 3);
  // precision 2/3, recall 2/3.
  assert.ok(Math.abs(s.microF1 - 2 / 3) < 1e-15);
  assert.deepEqual(s.perType, { LOC: 2 / 3, ORG: 0, PER: 1 });
});
