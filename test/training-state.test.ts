// The training state's bookkeeping: the flat layout of parameters (every element in exactly one
// update slice, no slice across the two weight-decay groups); an update split into slices that cut
// through parameters gives bit for bit what one slice per 2^20 elements gives; and a step whose loss
// is not finite leaves every parameter and moment as it was (the update runs in place, so nothing
// else keeps the last good values).

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { ParameterSpec } from "../src/model/parameters.js";
import { FlatLayout } from "../src/train/flat-layout.js";
import { StepRunner } from "../src/train/step-runner.js";
import { NerkitError } from "../src/errors.js";
import { tinyModelDir, trainingBatch } from "./model-cases.js";

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

test("the flat layout: views in place, decayed parameters first, slices cover each element once within one decay group", () => {
  const parameters: ParameterSpec[] = [
    { name: "a.bias", shape: [5], init: "zeros", decay: false },
    { name: "a.weight", shape: [3, 4], init: "normal", decay: true },
    { name: "norm.weight", shape: [7], init: "ones", decay: false },
    { name: "b.weight", shape: [2, 3], init: "normal", decay: true },
  ];
  const layout = new FlatLayout(parameters);
  assert.equal(layout.size, 5 + 12 + 7 + 6);
  const flat = Float32Array.from({ length: layout.size }, (_, i) => i);
  assert.deepEqual([...layout.view(flat, "a.weight")], Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual([...layout.view(flat, "b.weight")], Array.from({ length: 6 }, (_, i) => 12 + i));
  assert.deepEqual([...layout.view(flat, "a.bias")], Array.from({ length: 5 }, (_, i) => 18 + i));
  assert.deepEqual([...layout.view(flat, "norm.weight")], Array.from({ length: 7 }, (_, i) => 23 + i));
  layout.view(flat, "b.weight")[0] = -1;
  assert.equal(flat[12], -1, "a view writes into the flat array");
  for (const size of [1, 4, 7, 100]) {
    const seen = new Uint8Array(layout.size);
    for (const slice of layout.slices(size)) {
      assert.ok(slice.end - slice.start <= size && slice.end > slice.start);
      assert.ok(slice.decay ? slice.end <= 18 : slice.start >= 18, `slice [${slice.start}, ${slice.end}) crosses the decay groups`);
      for (let i = slice.start; i < slice.end; i++) seen[i]++;
    }
    assert.ok(seen.every((n) => n === 1), `slices of ${size} cover every element once`);
  }
});

/** Every parameter and moment of a runner, copied. */
function snapshot(runner: StepRunner): Map<string, Float32Array> {
  return new Map(runner.parameters.flatMap((p) => [p.name, `adam_m.${p.name}`, `adam_v.${p.name}`].map((n) => [n, Float32Array.from(runner.tensor(n))] as const)));
}

test("bert-tiny: an update cut into slices of 777 elements equals the default slicing bit for bit, over two steps and one accumulated step", async () => {
  const checkpoint = loadCheckpoint(tinyModelDir("bert"));
  const arch = architectureOf(checkpoint.config);
  const batch = trainingBatch("bert");
  const results = [];
  for (const sliceElements of [undefined, 777]) {
    const runner = await StepRunner.create(arch, (name) => checkpoint.weights.tensor(name).data, { threads: 1, sliceElements });
    try {
      for (let s = 0; s < 2; s++) await runner.step(batch, 1e-3, ADAMW);
      await runner.accumulatedStep([batch, batch], 1e-3, ADAMW);
      results.push(snapshot(runner));
    } finally {
      await runner.release();
    }
  }
  const [whole, sliced] = results;
  assert.ok(whole.get("bert.embeddings.word_embeddings.weight")!.length > 777, "a parameter is cut by the slices");
  for (const [name, values] of whole) assert.deepEqual(sliced.get(name), values, name);
});

test("bert-tiny: a step whose loss is not finite fails with E_DIVERGED and leaves every parameter and moment as it was", async () => {
  const checkpoint = loadCheckpoint(tinyModelDir("bert"));
  const runner = await StepRunner.create(architectureOf(checkpoint.config), (name) => checkpoint.weights.tensor(name).data, { threads: 1 });
  try {
    const batch = trainingBatch("bert");
    await runner.step(batch, 1e-3, ADAMW);
    runner.load("classifier.bias", new Float32Array(runner.tensor("classifier.bias").length).fill(NaN));
    const before = snapshot(runner);
    await assert.rejects(runner.step(batch, 1e-3, ADAMW), (error: unknown) => error instanceof NerkitError && error.code === "E_DIVERGED");
    assert.equal(runner.updates, 1);
    for (const [name, values] of before) assert.deepEqual(runner.tensor(name), values, name);
  } finally {
    await runner.release();
  }
});
