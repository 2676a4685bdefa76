// nerkit's side of the inference benchmark, in a process of its own so that its peak RSS is its own:
// loads the pipeline, runs the texts end to end (text in, entities out) at each batch size, and
// times the model calls inside those runs. It writes the exact padded batches the pipeline fed the
// model (ids and mask), with the logits of one batch, for the PyTorch side to run the same work.
// Left out: choosing texts and printing the table (run.mjs does both).
//
// Usage: node bench/infer/nerkit-side.mjs WORK.json BATCHES.json RESULT.json
//   WORK.json: {model, threads, batchSizes, repeat, latencyRuns, texts, latencyText, quantize?}
//   (quantize: "int8" runs the model as `--quantize int8` does; bench/distill uses it)

import { readFileSync, writeFileSync } from "node:fs";
import { loadPipeline } from "../../dist/src/index.js";

const [workFile, batchesFile, resultFile] = process.argv.slice(2);
const work = JSON.parse(readFileSync(workFile, "utf8"));
const ms = () => performance.now();
const log = (line) => process.stderr.write(`[nerkit] ${line}\n`);

let t = ms();
const pipeline = await loadPipeline(work.model, { threads: work.threads, quantize: work.quantize });
const loadSeconds = (ms() - t) / 1000;
const rssAfterLoad = process.memoryUsage().rss;
const peakAfterLoad = process.resourceUsage().maxRSS * 1024;
log(`loaded in ${loadSeconds.toFixed(1)} s, rss ${(rssAfterLoad / 2 ** 20).toFixed(0)} MiB`);

// The pipeline keeps its ONNX Runtime session private and does not expose its batches; the
// benchmark reads the field at run time instead of widening the library's API for it.
const session = pipeline.session;
const modelRun = session.run.bind(session);
let calls = null; // when set, every model call is recorded here
session.run = async (batch) => {
  const start = ms();
  const logits = await modelRun(batch);
  const elapsed = ms() - start;
  if (calls) calls.push({ batch, logits, ms: elapsed });
  return logits;
};

const tokensOf = (batch) => batch.attentionMask.reduce((n, m) => n + Number(m), 0);

/** One end-to-end run over texts; the model calls it made, with their times. */
async function timedRun(texts, batchSize) {
  calls = [];
  const start = ms();
  const entities = await pipeline.run(texts, { aggregation: "simple", batchSize });
  const e2eMs = ms() - start;
  const made = calls;
  calls = null;
  return { e2eMs, modelMs: made.reduce((s, c) => s + c.ms, 0), calls: made, entities: entities.reduce((n, e) => n + e.length, 0) };
}

const plain = (batch) => ({ rows: batch.rows, length: batch.length, ids: Array.from(batch.inputIds, Number), mask: Array.from(batch.attentionMask, Number) });

// Warm-up: a few batches of the largest size, so first-call costs (thread pool, arena) are not timed.
await timedRun(work.texts.slice(0, 2 * Math.max(...work.batchSizes)), Math.max(...work.batchSizes));

const runs = {};
const batches = {};
let check;
for (const batchSize of work.batchSizes) {
  // The machine is shared and bursts of other work land on random batches, so each figure is the
  // least over the runs of its parts: model = each batch's fastest call, summed (the PyTorch side
  // does the same); the rest of end to end (tokenize, decode, aggregate) = the least non-model time
  // of a run; end to end = the two added. The fastest whole run is kept as well.
  let best;
  let other = Infinity;
  const fastest = [];
  for (let r = 0; r < work.repeat; r++) {
    const run = await timedRun(work.texts, batchSize);
    run.calls.forEach((c, i) => (fastest[i] = Math.min(fastest[i] ?? Infinity, c.ms)));
    other = Math.min(other, run.e2eMs - run.modelMs);
    if (!best || run.e2eMs < best.e2eMs) best = run;
  }
  const modelMs = fastest.reduce((a, b) => a + b, 0);
  const tokens = best.calls.reduce((n, c) => n + tokensOf(c.batch), 0);
  const padded = best.calls.reduce((n, c) => n + c.batch.rows * c.batch.length, 0);
  runs[batchSize] = { e2eSeconds: (modelMs + other) / 1000, modelSeconds: modelMs / 1000, otherSeconds: other / 1000, fastestRunSeconds: best.e2eMs / 1000, tokens, padded, batches: best.calls.length, entities: best.entities };
  batches[batchSize] = best.calls.map((c) => plain(c.batch));
  if (!check) {
    const c = best.calls[0];
    check = { batchSize, index: 0, logits: Buffer.from(c.logits.buffer, c.logits.byteOffset, c.logits.byteLength).toString("base64") };
  }
  log(`batch ${batchSize}: ${tokens} tokens; model ${modelMs.toFixed(0)} ms + other ${other.toFixed(0)} ms; fastest whole run ${best.e2eMs.toFixed(0)} ms`);
}

// Latency: one text of about 100 tokens, alone, after warm-up; medians.
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 3; i++) await timedRun([work.latencyText], 1);
const e2e = [];
const model = [];
let latencyBatch;
for (let i = 0; i < work.latencyRuns; i++) {
  const run = await timedRun([work.latencyText], 1);
  e2e.push(run.e2eMs);
  model.push(run.modelMs);
  latencyBatch = run.calls[0].batch;
}
const latency = { tokens: tokensOf(latencyBatch), e2eMedianMs: median(e2e), modelMedianMs: median(model), e2eMinMs: Math.min(...e2e), runs: work.latencyRuns };
log(`latency (${latency.tokens} tokens): end to end ${latency.e2eMedianMs.toFixed(1)} ms, model ${latency.modelMedianMs.toFixed(1)} ms (medians)`);

writeFileSync(batchesFile, JSON.stringify({ padId: pipeline.tokenizer.padTokenId, batches, latency: plain(latencyBatch), check }));
await pipeline.close();
writeFileSync(
  resultFile,
  JSON.stringify({
    loadSeconds,
    runs,
    latency,
    memory: { rssAfterLoad, peakAfterLoad, peak: process.resourceUsage().maxRSS * 1024 },
  }, null, 2),
);
