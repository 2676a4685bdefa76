// The ONNX graph nerkit builds gives transformers' logits: all four tiny checkpoints, the padded
// 4-sentence batch of ../shared/fixtures/hf/model-cases.json (eval mode), to 1e-6 absolute (measured:
// 6.0e-8 to 8.9e-8, 2–3 ulp of the largest logits, ~0.3), both with ONNX Runtime's fused kernels (the default)
// and in standard operators only.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { TokenClassifierSession } from "../src/model/session.js";
import { fixturesDir } from "./helpers.js";
import { MODEL_KINDS, caseLogits, maxAbsDifference, modelCases } from "./model-cases.js";

for (const [kind, fused] of MODEL_KINDS.flatMap((k) => [[k, true], [k, false]] as const)) {
  test(`${kind}-tiny, ${fused ? "fused kernels" : "standard operators"}: logits equal transformers' to 1e-6, padding included`, async () => {
    const worst = maxAbsDifference(await caseLogits(kind, { fused }), modelCases[kind].logits_eval.flat(2));
    assert.ok(worst < 1e-6, `max |difference| ${worst}`);
    console.log(`${kind} ${fused ? "fused" : "standard"}: max |difference| ${worst.toExponential(2)}`);
  });
}

for (const kind of MODEL_KINDS) {
  // The bound as in export.test.ts: int8 rounding errs by ~0.03% of the largest logit; a wrong
  // scale or layout errs by the logits' own size.
  test(`${kind}-tiny, quantize int8: logits within 1% of the largest of transformers'`, async () => {
    const expected = modelCases[kind].logits_eval.flat(2);
    const largest = Math.max(...expected.map(Math.abs));
    const worst = maxAbsDifference(await caseLogits(kind, { quantize: "int8" }), expected);
    assert.ok(worst > 0 && worst < 0.01 * largest, `max |difference| ${worst}, largest logit ${largest}`);
  });
}

test("a classifier whose size disagrees with id2label is refused with a clear error", async () => {
  const checkpoint = loadCheckpoint(join(fixturesDir, "hf", "bert-tiny"));
  const arch = { ...architectureOf(checkpoint.config), labels: ["O", "B-PER", "I-PER"] };
  await assert.rejects(
    TokenClassifierSession.create(arch, (name) => checkpoint.weights.tensor(name)),
    /classifier\.(weight|bias) has shape \[9(, 32)?\] but config\.json implies \[3(, 32)?\] \(id2label and the classifier disagree/,
  );
});
