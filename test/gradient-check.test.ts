// Every backward builder against finite differences: the whole training graph of a tiny BERT with
// dropout on (fixed noise), GELU, attention, LayerNorm, embeddings and class-weighted cross-entropy,
// each parameter tensor probed at a few coordinates: (L(θ + ε) − L(θ − ε)) / 2ε vs the analytic
// gradient. The graph computes in float32: the loss (~2.2) moves in steps of 2.4e-7, so a
// difference quotient is only good to ~1e-5 at ε = 1e-2. Two choices keep every gradient well
// above that noise. (1) The test point scales the query, key and value weights by 10: with the
// checkpoint's random weights (~0.02) attention is near uniform and the query/key gradients are
// ~1e-5, below the noise, so a wrong softmax or attention-dropout backward went unseen behind the
// old 3e-4 absolute floor; scaled, they are ~1e-3 like the other weights'. (2) The absolute floor
// is per tensor: 1% of that tensor's largest gradient. Measured: the worst probe errs by 0.7 of its
// tolerance; with the attention-dropout backward left out, probes of all three models fail.

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
    const attentionScale = (name: string) => (/(query|key|value|q_lin|k_lin|v_lin)\.weight$/.test(name) ? 10 : 1);
    const params = new Map(built.parameters.map((p) => [p.name, checkpoint.weights.tensor(p.name).data.map((x) => x * attentionScale(p.name))]));
    for (const p of built.parameters) feeds[p.name] = new ort.Tensor("float32", params.get(p.name)!, p.shape);
    const out = await session.run(feeds);
    const loss = async () => ((await session.run(feeds, ["loss"])).loss.data as Float32Array)[0];
    const EPS = 1e-2;

    const random = new SeededRandom(5);
    let checked = 0;
    let worst = 0;
    for (const p of built.parameters) {
      if (/(key|k_lin)\.bias$/.test(p.name)) continue; // its gradient is exactly zero (softmax shift invariance)
      // Moving one weight of the ReLU's input layer by ε moves a unit's pre-activation by up to ~3ε on every token,
      // so about one probe in two crosses ReLU's kink, where the loss has no derivative. The ReLU's backward is
      // still checked, by every parameter below it; that layer's Linear backward is the one every other layer uses.
      if (activation === "relu" && /(intermediate\.dense|ffn\.lin1)\./.test(p.name)) continue;
      const data = params.get(p.name)!;
      const grad = out[gradName(p.name)].data as Float32Array;
      // Probe the coordinates with the largest gradients, where float32 round-off matters least.
      const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]));
      const floor = 1e-2 * Math.abs(grad[order[0]]);
      assert.ok(floor > 5e-6, `${p.name}: its largest gradient ${grad[order[0]]} is too small to check in float32`);
      for (const i of [order[0], order[Math.floor(random.next() * Math.min(8, order.length))]]) {
        const saved = data[i];
        data[i] = saved + EPS;
        const up = await loss();
        data[i] = saved - EPS;
        const down = await loss();
        data[i] = saved;
        const numeric = (up - down) / (2 * EPS);
        const tolerance = 2e-2 * Math.abs(grad[i]) + floor;
        worst = Math.max(worst, Math.abs(numeric - grad[i]) / tolerance);
        assert.ok(Math.abs(numeric - grad[i]) <= tolerance, `${p.name}[${i}]: analytic ${grad[i]}, numeric ${numeric}`);
        checked++;
      }
    }
    assert.ok(checked > 60, `only ${checked} coordinates checked`);
    console.log(`${kind}: ${checked} coordinates, worst |numeric − analytic| / tolerance ${worst.toFixed(2)}`);
    await session.release();
  });
}
