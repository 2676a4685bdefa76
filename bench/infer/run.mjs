// The inference benchmark of a BERT-base-shaped model, in one script: nerkit (text in, entities out,
// and its model calls alone) against the same model in plain PyTorch on the same padded batches, and
// transformers.js's pipeline on nerkit's ONNX export when both are at hand. Each side runs in a
// process of its own, one after the other, with the same thread count; tokens are the non-padding
// tokens fed to the model ([CLS] and [SEP] included). Left out: accuracy (the weights are random).
//
// Usage (after `npm run build`): node bench/infer/run.mjs [--sentences 256] [--threads 2]
//   [--batch-sizes 8,1,32] [--repeat 3] [--latency-runs 20] [--latency-tokens 100] [--no-torch]
//   [--model-type bert|distilbert] [--layers N --hidden H --heads A --intermediate I --labels L]
// Env: PYTHON (default /usr/bin/python3), TJS_DIR (a folder with @huggingface/transformers
// installed; see transformersjs.mjs), NERKIT_SHARED (default ../shared).

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { configJson, makeModel, parseModelOptions } from "./make-model.mjs";
import { benchTexts } from "./texts.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const python = process.env.PYTHON ?? "/usr/bin/python3";

// Benchmark flags first; the rest are make-model's.
const argv = process.argv.slice(2);
const flags = { sentences: 256, threads: 2, "batch-sizes": "8,1,32", repeat: 3, "latency-runs": 20, "latency-tokens": 100, torch: true };
const modelArgs = [];
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, "");
  if (key === "no-torch") flags.torch = false;
  else if (key in flags) flags[key] = argv[++i];
  else modelArgs.push(argv[i], argv[++i]);
}
const { options: modelOptions } = parseModelOptions(modelArgs);
const threads = Number(flags.threads);
const batchSizes = String(flags["batch-sizes"]).split(",").map(Number);
const out = join(root, "bench", "out", "infer");
mkdirSync(out, { recursive: true });

// 1. The model folder, made once per shape and kept under bench/out.
const o = modelOptions;
const modelDir = join(out, `${o.modelType}-L${o.layers}-H${o.hidden}-A${o.heads}-I${o.intermediate}-labels${o.labels}-seed${o.seed}`);
const wantedConfig = JSON.stringify(configJson(o), null, 2) + "\n";
const cached = existsSync(join(modelDir, "vocab.txt")) && existsSync(join(modelDir, "model.safetensors")) && readFileSync(join(modelDir, "config.json"), "utf8") === wantedConfig;
if (!cached) {
  console.log(`writing the model to ${modelDir} ...`);
  rmSync(modelDir, { recursive: true, force: true });
  const count = makeModel(modelDir, o);
  console.log(`  ${count.toLocaleString("en")} parameters`);
}

// 2. The texts: the first sentences of CoNLL-2003 dev, tokens joined by spaces; and one text of
// about --latency-tokens tokens (special tokens included) from the sentences after them (texts.mjs).
const count = Number(flags.sentences);
const { texts, latencyText } = benchTexts({ shared, modelDir, sentences: count, latencyTokens: Number(flags["latency-tokens"]) });

const work = {
  model: modelDir, threads, batchSizes, repeat: Number(flags.repeat), latencyRuns: Number(flags["latency-runs"]), texts, latencyText,
  onnxModel: join(out, `${o.modelType}-L${o.layers}-H${o.hidden}-A${o.heads}-I${o.intermediate}-labels${o.labels}-seed${o.seed}-onnx`),
};
const files = { work: join(out, "work.json"), batches: join(out, "batches.json"), nerkit: join(out, "nerkit.json"), torch: join(out, "torch.json"), tjs: join(out, "transformersjs.json") };
writeFileSync(files.work, JSON.stringify(work));
for (const f of [files.batches, files.nerkit, files.torch, files.tjs]) rmSync(f, { force: true });

const load0 = loadavg()[0];
const started = performance.now();
const side = (command, args, env = {}) => {
  const r = spawnSync(command, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ...env } });
  if (r.error) console.error(`${command}: ${r.error.message}`);
  return r.status === 0;
};

// 3. nerkit (writes the batches the other sides replay).
if (!side(process.execPath, [join(here, "nerkit-side.mjs"), files.work, files.batches, files.nerkit])) process.exit(1);

