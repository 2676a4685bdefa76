// What the distillation bench measures on a model folder, fp32 or with `--quantize int8`:
// - F1 on dev and test: `nerkit evaluate --model … --data … --format json` (micro F1, seqeval's);
// - speed, in a process of its own through bench/infer/nerkit-side.mjs (the library's pipeline, text
//   in, entities out, as `nerkit predict` runs it): tokens/s over the test texts at predict's batch
//   size 8 (each batch's fastest call of --repeat runs, summed, plus the least non-model time of a
//   run; a warm-up run first), and the median milliseconds of one ~100-token text run alone, after
//   3 warm-up runs;
// - size on disk: the ONNX graph `nerkit export` writes (onnx/model.onnx, or model_quantized.onnx
//   with --quantize int8), and the checkpoint's model.safetensors;
// - the service: bench/serve/load.mjs against `nerkit serve --quantize int8` on one model.
// Left out: which models (run.mjs) and the table (report.mjs).

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nerkit, root, run } from "./stages.mjs";

const quantizeArgs = (quantize) => (quantize ? ["--quantize", quantize] : []);

/** Micro F1 of model on data (a CoNLL file). */
export async function f1(model, data, { quantize, threads }) {
  const report = JSON.parse(await nerkit(["evaluate", "--model", model, "--data", data, "--format", "json", "--threads", String(threads), ...quantizeArgs(quantize)], `evaluate ${model}`));
  return report.overall.f1;
}

/**
 * Tokens/s over texts and the median ms of latencyText alone, from nerkit-side.mjs in a child
 * process (so that one model's threads and memory never share a process with another's).
 */
export async function speed(model, { quantize, threads, texts, latencyText, repeat, latencyRuns, work }) {
  mkdirSync(work, { recursive: true });
  const files = { work: join(work, "work.json"), batches: join(work, "batches.json"), result: join(work, "result.json") };
  writeFileSync(files.work, JSON.stringify({ model, quantize, threads, batchSizes: [8], repeat, latencyRuns, texts, latencyText }));
  try {
    await run(process.execPath, [join(root, "bench", "infer", "nerkit-side.mjs"), files.work, files.batches, files.result], `speed of ${model}`);
    const r = JSON.parse(readFileSync(files.result, "utf8"));
    const batch = r.runs[8];
    return { tokensPerSecond: batch.tokens / batch.e2eSeconds, tokens: batch.tokens, latencyMs: r.latency.e2eMedianMs, latencyTokens: r.latency.tokens, latencyModelMs: r.latency.modelMedianMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Bytes of the exported ONNX graph (fp32 or int8) and of the checkpoint's safetensors. */
export async function sizes(model, out) {
  const result = {};
  for (const quantize of [undefined, "int8"]) {
    const dir = join(out, quantize ?? "fp32");
    if (!existsSync(dir)) await nerkit(["export", "--model", model, "--out", dir, "--no-safetensors", ...quantizeArgs(quantize)], `export ${model}`);
    result[quantize ?? "fp32"] = statSync(join(dir, "onnx", quantize ? "model_quantized.onnx" : "model.onnx")).size;
  }
  result.safetensors = statSync(join(model, "model.safetensors")).size;
  return result;
}

/** bench/serve/load.mjs on model with `--quantize int8`: rows {batching, clients, rps, p50, p99, errors}. */
export async function loadTest(model, { quantize, clients, seconds, threads, work }) {
  mkdirSync(work, { recursive: true });
  const json = join(work, "load.json");
  await run(process.execPath, [join(root, "bench", "serve", "load.mjs"), "--model", model, ...quantizeArgs(quantize), "--clients", String(clients), "--seconds", String(seconds), "--threads", String(threads), "--json", json], "load test");
  return JSON.parse(readFileSync(json, "utf8"));
}
