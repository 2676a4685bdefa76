// Every backward builder against finite differences: the whole training graph of a tiny BERT with
// dropout on (fixed noise), GELU, attention, LayerNorm, embeddings and class-weighted cross-entropy,
// each parameter tensor probed at a few coordinates: (L(θ + ε) − L(θ − ε)) / 2ε vs the analytic
// gradient. The graph computes in float32, so ε and the tolerance are sized for that.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { buildGradientGraph, gradName } from "../src/train/graph/gradient-graph.js";
import { fillNoise } from "../src/train/step-runner.js";
import { SeededRandom } from "../src/train/random.js";
import { fixturesDir } from "./helpers.js";

for (const [kind, activation] of [["bert", "gelu"], ["roberta", "gelu_new"], ["distilbert", "relu"]] as const) {
  test(`${kind} (${activation}, dropout 0.1, class weights): analytic gradients equal finite differences`, async () => {
    const checkpoint = loadCheckpoint(join(fixturesDir, "hf", `${kind}-tiny`));
    const arch = { ...architectureOf(checkpoint.config), activation, dropout: { hidden: 0.1, attention: 0.1, classifier: 0.1 } };
    const built = buildGradientGraph(arch, { classWeights: true });
    assert.ok(built.dropoutSites.length > 0);
    const session = await ort.InferenceSession.create(built.model, { intraOpNumThreads: 1 });
    const [B, T] = [2, 7];
    const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(5 + ((i * 37) % 900)));
    const mask = BigInt64Array.from({ length: B * T }, (_, i) => (i % T < (i < T ? T : 5) ? 1n : 0n));
    const labels = BigInt64Array.from({ length: B * T }, (_, i) => (i % 3 === 2 ? -100n : BigInt(i % 9)));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [B, T]),
      attention_mask: new ort.Tensor("int64", mask, [B, T]),
      labels: new ort.Tensor("int64", labels, [B, T]),
      class_weights: new ort.Tensor("float32", Float32Array.from({ length: 9 }, (_, i) => 0.5 + i / 8), [9]),
    };
    if (built.batchInputs.includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(B * T), [B, T]);
    let state = 1234;
    for (const site of built.dropoutSites) {
      const dims = site.dims.map((d) => (d === "batch" ? B : d === "tokens" ? T : (d as number)));
      const noise = new Uint16Array(dims.reduce((a, b) => a * b, 1));
      state = fillNoise(noise, state);
      feeds[site.input] = new ort.Tensor("uint16", noise, dims);
    }
    const params = new Map(built.parameters.map((p) => [p.name, Float32Array.from(checkpoint.weights.tensor(p.name).data)]));
    for (const p of built.parameters) feeds[p.name] = new ort.Tensor("float32", params.get(p.name)!, p.shape);
    const out = await session.run(feeds);
    const loss = async () => ((await session.run(feeds, ["loss"])).loss.data as Float32Array)[0];

    const random = new SeededRandom(5);
    const eps = 2e-3;
    let checked = 0;
    for (const p of built.parameters) {
      if (/(key|k_lin)\.bias$/.test(p.name)) continue; // its gradient is exactly zero (softmax shift invariance)
      const data = params.get(p.name)!;
      const grad = out[gradName(p.name)].data as Float32Array;
      // Probe the coordinates with the largest gradients, where float32 round-off matters least.
      const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]));
      for (const i of [order[0], order[Math.floor(random.next() * Math.min(8, order.length))]]) {
        const saved = data[i];
        data[i] = saved + eps;
        const up = await loss();
        data[i] = saved - eps;
        const down = await loss();
        data[i] = saved;
        const numeric = (up - down) / (2 * eps);
        assert.ok(Math.abs(numeric - grad[i]) <= 2e-2 * Math.abs(grad[i]) + 3e-4, `${p.name}[${i}]: analytic ${grad[i]}, numeric ${numeric}`);
        checked++;
      }
    }
    assert.ok(checked > 40);
    await session.release();
  });
}
