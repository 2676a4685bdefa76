// AdamW's weight decay where it shows: three steps with lr 1e-3 and weight decay 1.0 on the fixture
// batch of each tiny model, every bias starting at 0.1 (the checkpoints' are 0, where decaying them
// by mistake changes nothing), equal torch.optim.AdamW's (test/reference/adamw-decay-*.safetensors,
// made in float64 by test/reference/make_reference.py, a plain-PyTorch model checked there against
// the transformers fixtures). In the fixture recipe (weight decay 0.01) decay moves a weight by
// 1.4e-6 at most, near what float32 can tell apart; here the decayed weights move by up to 1.2e-4
// more than without decay, and a LayerNorm weight (1.0) decayed by mistake would move by 1.5e-3,
// both hundreds of times the tolerance. Measured: parameters within 1.2e-7 (1 ulp of 1.0; 5.3e-7
// where the first gradient is round-off, see stepErrors), losses and norms within 6.8e-7.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { architectureOf } from "../src/model/architecture.js";
import { StepRunner } from "../src/train/step-runner.js";
import { linearScheduleLr } from "../src/train/schedule.js";
import { readJson, repoRoot } from "./helpers.js";
import { MODEL_KINDS, stepErrors, tinyModelDir, trainingBatch } from "./model-cases.js";

interface Recipe {
  lr: number;
  weight_decay: number;
  betas: [number, number];
  eps: number;
  warmup_steps: number;
  steps: number;
  max_grad_norm: number;
}
interface StepLog {
  loss_per_step: number[];
  grad_norm_per_step: number[];
  lr_per_step: number[];
}

const referenceDir = join(repoRoot, "test", "reference");
const reference = readJson<{ recipe: Recipe; bias_start: number; kinds: Record<string, StepLog> }>(join(referenceDir, "adamw-decay.json"));

/**
 * nerkit's parameters after the reference recipe's steps from the checkpoint with every bias at the reference's
 * start, with `weightDecay` in place of the recipe's, and the per-step log.
 */
async function train(kind: string, weightDecay: number): Promise<{ parameters: Map<string, Float32Array>; log: StepLog }> {
  const checkpoint = loadCheckpoint(tinyModelDir(kind));
  const start = (name: string) => {
    const tensor = checkpoint.weights.tensor(name).data;
    return name.endsWith(".bias") ? new Float32Array(tensor.length).fill(reference.bias_start) : tensor;
  };
  const runner = await StepRunner.create(architectureOf(checkpoint.config), start, { threads: 1 });
  const batch = trainingBatch(kind);
  const r = reference.recipe;
  const log: StepLog = { loss_per_step: [], grad_norm_per_step: [], lr_per_step: [] };
  try {
    for (let s = 0; s < r.steps; s++) {
      const lr = linearScheduleLr(r.lr, s, r.warmup_steps, r.steps);
      const { loss, gradNorm } = await runner.step(batch, lr, { beta1: r.betas[0], beta2: r.betas[1], eps: r.eps, weightDecay, maxGradNorm: r.max_grad_norm });
      log.loss_per_step.push(loss);
      log.grad_norm_per_step.push(gradNorm);
      log.lr_per_step.push(lr);
    }
    return { parameters: new Map(runner.parameters.map((p) => [p.name, Float32Array.from(runner.tensor(p.name))])), log };
  } finally {
    await runner.release();
  }
}

for (const kind of MODEL_KINDS) {
  test(`${kind}-tiny: three AdamW steps with weight decay 0.5 equal PyTorch's, and differ visibly from no decay`, async () => {
    const expected = readSafetensors(join(referenceDir, `adamw-decay-${kind}.safetensors`));
    const want = reference.kinds[kind];
    const { parameters, log } = await train(kind, reference.recipe.weight_decay);
    const lossError = Math.max(...log.loss_per_step.map((l, s) => Math.abs(l - want.loss_per_step[s])));
    const normError = Math.max(...log.grad_norm_per_step.map((n, s) => Math.abs(n - want.grad_norm_per_step[s])));
    const firstGradients = readSafetensors(join(referenceDir, `adamw-decay-${kind}-first-gradients.safetensors`));
    const errors = stepErrors((name) => parameters.get(name)!, expected, firstGradients);
    console.log(`${kind}: losses ${lossError.toExponential(2)}, norms ${normError.toExponential(2)}, parameters ${errors.settled.toExponential(2)} (${errors.noisy.toExponential(2)} where the first gradient is round-off)`);
    assert.deepEqual(log.lr_per_step, want.lr_per_step);
    assert.ok(errors.settled < 1e-6 && errors.noisy < 5e-6, `max |Δ| ${errors.settled} (${errors.noisy} where the first gradient is round-off)`);
    assert.ok(lossError < 2e-6 && normError < 2e-6, `losses off by ${lossError}, norms by ${normError}`);

    const withoutDecay = await train(kind, 0);
    const decayErrors = stepErrors((name) => withoutDecay.parameters.get(name)!, expected, firstGradients);
    console.log(`${kind}: without decay, parameters off by ${decayErrors.settled.toExponential(2)}`);
    assert.ok(decayErrors.settled > 50 * 1e-6, `without weight decay the parameters are off by only ${decayErrors.settled}`);
  });
}