// 4. PyTorch on the same batches.
let torchNote = "";
if (!flags.torch) torchNote = "skipped (--no-torch)";
else if (!side(python, ["-c", "import torch, numpy"])) torchNote = `skipped: ${python} cannot import torch and numpy (apt-get install -y python3-torch libopenblas0-pthread python3-numpy)`;
else if (!side(python, [join(here, "torch_bert.py"), modelDir, files.batches, files.torch, "--threads", String(threads), "--repeat", String(work.repeat), "--latency-runs", String(work.latencyRuns)])) torchNote = "failed (see above)";

// 5. transformers.js on nerkit's ONNX export.
let tjsNote = "";
const exportHelp = spawnSync(process.execPath, [join(root, "bin", "nerkit.js"), "export", "--help"], { cwd: root, encoding: "utf8" });
if (!process.env.TJS_DIR) tjsNote = "skipped: set TJS_DIR to a folder with @huggingface/transformers installed (see bench/infer/transformersjs.mjs)";
else if (exportHelp.status !== 0) tjsNote = "skipped: `nerkit export` is not there yet (`node bin/nerkit.js export --help` fails); this step runs once it is";
else {
  // Exported afresh each run (seconds), so the figures are always those of the current exporter.
  rmSync(work.onnxModel, { recursive: true, force: true });
  if (!side(process.execPath, [join(root, "bin", "nerkit.js"), "export", "--model", modelDir, "--out", work.onnxModel, "--no-safetensors"])) tjsNote = "failed: nerkit export (see above)";
  if (!tjsNote && !side(process.execPath, [join(here, "transformersjs.mjs"), files.work, files.tjs])) tjsNote = "failed (see above)";
}
const load1 = loadavg()[0];

// 6. The table.
const read = (f) => (existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : undefined);
const nk = read(files.nerkit);
const pt = read(files.torch);
const tj = read(files.tjs);
const rate = (tokens, seconds) => (seconds ? Math.round(tokens / seconds) : undefined);
const cell = (v, digits = 0) => (v === undefined || Number.isNaN(v) ? "–" : typeof v === "number" ? v.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : v);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "–");
const mib = (bytes) => (bytes ? `${Math.round(bytes / 2 ** 20).toLocaleString("en")} MiB` : "–");

const arch = JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8"));
const tokens = nk.runs[batchSizes[0]].tokens;
console.log(`\n## ${o.modelType} L=${o.layers} H=${o.hidden} A=${o.heads} I=${o.intermediate}, ${arch.id2label ? Object.keys(arch.id2label).length : "?"} labels; ` +
  `${texts.length} sentences of CoNLL-2003 dev, ${tokens.toLocaleString("en")} tokens; ${threads} threads; ${cpus().length} cores; ` +
  `${work.repeat} runs of each; model: each batch's fastest call, summed; end to end: that plus the least non-model time of a run`);
console.log(`load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${((performance.now() - started) / 1000).toFixed(0)} s in all\n`);

const header = ["batch", "nerkit end to end", "nerkit model", "nerkit non-model (ms)", "PyTorch model", "model nerkit/PyTorch", "end to end nerkit/PyTorch model"];
if (tj) header.push("transformers.js end to end", "transformers.js model", "transformers.js non-model (ms)", "end to end nerkit/transformers.js", "model nerkit/transformers.js");
console.log(`tokens/s (padding: ${batchSizes.map((b) => `batch ${b} ${((1 - nk.runs[b].tokens / nk.runs[b].padded) * 100).toFixed(0)}%`).join(", ")} of the positions fed)\n`);
console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
for (const b of batchSizes) {
  const n = nk.runs[b];
  const e2e = rate(n.tokens, n.e2eSeconds);
  const model = rate(n.tokens, n.modelSeconds);
  const torch = pt && rate(pt.runs[b].tokens, pt.runs[b].modelSeconds);
  const row = [b, cell(e2e), cell(model), cell(n.otherSeconds * 1000), cell(torch), ratio(model, torch), ratio(e2e, torch)];
  if (tj) {
    const t = tj.runs[b];
    const tjE2e = rate(t.tokens, t.e2eSeconds);
    const tjModel = rate(t.tokens, t.modelSeconds);
    row.push(cell(tjE2e), cell(tjModel), cell(t.otherSeconds * 1000), ratio(e2e, tjE2e), ratio(model, tjModel));
  }
  console.log(`| ${row.join(" | ")} |`);
}
if (tj?.asGiven) {
  // transformers.js as a user calls it: corpus order, one call per slice, or the whole list in one call.
  console.log(`\ntransformers.js on the texts as given (corpus order; no sorting by length), fastest whole run of ${work.repeat}\n`);
  console.log("| transformers.js call | positions fed (padding) | transformers.js end to end | nerkit end to end (its own batching, same batch size) | nerkit/transformers.js |\n|---|---|---|---|---|");
  for (const [size, t] of Object.entries(tj.asGiven)) {
    const nkBatch = nk.runs[size] ? size : nk.runs[8] ? 8 : batchSizes[0]; // 8: nerkit's default batch size
    const same = nk.runs[nkBatch];
    const nkRate = rate(same.tokens, same.fastestRunSeconds);
    const tjRate = rate(t.tokens, t.e2eSeconds);
    const label = Number(size) === tj.oneCall ? `all ${size} texts in one call (nerkit: its default, batch ${nkBatch})` : `slices of ${size}`;
    console.log(`| ${label} | ${t.padded.toLocaleString("en")} (${((1 - t.tokens / t.padded) * 100).toFixed(0)}%) | ${cell(tjRate)} | ${cell(nkRate)} | ${ratio(nkRate, tjRate)} |`);
  }
}
console.log(`(fastest whole runs, end to end: nerkit ${batchSizes.map((b) => `${b}: ${cell(rate(nk.runs[b].tokens, nk.runs[b].fastestRunSeconds))}`).join(", ")}` +
  (tj ? `; transformers.js ${batchSizes.map((b) => `${b}: ${cell(rate(tj.runs[b].tokens, tj.runs[b].fastestRunSeconds))}`).join(", ")}` : "") + " tokens/s)");

