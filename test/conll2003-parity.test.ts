// Parity on real data: CoNLL-2003 dev and test gold against the perturbed predictions in
// ../shared/fixtures/seqeval/cases.json, through the file-level API, for seqeval's numbers and
// conlleval.pl's verbatim output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConll, formatConll } from "../src/data/conll.js";
import { conllevalReport } from "../src/metrics/conlleval-report.js";
import { evaluateFiles } from "../src/metrics/evaluate-files.js";
import { conllDir, fixturesDir, readJson, tempDir } from "./helpers.js";

interface Real {
  file: string;
  pred_tags: string[][];
  default: { precision: number; recall: number; f1: number; accuracy: number; report: Record<string, { precision: number; recall: number; "f1-score": number; support: number }> };
  conlleval_stdout: string;
}

const real = readJson<{ real: Real[] }>(join(fixturesDir, "seqeval", "cases.json")).real;

for (const entry of real) {
  test(`${entry.file}: seqeval numbers and conlleval output`, () => {
    const goldPath = join(conllDir, entry.file.split("/")[1]);
    const gold = parseConll(readFileSync(goldPath, "utf8"), { file: goldPath });
    assert.equal(gold.sentences.length, entry.pred_tags.length);
    const predPath = join(tempDir(), "pred.conll");
    writeFileSync(predPath, formatConll({ ...gold, sentences: gold.sentences.map((s, i) => ({ ...s, tags: entry.pred_tags[i] })) }));

    const result = evaluateFiles({ gold: goldPath, pred: predPath });
    const o = result.report.overall;
    assert.deepEqual(
      { precision: o.precision, recall: o.recall, f1: o.f1, accuracy: o.accuracy },
      { precision: entry.default.precision, recall: entry.default.recall, f1: entry.default.f1, accuracy: entry.default.accuracy },
    );
    for (const [name, row] of Object.entries(entry.default.report)) {
      const got = result.report.types.get(name) ?? result.report[name as "micro avg" | "macro avg" | "weighted avg"];
      assert.deepEqual([got.precision, got.recall, got.f1, got.support], [row.precision, row.recall, row["f1-score"], row.support], name);
    }
    assert.equal(conllevalReport(result.counts), entry.conlleval_stdout);
  });
}
