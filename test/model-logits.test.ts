// The ONNX graph nerkit builds gives transformers' logits: all four tiny checkpoints, the padded
// 4-sentence batch of ../shared/fixtures/hf/model-cases.json (eval mode), to 1e-6 absolute (measured:
// 6.0e-8 to 8.9e-8, 2–3 ulp of the largest logits, ~0.3), both with ONNX Runtime's fused kernels (the default)
// and in standard operators only. The config.json settings no fixture uses (the activations gelu_new
// and relu, other layer_norm_eps values) against test/reference/config-variants.json, logits of a
// plain-PyTorch model made by test/reference/make_reference.py.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { writeSafetensors } from "../src/model/checkpoint/safetensors-writer.js";
import { architectureOf } from "../src/model/architecture.js";
import { TokenClassifierSession } from "../src/model/session.js";
import { fixturesDir, readJson, repoRoot, tempDir } from "./helpers.js";
import { MODEL_KINDS, caseLogits, maxAbsDifference, modelCases, tinyModelDir } from "./model-cases.js";

for (const [kind, fused] of MODEL_KINDS.flatMap((k) => [[k, true], [k, false]] as const)) {
  test(`${kind}-tiny, ${fused ? "fused kernels" : "standard operators"}: logits equal transformers' to 1e-6, padding included`, async () => {
    const worst = maxAbsDifference(await caseLogits(kind, { fused }), modelCases[kind].logits_eval.flat(2));
    assert.ok(worst < 1e-6, `max |difference| ${worst}`);
    console.log(`${kind} ${fused ? "fused" : "standard"}: max |difference| ${worst.toExponential(2)}`);
  });
}

interface ConfigVariant {
  kind: string;
  config: Record<string, unknown>;
  /** Factors for some weights, so that the change shows (gelu and gelu_new agree to 1e-7 on small inputs). */
  scaled: Record<string, number>;
  logits: number[][][];
  /** The same weights under the checkpoint's own config.json. */
  unchanged_logits: number[][][];
}
const variants = readJson<{ variants: ConfigVariant[] }>(join(repoRoot, "test", "reference", "config-variants.json")).variants;

/** A checkpoint folder: the `kind`-tiny model with `variant`'s config.json change and weight factors. */
function variantCheckpoint(variant: ConfigVariant, dir: string): void {
  const source = tinyModelDir(variant.kind);
  const config = readJson<Record<string, unknown>>(join(source, "config.json"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, ...variant.config }));
  const factors = new Map(Object.entries(variant.scaled));
  if (factors.size === 0) return symlinkSync(join(source, "model.safetensors"), join(dir, "model.safetensors"));
  const weights = readSafetensors(join(source, "model.safetensors"));
  const tensors = Object.fromEntries(weights.names.map((name) => {
    const { shape, data } = weights.tensor(name);
    return [name, { shape, data: data.map((x) => x * (factors.get(name) ?? 1)) }];
  }));
  writeSafetensors(join(dir, "model.safetensors"), tensors);
}

for (const variant of variants) {
  const change = JSON.stringify(variant.config) + (Object.keys(variant.scaled).length > 0 ? " (feed-forward weights scaled)" : "");
  test(`${variant.kind}-tiny with ${change}: logits equal PyTorch's to 1e-6, fused and standard`, async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    variantCheckpoint(variant, dir);
    const expected = variant.logits.flat(2);
    // The setting must matter: it moves the reference logits well beyond the tolerance (measured: 1.2e-5 for
    // roberta's layer_norm_eps 1e-5, the least; 7.5e-5 for gelu_new).
    const effect = maxAbsDifference(expected, variant.unchanged_logits.flat(2));
    assert.ok(effect > 1e-5, `${change} moves the logits by only ${effect}`);
    for (const fused of [true, false]) {
      const worst = maxAbsDifference(await caseLogits(variant.kind, { fused }, dir), expected);
      console.log(`${variant.kind} ${change} ${fused ? "fused" : "standard"}: max |difference| ${worst.toExponential(2)} (the setting moves logits by ${effect.toExponential(2)})`);
      assert.ok(worst < 1e-6, `${fused ? "fused" : "standard"}: max |difference| ${worst}`);
    }
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
