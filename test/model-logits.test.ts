// The ONNX graph nerkit builds gives transformers' logits: all four tiny checkpoints, the padded
// 4-sentence batch of ../shared/fixtures/hf/model-cases.json (eval mode), to 1e-4 absolute, both
// with ONNX Runtime's fused kernels (the default) and in standard operators only.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { TokenClassifierSession } from "../src/model/session.js";
import { fixturesDir, readJson } from "./helpers.js";

interface ModelCase {
  input_ids: number[][];
  attention_mask: number[][];
  logits_eval: number[][][];
}

const cases = readJson<Record<string, ModelCase>>(join(fixturesDir, "hf", "model-cases.json"));

for (const [kind, fused] of ["bert", "distilbert", "roberta", "xlmr"].flatMap((k) => [[k, true], [k, false]] as const)) {
  test(`${kind}-tiny, ${fused ? "fused kernels" : "standard operators"}: logits equal transformers' to 1e-4, padding included`, async () => {
    const checkpoint = loadCheckpoint(join(fixturesDir, "hf", `${kind}-tiny`));
    const arch = architectureOf(checkpoint.config);
    const session = await TokenClassifierSession.create(arch, (name) => checkpoint.weights.tensor(name), { threads: 1, fused });
    const c = cases[kind];
    const rows = c.input_ids.length;
    const length = c.input_ids[0].length;
    const logits = await session.run({
      rows,
      length,
      inputIds: BigInt64Array.from(c.input_ids.flat().map(BigInt)),
      attentionMask: BigInt64Array.from(c.attention_mask.flat().map(BigInt)),
    });
    const expected = c.logits_eval.flat(2);
    assert.equal(logits.length, expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i] - expected[i]));
    assert.ok(worst < 1e-4, `max |difference| ${worst}`);
    console.log(`${kind} ${fused ? "fused" : "standard"}: max |difference| ${worst.toExponential(2)}`);
    await session.release();
  });
}

for (const kind of ["bert", "distilbert", "roberta", "xlmr"]) {
  // The bound as in export.test.ts: int8 rounding errs by ~0.03% of the largest logit; a wrong
  // scale or layout errs by the logits' own size.
  test(`${kind}-tiny, quantize int8: logits within 1% of the largest of transformers'`, async () => {
    const checkpoint = loadCheckpoint(join(fixturesDir, "hf", `${kind}-tiny`));
    const session = await TokenClassifierSession.create(architectureOf(checkpoint.config), (name) => checkpoint.weights.tensor(name), { threads: 1, quantize: "int8" });
    const c = cases[kind];
    const logits = await session.run({
      rows: c.input_ids.length,
      length: c.input_ids[0].length,
      inputIds: BigInt64Array.from(c.input_ids.flat().map(BigInt)),
      attentionMask: BigInt64Array.from(c.attention_mask.flat().map(BigInt)),
    });
    await session.release();
    const expected = c.logits_eval.flat(2);
    const largest = Math.max(...expected.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i] - expected[i]));
    assert.ok(worst > 0 && worst < 0.01 * largest, `max |difference| ${worst}, largest logit ${largest}`);
  });
}

test("a classifier whose size disagrees with id2label is refused with a clear error", async () => {
  const checkpoint = loadCheckpoint(join(fixturesDir, "hf", "bert-tiny"));
  const arch = { ...architectureOf(checkpoint.config), labels: ["O", "B-PER", "I-PER"] };
  await assert.rejects(
    TokenClassifierSession.create(arch, (name) => checkpoint.weights.tensor(name)),
    /classifier\.weight has shape \[9, 32\] but config\.json implies \[3, 32\]/,
  );
});
