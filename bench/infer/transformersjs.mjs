// transformers.js's side of the inference benchmark: its token-classification pipeline on an ONNX
// folder written by `nerkit export`, on the same texts, batch sizes and thread count as nerkit's
// side, in a process of its own (for its peak RSS). Texts go in nerkit's batch order (longest
// first) so that both pad the same batches; transformers.js pads each call's texts to the longest.
// It also runs the texts as a user hands them over, in corpus order: slices of each batch size
// (`asGiven`) and the whole list in one call (`oneCall`, what `classifier(texts)` does), since
// sorting by length is nerkit's, not transformers.js's (the end-to-end comparison the issue asks).
// Installs nothing: @huggingface/transformers must already be installed in the folder TJS_DIR, e.g.
//   mkdir /tmp/tjs && cd /tmp/tjs && npm init -y && npm install --onnxruntime-node-install-cuda=skip @huggingface/transformers
// (without the flag, onnxruntime-node's install script tries to download CUDA binaries and fails offline).
// Left out: nerkit's windows for long texts (transformers.js truncates; the texts here are short).
//
// Usage: TJS_DIR=/tmp/tjs node bench/infer/transformersjs.mjs WORK.json RESULT.json
//   WORK.json: {onnxModel, threads, batchSizes, repeat, latencyRuns, texts, latencyText}

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [workFile, resultFile] = process.argv.slice(2);
const work = JSON.parse(readFileSync(workFile, "utf8"));
const ms = () => performance.now();
const log = (line) => process.stderr.write(`[transformers.js] ${line}\n`);

/** The package's Node ESM entry, as its package.json `exports` names it. */
function entryOf(tjsDir) {
  const dir = join(tjsDir, "node_modules", "@huggingface", "transformers");
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entry = pkg.exports?.node?.import?.default ?? pkg.exports?.node?.import ?? pkg.module ?? pkg.main;
  return { file: join(dir, entry), version: pkg.version };
}

const tjsDir = process.env.TJS_DIR;
if (!tjsDir || !existsSync(join(tjsDir, "node_modules", "@huggingface", "transformers", "package.json"))) {
  console.error(`transformers.js is not installed in TJS_DIR=${tjsDir ?? "(unset)"}`);
  process.exit(2);
}
const { file, version } = entryOf(tjsDir);
const { env, pipeline } = await import(pathToFileURL(file).href);
env.allowRemoteModels = false; // local folder only; never the Hub
env.allowLocalModels = true;

// transformers.js looks for onnx/model.onnx; an export with model.onnx at the top is read with subfolder "".
const subfolder = existsSync(join(work.onnxModel, "onnx", "model.onnx")) ? "onnx" : "";
let t = ms();
const classifier = await pipeline("token-classification", work.onnxModel, {
  device: "cpu",
  dtype: "fp32",
  subfolder,
  // Passed through to onnxruntime-node's InferenceSession.create, as nerkit sets them.
  session_options: { intraOpNumThreads: work.threads, interOpNumThreads: 1, graphOptimizationLevel: "all" },
});
const loadSeconds = (ms() - t) / 1000;
const rssAfterLoad = process.memoryUsage().rss;
const peakAfterLoad = process.resourceUsage().maxRSS * 1024;
log(`transformers.js ${version}, loaded in ${loadSeconds.toFixed(1)} s, rss ${(rssAfterLoad / 2 ** 20).toFixed(0)} MiB`);

// Time the model calls: wrap the ONNX Runtime session's run (sessions.model in transformers.js 3 and 4).
const session = classifier.model.sessions?.model;
if (!session) throw new Error("cannot find the model's ONNX session (classifier.model.sessions.model)");
const sessionRun = session.run.bind(session);
let calls = null;
session.run = async (feeds, ...rest) => {
  const start = ms();
  const out = await sessionRun(feeds, ...rest);
  if (calls) {
    const mask = feeds.attention_mask;
    calls.push({ ms: ms() - start, tokens: mask.data.reduce((n, m) => n + Number(m), 0), padded: mask.dims[0] * mask.dims[1] });
  }
  return out;
};

