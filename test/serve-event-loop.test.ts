// The event loop stays free while long texts are read: a real `nerkit serve` (the tiny fixture
// model, one thread) reads several 100,000-character texts at once while /healthz is polled every
// 20 ms; /healthz keeps answering quickly and the server's peak memory stays bounded. Before the
// texts were read in slices with turns for the event loop, the same load held /healthz for seconds.
// Texts over --max-text-chars are refused (413) and requests past --max-chars-in-flight wait their
// turn (503 + Retry-After) without disturbing the ones being read.
// And the model runs in a worker thread: on a model whose batches take hundreds of milliseconds,
// /healthz answers within 100 ms while they run (on the main thread, each batch held it throughout).

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { architectureOf } from "../src/model/architecture.js";
import { readModelConfig } from "../src/model/checkpoint/config.js";
import { writeSafetensors } from "../src/model/checkpoint/safetensors-writer.js";
import { parameterTable } from "../src/model/parameters.js";
import { fixturesDir, tempDir } from "./helpers.js";
import { spawnNerkit } from "./processes.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
/** Peak resident memory the server may reach: ~130 MiB idle, ~+60 MiB per 100,000 characters read at once. */
const PEAK_RSS_BOUND = 700 * 2 ** 20;

/** Polls /healthz every 20 ms (each answer must be 200) until stop(); the latencies in ms. */
function pollHealthz(address: string): { latencies: number[]; stop: () => Promise<void> } {
  const latencies: number[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const started = performance.now();
      const response = await fetch(`${address}/healthz`);
      await response.text();
      assert.equal(response.status, 200);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    latencies,
    stop: async () => {
      polling = false;
      await poll;
    },
  };
}

function longText(chars: number, seed: number): string {
  const words = ["Angela", "Merkel", "visited", "Paris", "on", "Monday.", "The", "weather", "was", "fine,", "said", "Müller."];
  let text = `${seed} `;
  for (let i = seed; text.length < chars; i++) text += words[i % words.length] + " ";
  return text.slice(0, chars);
}