console.log(`\nlatency, one text of ${nk.latency.tokens} tokens, median of ${nk.latency.runs} runs after 3 warm-up runs (ms)\n`);
const lat = ["", "end to end", "model"];
console.log(`| ${lat.join(" | ")} |\n|---|---|---|`);
console.log(`| nerkit | ${cell(nk.latency.e2eMedianMs, 1)} | ${cell(nk.latency.modelMedianMs, 1)} |`);
if (pt) console.log(`| PyTorch | – | ${cell(pt.latency.modelMedianMs, 1)} |`);
if (tj) console.log(`| transformers.js | ${cell(tj.latency.e2eMedianMs, 1)} | ${cell(tj.latency.modelMedianMs, 1)} |`);
if (pt) console.log(`| nerkit/PyTorch (time) | ${ratio(nk.latency.e2eMedianMs, pt.latency.modelMedianMs)} | ${ratio(nk.latency.modelMedianMs, pt.latency.modelMedianMs)} |`);

console.log(`\npeak RSS of each process (its whole run: load, every batch size, latency)\n`);
console.log(`| | after load | peak | load time |\n|---|---|---|---|`);
console.log(`| nerkit | ${mib(nk.memory.rssAfterLoad)} (peak so far ${mib(nk.memory.peakAfterLoad)}) | ${mib(nk.memory.peak)} | ${nk.loadSeconds.toFixed(1)} s |`);
if (pt) console.log(`| PyTorch | ${mib(pt.memory.rssAfterLoad)} (peak so far ${mib(pt.memory.peakAfterLoad)}) | ${mib(pt.memory.peak)} | ${pt.loadSeconds.toFixed(1)} s |`);
if (tj) console.log(`| transformers.js | ${mib(tj.memory.rssAfterLoad)} (peak so far ${mib(tj.memory.peakAfterLoad)}) | ${mib(tj.memory.peak)} | ${tj.loadSeconds.toFixed(1)} s |`);
if (pt) console.log(`| nerkit/PyTorch | | ${ratio(nk.memory.peak, pt.memory.peak)} | |`);

if (pt) {
  const c = pt.check;
  const ok = c.maxAbsDiff <= 1e-3;
  console.log(`\nlogits, PyTorch vs nerkit, batch 0 of size ${c.batchSize} ${JSON.stringify(c.shape)}: max |diff| ${c.maxAbsDiff.toExponential(2)} over real tokens ` +
    `(${c.maxAbsDiffWithPadding.toExponential(2)} with padding; largest |logit| ${c.maxAbsLogit.toFixed(2)}): ${ok ? "equal to 1e-3" : "NOT EQUAL to 1e-3"}`);
  console.log(`PyTorch ${pt.torch}, ${pt.blas.replace(/^- Build settings: /, "")}, ${pt.threads} threads, OMP_WAIT_POLICY=${pt.ompWaitPolicy}`);
  if (!ok) process.exitCode = 1;
}
if (tj) console.log(`transformers.js ${tj.version}`);
if (torchNote) console.log(`PyTorch: ${torchNote}`);
if (tjsNote) console.log(`transformers.js: ${tjsNote}`);
