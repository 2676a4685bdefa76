// Three AdamW steps (forward, backward and the gradient norm in one ONNX Runtime run, then clipping
// and the update in place, slice by slice) reproduce
// PyTorch's: the fixture recipe of ../shared/fixtures/README.md (lr 1e-3, linear schedule with one
// warm-up step of three, weight decay 0.01 except biases and LayerNorm weights, clipping at 1.0,
// the same batch each step). Parameters within 1e-6 (1e-5 where the first gradient is round-off,
// see stepErrors in ./model-cases.ts), per-step losses and gradient norms within 2e-6.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { architectureOf } from "../src/model/architecture.js";
import { StepRunner } from "../src/train/step-runner.js";
import { linearScheduleLr } from "../src/train/schedule.js";
import { fixturesDir } from "./helpers.js";
import { modelCases, stepErrors, trainingBatch } from "./model-cases.js";

const cases = modelCases;

test("the linear schedule gives the fixture's learning rates", () => {
  assert.deepEqual([0, 1, 2].map((s) => linearScheduleLr(1e-3, s, 1, 3)), cases.bert.train_steps.lr_per_step);
});

for (const kind of ["bert", "distilbert", "roberta", "xlmr"]) {
  test(`${kind}-tiny: three training steps equal PyTorch's`, async () => {
    const dir = join(fixturesDir, "hf", `${kind}-tiny`);
    const checkpoint = loadCheckpoint(dir);
    const runner = await StepRunner.create(architectureOf(checkpoint.config), (name) => checkpoint.weights.tensor(name).data, { threads: 1 });
    const c = cases[kind];
    const batch = trainingBatch(kind);
    for (let s = 0; s < 3; s++) {
      const { loss, gradNorm } = await runner.step(batch, linearScheduleLr(1e-3, s, 1, 3), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
      // Measured: losses within 4.8e-7, norms within 7.2e-7 (2–3 ulp).
      assert.ok(Math.abs(loss - c.train_steps.loss_per_step[s]) < 2e-6, `step ${s}: loss ${loss}`);
      assert.ok(Math.abs(gradNorm - c.train_steps.grad_norm_per_step[s]) < 2e-6, `step ${s}: grad norm ${gradNorm}`);
    }
    // The steps move parameters by ~1.5e-3. Measured: 2.4e-7 (2 ulp of the LayerNorm weights' 1.0) and 9.0e-7.
    const errors = stepErrors((name) => runner.tensor(name), readSafetensors(join(dir, "expected_after_3_steps.safetensors")), readSafetensors(join(dir, "expected_grads.safetensors")));
    assert.ok(errors.settled < 1e-6 && errors.noisy < 1e-5, `max |Δ| ${errors.settled} (${errors.noisy} where the first gradient is round-off)`);
    await runner.release();
  });
}
