// The in-page half of bench/web/run.mjs: an ES module the benchmark's page imports, which loads one
// library (nerkit/web's bundle, or transformers.js's browser build) on the exported model, and
// times its runs with performance.now(): whole runs (text in, entities out) and, inside them, each
// call of the ONNX Runtime session (the model alone), with the tokens and padded positions each call
// fed. One library per page (each side in a browser context of its own). Left out: choosing the
// texts, repeating, and the statistics (run.mjs does them, once for every side).
//
// Every side gets the same batches: nerkit sorts a list by token count (longest first, stable) and
// pads each batch to its longest; transformers.js pads each call to the longest text of the call,
// so it is handed the texts in nerkit's order, sliced by the batch size (as bench/infer does).

let side; // { name, run(setName, batchSize), record: null | (call) => void }
const sets = new Map();

/** The model's non-padding tokens in an attention mask (numbers or bigints). */
function tokensIn(mask) {
  let n = 0;
  for (const m of mask) n += Number(m);
  return n;
}

/** Wraps a session's run so that each call, while `side.record` is set, is timed and counted. */
function timeCalls(session, feedsOf) {
  const run = session.run.bind(session);
  session.run = async (input, ...rest) => {
    const start = performance.now();
    const output = await run(input, ...rest);
    const ms = performance.now() - start;
    side.record?.({ ms, ...feedsOf(input) });
    return output;
  };
}

async function loadNerkit({ base, model }) {
  let start = performance.now();
  const nerkit = await import(`${base}/web/nerkit-web.js`);
  const importMs = performance.now() - start;
  start = performance.now();
  const pipeline = await nerkit.loadPipeline(`${base}/models/${model}/`);
  const loadMs = performance.now() - start;
  // The pipeline keeps its session private; the benchmark reads the field rather than widen the API.
  timeCalls(pipeline.session, (batch) => ({ tokens: tokensIn(batch.attentionMask), padded: batch.rows * batch.length }));
  const run = async (name, batchSize) => {
    const results = await pipeline.run(sets.get(name), { aggregation: "simple", batchSize });
    return results.reduce((n, entities) => n + entities.length, 0);
  };
  return { importMs, loadMs, run, version: "nerkit/web" };
}

/**
 * transformers.js's browser build as shipped (dist/transformers.min.js, its own onnxruntime-web
 * inside, which loads the asyncify .wasm); or, with `sameRuntime`, its unbundled browser build
 * (dist/transformers.web.js) on nerkit's onnxruntime-web: an import map sends its two imports
 * (onnxruntime-web/webgpu, and onnxruntime-common for Tensor) to the plain WASM build nerkit bundles,
 * whose .wasm is the very file nerkit runs. The second isolates the libraries from the runtimes.
 */
async function loadTransformers({ base, model, threads, sameRuntime }) {
  if (sameRuntime) {
    const ort = `${base}/ort/ort.wasm.min.mjs`;
    const map = document.createElement("script");
    map.type = "importmap";
    const tensor = `export { Tensor } from "${ort}";`; // the runtime's own Tensor class, which its sessions accept
    map.textContent = JSON.stringify({ imports: { "onnxruntime-web/webgpu": ort, "onnxruntime-common": `data:text/javascript,${encodeURIComponent(tensor)}` } });
    document.head.append(map);
  }
  let start = performance.now();
  const tjs = await import(sameRuntime ? `${base}/tjs/transformers.web.js` : `${base}/tjs/transformers.min.js`);
  const importMs = performance.now() - start;
  const { env } = tjs;
  env.allowRemoteModels = false; // the local server only; never the Hub
  env.allowLocalModels = true;
  // A path, not a URL: transformers.js 4.3's file check (_get_file_metadata) skips local paths that
  // are http URLs, and then loads the model without its tokenizer (classifier.tokenizer null).
  env.localModelPath = new URL(`${base}/models/`).pathname;
  env.useBrowserCache = false; // every load is a cold load, as nerkit's is
  const wasm = env.backends.onnx.wasm; // the same object as onnxruntime-web's env.wasm
  // As shipped: transformers.js's own choice of build (asyncify), from the local server instead of
  // its CDN. Same runtime: the folder of nerkit's onnxruntime-web, which picks its plain build's files.
  wasm.wasmPaths = sameRuntime ? `${base}/ort/` : { mjs: `${base}/tjs-ort/ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${base}/tjs-ort/ort-wasm-simd-threaded.asyncify.wasm` };
  wasm.numThreads = threads;
  start = performance.now();
  const classifier = await tjs.pipeline("token-classification", model, { device: "wasm", dtype: "fp32" });
  const loadMs = performance.now() - start;
  if (!classifier.tokenizer) throw new Error("transformers.js loaded the model without its tokenizer");
  const session = classifier.model.sessions?.model;
  if (!session) throw new Error("cannot find the model's ONNX session (classifier.model.sessions.model)");
  timeCalls(session, (feeds) => ({ tokens: tokensIn(feeds.attention_mask.data), padded: feeds.attention_mask.dims[0] * feeds.attention_mask.dims[1] }));
  side.tokenCount = (text) => classifier.tokenizer.encode(text).length; // special tokens included
  const run = async (name, batchSize) => {
    const texts = sets.get(name);
    let entities = 0;
    for (let b = 0; b < texts.length; b += batchSize) {
      const out = await classifier(texts.slice(b, b + batchSize), { aggregation_strategy: "simple" });
      entities += out.reduce((n, e) => n + e.length, 0);
    }
    return entities;
  };
  const build = sameRuntime ? "transformers.web.js" : "transformers.min.js";
  return { importMs, loadMs, run, version: `transformers.js ${tjs.env.version} (${build}), onnxruntime-web ${env.backends.onnx.versions?.web ?? "?"}` };
}

/** Loads one side in this page ("nerkit", "tjs" or "tjs-same-runtime"): import time and load time (ms), and what it is. */
export async function load(name, options) {
  side = { name, record: null };
  const loaded = await (name === "nerkit" ? loadNerkit(options) : loadTransformers({ ...options, sameRuntime: name === "tjs-same-runtime" }));
  side.run = loaded.run;
  return { importMs: loaded.importMs, loadMs: loaded.loadMs, version: loaded.version };
}

/**
 * The text lists the runs use, by name. transformers.js gets each list in nerkit's order (longest
 * first by its own tokenizer's count, the same tokenizer.json, stable), so that slicing it pads the
 * batches nerkit pads; nerkit gets the lists as given and sorts them itself, inside its timed run.
 */
export function prepare(lists) {
  for (const [name, texts] of Object.entries(lists)) {
    if (side.name === "nerkit") sets.set(name, texts);
    else {
      const counts = texts.map((text) => side.tokenCount(text));
      sets.set(name, texts.map((_, i) => i).sort((a, b) => counts[b] - counts[a]).map((i) => texts[i]));
    }
  }
}

/** One timed run of a prepared list: whole run, model calls summed, tokens, padded positions, batches, entities. */
export async function timedRun(name, batchSize) {
  const calls = [];
  side.record = (call) => calls.push(call);
  const start = performance.now();
  let entities;
  try {
    entities = await side.run(name, batchSize);
  } finally {
    side.record = null;
  }
  const e2eMs = performance.now() - start;
  const sum = (key) => calls.reduce((s, c) => s + c[key], 0);
  return { e2eMs, modelMs: sum("ms"), tokens: sum("tokens"), padded: sum("padded"), batches: calls.length, entities };
}