// nerkit's order: longest first (by this tokenizer's count, the same tokenizer), stable.
const lengths = work.texts.map((text) => classifier.tokenizer(text).input_ids.dims.at(-1));
const ordered = work.texts.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a]).map((i) => work.texts[i]);

async function timedRun(texts, batchSize) {
  calls = [];
  let entities = 0;
  const start = ms();
  for (let b = 0; b < texts.length; b += batchSize) {
    const out = await classifier(texts.slice(b, b + batchSize), { aggregation_strategy: "simple" });
    entities += out.reduce((n, e) => n + e.length, 0);
  }
  const e2eMs = ms() - start;
  const made = calls;
  calls = null;
  return { e2eMs, calls: made, modelMs: made.reduce((s, c) => s + c.ms, 0), tokens: made.reduce((s, c) => s + c.tokens, 0), padded: made.reduce((s, c) => s + c.padded, 0), batches: made.length, entities };
}

const largest = Math.max(...work.batchSizes);
await timedRun(ordered.slice(0, 2 * largest), largest); // warm-up, as on nerkit's side

const runs = {};
for (const batchSize of work.batchSizes) {
  // The machine is shared and bursts of other work land on random batches, so each figure is the
  // least over the runs of its parts: model = each batch's fastest call, summed (the PyTorch side
  // does the same); the rest of end to end (tokenize, decode, aggregate) = the least non-model time
  // of a run; end to end = the two added. The fastest whole run is kept as well.
  let best;
  let other = Infinity;
  const fastest = [];
  for (let r = 0; r < work.repeat; r++) {
    const run = await timedRun(ordered, batchSize);
    run.calls.forEach((c, i) => (fastest[i] = Math.min(fastest[i] ?? Infinity, c.ms)));
    other = Math.min(other, run.e2eMs - run.modelMs);
    if (!best || run.e2eMs < best.e2eMs) best = run;
  }
  const modelMs = fastest.reduce((a, b) => a + b, 0);
  runs[batchSize] = { e2eSeconds: (modelMs + other) / 1000, modelSeconds: modelMs / 1000, otherSeconds: other / 1000, fastestRunSeconds: best.e2eMs / 1000, tokens: best.tokens, padded: best.padded, batches: best.batches, entities: best.entities };
  log(`batch ${batchSize}: ${best.tokens} tokens; model ${modelMs.toFixed(0)} ms + other ${other.toFixed(0)} ms; fastest whole run ${best.e2eMs.toFixed(0)} ms`);
}

// The texts as given: corpus order, one call per slice, and all of them in one call.
const asGiven = {};
for (const batchSize of [...work.batchSizes, work.texts.length]) {
  let best;
  for (let r = 0; r < work.repeat; r++) {
    const run = await timedRun(work.texts, batchSize);
    if (!best || run.e2eMs < best.e2eMs) best = run;
  }
  asGiven[batchSize] = { e2eSeconds: best.e2eMs / 1000, modelSeconds: best.modelMs / 1000, tokens: best.tokens, padded: best.padded, batches: best.batches };
  log(`as given, batch ${batchSize}: ${best.tokens} tokens (${best.padded} positions); fastest whole run ${best.e2eMs.toFixed(0)} ms`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 3; i++) await timedRun([work.latencyText], 1);
const e2e = [];
const model = [];
let tokens = 0;
for (let i = 0; i < work.latencyRuns; i++) {
  const run = await timedRun([work.latencyText], 1);
  e2e.push(run.e2eMs);
  model.push(run.modelMs);
  tokens = run.tokens;
}
const latency = { tokens, e2eMedianMs: median(e2e), modelMedianMs: median(model), e2eMinMs: Math.min(...e2e), runs: work.latencyRuns };
log(`latency (${tokens} tokens): end to end ${latency.e2eMedianMs.toFixed(1)} ms, model ${latency.modelMedianMs.toFixed(1)} ms (medians)`);

writeFileSync(resultFile, JSON.stringify({
  version, loadSeconds, runs, asGiven, oneCall: work.texts.length, latency,
  memory: { rssAfterLoad, peakAfterLoad, peak: process.resourceUsage().maxRSS * 1024 },
}, null, 2));
