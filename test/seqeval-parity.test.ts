// Parity with seqeval on every case of ../shared/fixtures/seqeval/cases.json: entities, default
// mode and strict mode under each case's scheme, compared number for number.

import { test } from "node:test";
import assert from "node:assert/strict";
import { conllevalChunks } from "../src/data/chunks.js";
import { schemeByName } from "../src/data/schemes.js";
import { evaluate } from "../src/metrics/seqeval.js";
import { assertSameReport, seqevalCases, strictExpectations } from "./seqeval-cases.js";

const fixture = { cases: seqevalCases };

test("fixture holds 245 cases", () => {
  assert.equal(fixture.cases.length, 245);
});

test("default-mode entities equal seqeval's get_entities", () => {
  for (const c of fixture.cases) {
    const actual = c.y_true.map((tags) => conllevalChunks(tags).map((e) => [e.type, e.start, e.end - 1]));
    assert.deepEqual(actual, c.entities_true_default, c.id);
  }
});

test("default mode equals seqeval on every case", () => {
  for (const c of fixture.cases) assertSameReport(evaluate(c.y_true, c.y_pred), c.default, c.id);
});

test("strict mode equals seqeval on every case and scheme", () => {
  let checked = 0;
  for (const c of fixture.cases) {
    for (const [scheme, expected] of strictExpectations(c)) {
      const run = () => evaluate(c.y_true, c.y_pred, { mode: "strict", scheme: schemeByName(scheme) });
      if ("error" in expected) {
        assert.throws(run, /not allowed in/, `${c.id} ${scheme}: seqeval raised ${expected.error}`);
      } else {
        assertSameReport(run(), expected, `${c.id} strict ${scheme}`);
      }
      checked++;
    }
  }
  assert.equal(checked, 238 + 14);
});