test("/healthz keeps answering while 6 texts of 100,000 characters are read (median under 50 ms, 90th percentile under 100 ms, stalled under a fifth of the time); memory stays bounded", async (t) => {
  const server = spawnNerkit(["serve", "--model", tinyDir, "--port", "0", "--no-log", "--threads", "1", "--db", ":memory:", "--max-chars-in-flight", "600000"]);
  const { child } = server;
  try {
    const [, address] = await server.waitFor(/listening on (\S+)/);
    await server.waitFor(/model loaded, ready/);
    // Answers filtered to a type the model lacks: the server reads everything, the test process
    // (which measures /healthz) parses no megabytes of entities.
    const post = (text: string) => fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, labels: ["NONE"] }) });

    const tooLong = await post(longText(200_001, 0));
    assert.equal(tooLong.status, 413);
    assert.equal(((await tooLong.json()) as { error: { code: string } }).error.code, "E_TEXT_TOO_LONG");

    const healthz = pollHealthz(address);
    const latencies = healthz.latencies;
    const read = Promise.all(Array.from({ length: 6 }, (_, i) => post(longText(100_000, i + 1)).then(async (r) => ({ status: r.status, body: (await r.json()) as { entities?: unknown[] } }))));
    // Sent while the six hold the whole budget (600,000 characters in flight): refused, not queued.
    await new Promise((r) => setTimeout(r, 300));
    const overBudget = await post(longText(1000, 9));
    const answers = await read;
    await healthz.stop();

    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200]);
    assert.ok(answers.every((a) => Array.isArray(a.body.entities)));
    assert.equal(overBudget.status, 503);
    assert.equal(overBudget.headers.get("retry-after"), "1");
    const readingMs = latencies.reduce((a, l) => a + l + 20, 0);
    const stalledMs = latencies.filter((l) => l > 100).reduce((a, l) => a + l, 0);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.floor(q * latencies.length)];
    const summary = `/healthz over ${latencies.length} polls: median ${at(0.5).toFixed(0)} ms, 90th percentile ${at(0.9).toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms; ${stalledMs.toFixed(0)} of ${readingMs.toFixed(0)} ms in polls over 100 ms`;
    t.diagnostic(summary);
    assert.ok(latencies.length >= 20, `the texts were read too fast to measure anything: ${summary}`);
    // The unfixed server stalled /healthz in a few long stretches (max 2.9-5.0 s): its median and
    // 90th percentile stay low (9 and 37 ms) but 65-70% of the reading time went to polls over
    // 100 ms; fixed, 15-31% (max 0.3-1.3 s, 90th percentile 50-110 ms: the machine is shared by many
    // processes on 2 cores, load average 12).
    // The share is the bound the unfixed server misses; the percentiles say what a client sees.
    // With the model in a worker thread: max 0.16-0.33 s, 10-15% stalled (median 5-6 ms), as with it
    // on the main thread (max 0.29-0.41 s): bert-tiny's batches take 2-4 ms, and a CPU profile puts
    // what stalls in the service's handling of the thousands of entities a random model finds in
    // 100,000 characters (disjointSpans, routing, serializing), not in the model. disjointSpans then
    // inserted each kept span into one sorted list (quadratic memory moves); settled per cluster of
    // overlapping spans, on an idle machine: max 54-97 ms, 0% of the reading in polls over 100 ms,
    // 90th percentile 15-20 ms (before: max 164-232 ms, 8-11% stalled). The 90th percentile is held
    // under 100 ms; the max is left to the machine's scheduler (a 2-core CI machine shared with the
    // test process itself), the stalled share bounds what the unfixed servers missed.
    assert.ok(at(0.5) < 50, summary);
    assert.ok(at(0.9) < 100, summary);
    assert.ok(stalledMs < 0.2 * readingMs, summary);
    const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024;
    t.diagnostic(`peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(peak < PEAK_RSS_BOUND, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    child.kill("SIGTERM");
    await server.exited;
  }
});

/**
 * bert-tiny's tokenizer and labels on a model large enough that one batch of 8 windows of 512 tokens
 * takes ONNX Runtime hundreds of milliseconds on one thread (hidden 128, 4 layers, 512 positions);
 * the weights are a fixed pattern: run time does not depend on them.
 */
function slowModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(tinyDir, "config.json"), "utf8"));
  Object.assign(config, { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, max_position_embeddings: 512 });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const arch = architectureOf(readModelConfig(join(dir, "config.json")));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of parameterTable(arch)) {
    const data = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.init === "normal") data.forEach((_, i) => (data[i] = 0.02 * Math.sin(i)));
    else if (p.init === "ones") data.fill(1);
    tensors[p.name] = { shape: [...p.shape], data };
  }
  writeSafetensors(join(dir, "model.safetensors"), tensors);
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tinyDir, file), join(dir, file));
}

test("/healthz answers within 100 ms (95th percentile) while the model runs batches of hundreds of milliseconds: the model runs in a worker thread", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  slowModel(dir);
  const server = spawnNerkit(["serve", "--model", dir, "--port", "0", "--no-log", "--threads", "1", "--db", ":memory:"]);
  const { child } = server;
  try {
    const [, address] = await server.waitFor(/listening on (\S+)/);
    await server.waitFor(/model loaded, ready/);
    const post = (text: string) => fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, labels: ["NONE"] }) });
    const healthz = pollHealthz(address);
    const latencies = healthz.latencies;
    // 4 texts of 8,000 characters: 8 windows of 512 tokens each, one model run per text.
    const started = performance.now();
    const statuses = await Promise.all(Array.from({ length: 4 }, (_, i) => post(longText(8_000, i + 1)).then(async (r) => (await r.text(), r.status))));
    const readingMs = performance.now() - started;
    await healthz.stop();

    assert.deepEqual(statuses, [200, 200, 200, 200]);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.floor(q * latencies.length)];
    const summary = `/healthz over ${latencies.length} polls in ${readingMs.toFixed(0)} ms of reading: median ${at(0.5).toFixed(0)} ms, 95th percentile ${at(0.95).toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms`;
    t.diagnostic(summary);
    // With the model on the main thread /healthz waited for each batch: 13-18 polls in ~1.9 s,
    // median 30-50 ms, 95th percentile and max 0.42-0.54 s (the length of a batch). In a worker
    // thread: 47-59 polls, median 5-8 ms, 95th percentile 21-45 ms, max 42-176 ms. The max is left
    // to the machine's scheduler (2 cores shared with other processes put gaps of up to 1 s even
    // into the idle event loop of a load script measured beside it); the 95th percentile is what a
    // client sees, and the batch length keeps the on-thread server far above it.
    assert.ok(latencies.length >= 20, `the texts were read too fast to measure anything: ${summary}`);
    assert.ok(at(0.95) < 100, summary);
  } finally {
    child.kill("SIGTERM");
    await server.exited;
  }
});
