// nerkit/web against transformers.js 4.x in Chromium (issue 14 §4), on the model and texts of
// bench/infer: the random BERT-base-shaped model of bench/infer/make-model.mjs, exported afresh by
// `nerkit export --no-safetensors` into bench/out/web/models/, and the first 256 sentences of
// CoNLL-2003 dev with one text of about 100 tokens (bench/infer/texts.mjs). Every side loads the
// same onnx/model.onnx from the same local server and runs it on onnxruntime-web's WASM backend
// with the same thread count, in Debian's Chromium driven by playwright-core.
//
// The sides, each in a browser context of its own (bench/web/page.mjs loads and times in the page):
// - nerkit/web: the bundle scripts/build-web.mjs builds (the one `nerkit export --web` copies),
//   with the onnxruntime-web 1.30 WASM build inside it.
// - transformers.js as shipped: dist/transformers.min.js, with its own onnxruntime-web inside
//   (1.31-dev for 4.3.2), which loads its asyncify .wasm (served locally instead of from its CDN).
// - transformers.js on nerkit's onnxruntime-web: its unbundled dist/transformers.web.js, whose
//   imports an import map sends to nerkit's runtime (the same JavaScript and .wasm file as
//   nerkit/web), so that the difference left is the libraries' own work (--no-same-runtime skips it).
//
// What is measured:
// - load: cold, in a fresh context (no HTTP cache: the server answers no-store; transformers.js's
//   browser cache off): importing the library's module, then loading the model until the pipeline
//   can run (fetching config, tokenizer and graph, creating the session). --loads contexts per
//   side, the sides taking turns; median and range.
// - tokens/s: the texts end to end (text in, entities out, aggregation "simple") at each batch
//   size, and the model alone (the session's calls inside those runs, summed). Tokens are the
//   non-padding tokens fed ([CLS]/[SEP] included). Equal work: transformers.js is handed the texts
//   in nerkit's order (longest first) and sliced by the batch size, so every side pads the same
//   batches; the report says whether the tokens, padded positions and calls were equal. After one
//   warm-up run per side, --repeat runs per batch size, the sides taking turns run by run (so that
//   other load on the machine falls on all); median and range over the runs.
// - latency: one text of about 100 tokens, batch 1, 3 warm-up runs then --latency-runs runs,
//   sides taking turns; median and range, end to end and model alone.
// - bundle: nerkit/web built by scripts/build-web.mjs (esbuild, minified), its size minified and
//   gzipped (level 9), onnxruntime-web's .wasm counted apart; transformers.js's browser build
//   (dist/transformers.min.js, onnxruntime-web inside it) and its .wasm beside it, for comparison.
// Threads: onnxruntime-web picks its own count when none is set: 1 on a page that is not
// cross-origin isolated, else min(4, ceil(navigator.hardwareConcurrency / 2)), which is 1 on this
// 2-core machine. nerkit/web has no thread option, so --threads N > 1 serves the page
// cross-origin isolated (COOP/COEP) and makes it report 2N cores, which gives nerkit/web's
// runtime N threads; transformers.js gets numThreads = N set. Each side's count is checked by the
// web workers its page starts (onnxruntime-web starts N − 1). Under `nice`, Chromium's processes
// are held at the same niceness (keep-niced.mjs), since Chromium raises its own priorities.
// Left out: accuracy (random weights), WebGPU (headless Chromium here has no GPU), memory.
//
// Usage (after `npm run build`; TJS_DIR as for bench/infer, e.g.
//   mkdir /tmp/tjs && cd /tmp/tjs && npm init -y && npm install --ignore-scripts @huggingface/transformers@4
// --ignore-scripts: only the browser build is used, so onnxruntime-node's download is not needed):
//   TJS_DIR=/tmp/tjs node bench/web/run.mjs [--quick] [--sentences 256] [--batch-sizes 8,1,32]
//     [--repeat 5] [--latency-runs 20] [--latency-tokens 100] [--loads 3] [--threads 1]
//     [--no-same-runtime] [make-model flags: --model-type, --layers, ...]
// --quick (16 texts, batches 8 and 1, 2 runs, 3 latency runs, 1 load) proves that it runs and
// writes nothing; a full run appends the command and its tables to bench/RESULTS.md.
// Without TJS_DIR, nerkit/web alone is measured. Env: NERKIT_SHARED (default ../shared).

import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { cpus, getPriority, loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildWeb } from "../../scripts/build-web.mjs";
import { benchModel, parseModelOptions } from "../infer/make-model.mjs";
import { benchTexts } from "../infer/texts.mjs";
import { keepNiced } from "./keep-niced.mjs";
import { launchChromium } from "../../dist/test/chromium.js";
import { serveStatic } from "../../dist/test/static-server.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const out = join(root, "bench", "out", "web");

// Flags: the benchmark's, then make-model's.
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const flags = quick
  ? { sentences: 16, "batch-sizes": "8,1", repeat: 2, "latency-runs": 3, "latency-tokens": 100, loads: 1, threads: 1 }
  : { sentences: 256, "batch-sizes": "8,1,32", repeat: 5, "latency-runs": 20, "latency-tokens": 100, loads: 3, threads: 1 };
const modelArgs = [];
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, "");
  if (key === "quick" || key === "no-same-runtime") continue;
  if (key in flags) flags[key] = argv[++i];
  else modelArgs.push(argv[i], argv[++i]);
}
const { options: modelOptions } = parseModelOptions(modelArgs);
const batchSizes = String(flags["batch-sizes"]).split(",").map(Number);
const [repeat, latencyRuns, loads, threads] = ["repeat", "latency-runs", "loads", "threads"].map((k) => Number(flags[k]));
const started = performance.now();
const load0 = loadavg()[0];
const log = (line) => process.stderr.write(`[bench/web] ${line}\n`);

// 1. The bundle, built as `npm run build` builds it, into a folder of its own.
mkdirSync(out, { recursive: true });
const bundle = await buildWeb({ quiet: true, out: join(out, "bundle") });

// 2. transformers.js's browser build, when TJS_DIR has it.
const tjsDir = process.env.TJS_DIR;
const tjsDist = tjsDir && join(tjsDir, "node_modules", "@huggingface", "transformers", "dist");
const tjsOrt = tjsDir && join(tjsDir, "node_modules", "onnxruntime-web", "dist");
let tjsNote = "";
if (!tjsDir) tjsNote = "skipped: set TJS_DIR to a folder with @huggingface/transformers 4.x installed (see the header)";
else if (!existsSync(join(tjsDist, "transformers.min.js"))) tjsNote = `skipped: no ${join(tjsDist, "transformers.min.js")} (transformers.js's browser build)`;
else if (!existsSync(join(tjsOrt, "ort-wasm-simd-threaded.asyncify.wasm"))) tjsNote = `skipped: no ${join(tjsOrt, "ort-wasm-simd-threaded.asyncify.wasm")} (the onnxruntime-web build transformers.js loads)`;
const withTjs = !tjsNote;
const ortDist = join(root, "node_modules", "onnxruntime-web", "dist");
const tjsBuild = withTjs && (() => {
  const js = readFileSync(join(tjsDist, "transformers.min.js"));
  const version = JSON.parse(readFileSync(join(tjsDist, "..", "package.json"), "utf8")).version;
  return { version, minified: js.length, gzip: gzipSync(js, { level: 9 }).length, wasm: readFileSync(join(tjsOrt, "ort-wasm-simd-threaded.asyncify.wasm")).length };
})();

// 3. The model (bench/infer's, made once and kept) exported afresh, and the texts.
const modelDir = benchModel(modelOptions);
const modelName = `${modelOptions.modelType}-L${modelOptions.layers}-H${modelOptions.hidden}`;
const exported = join(out, "models", modelName);
rmSync(exported, { recursive: true, force: true });
const exportRun = spawnSync(process.execPath, [join(root, "bin", "nerkit.js"), "export", "--model", modelDir, "--out", exported, "--no-safetensors"], { cwd: root, encoding: "utf8" });
if (exportRun.status !== 0) {
  console.error(`nerkit export failed:\n${exportRun.stderr}`);
  process.exit(1);
}
const { texts, latencyText } = benchTexts({ shared, modelDir, sentences: Number(flags.sentences), latencyTokens: Number(flags["latency-tokens"]) });
const largest = Math.max(...batchSizes);
const lists = { all: texts, warmup: texts.slice(0, 2 * largest), latency: [latencyText] };

// 4. The server and the browser.
const isolated = threads > 1;
const mounts = new Map([
  ["/web/", bundle.dir],
  ["/ort/", ortDist], // nerkit's onnxruntime-web, for transformers.js on the same runtime
  ["/models/", join(out, "models")],
  ["/bench/", here],
]);
if (withTjs) {
  mounts.set("/tjs/", tjsDist);
  mounts.set("/tjs-ort/", tjsOrt);
}
mounts.set("/", here); // index.html
const server = await serveStatic(mounts, isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {});
const browser = await launchChromium();
const niced = keepNiced(); // under `nice`, the browser too (Chromium raises its own priorities)
const LABELS = new Map([
  ["nerkit", "nerkit/web"],
  ["tjs", "transformers.js"],
  ["tjs-same-runtime", "transformers.js on nerkit's onnxruntime-web"],
]);
const sides = ["nerkit"];
if (withTjs) sides.push("tjs");
if (withTjs && !argv.includes("--no-same-runtime")) sides.push("tjs-same-runtime");
const others = sides.slice(1);

/** A fresh context with the side's library loaded: its page, the load's times, the workers it started, and its console's complaints. */
async function openSide(name) {
  const context = await browser.newContext();
  if (isolated) await context.addInitScript(`Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => ${2 * threads} });`);
  const page = await context.newPage();
  const seen = { workers: 0, messages: [] };
  page.on("worker", () => seen.workers++);
  page.on("console", (m) => ["error", "warning"].includes(m.type()) && seen.messages.push(m.text()));
  page.on("pageerror", (e) => seen.messages.push(e.message));
  page.on("crash", () => log(`${LABELS.get(name)}: the page crashed`));
  await page.goto(`${server.base}/index.html`);
  const loaded = await page.evaluate(
    async ({ url, name, options }) => (await import(url)).load(name, options),
    { url: `${server.base}/bench/page.mjs`, name, options: { base: server.base, model: modelName, threads } },
  );
  if (isolated && !(await page.evaluate(() => globalThis.crossOriginIsolated))) throw new Error("the page is not cross-origin isolated: onnxruntime-web would run 1 thread");
  return { context, page, seen, ...loaded };
}

const inPage = (page, fn, arg) => page.evaluate(async ({ url, fn, arg }) => (await import(url))[fn](...arg), { url: `${server.base}/bench/page.mjs`, fn, arg });

/** The sides in turn, each call starting one further along, so that no side always goes first. */
let turn = 0;
const inTurn = () => {
  const k = turn++ % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
};

// 5. Loads, cold, sides in turn; the last round stays open for the runs.
const loadsOf = new Map(sides.map((s) => [s, []]));
let open = new Map();
for (let l = 0; l < loads; l++) {
  for (const side of open.values()) await side.context.close();
  open = new Map();
  for (const name of inTurn()) {
    const side = await openSide(name);
    open.set(name, side);
    loadsOf.get(name).push(side.importMs + side.loadMs);
    log(`${LABELS.get(name)}: import ${side.importMs.toFixed(0)} ms + load ${side.loadMs.toFixed(0)} ms`);
  }
}
for (const side of open.values()) await inPage(side.page, "prepare", [lists]);

// 6. Warm-up, then the runs, sides in turn run by run.
for (const side of open.values()) await inPage(side.page, "timedRun", ["warmup", largest]);
const runsOf = new Map(sides.map((s) => [s, new Map(batchSizes.map((b) => [b, []]))]));
for (const b of batchSizes) {
  for (let r = 0; r < repeat; r++) {
    for (const name of inTurn()) runsOf.get(name).get(b).push(await inPage(open.get(name).page, "timedRun", ["all", b]));
  }
  log(`batch ${b}: ${sides.map((s) => `${LABELS.get(s)} ${runsOf.get(s).get(b).map((x) => x.e2eMs.toFixed(0)).join(", ")} ms`).join("; ")}`);
}
const latencyOf = new Map(sides.map((s) => [s, []]));
for (const side of open.values()) for (let i = 0; i < 3; i++) await inPage(side.page, "timedRun", ["latency", 1]);
for (let i = 0; i < latencyRuns; i++) for (const name of inTurn()) latencyOf.get(name).push(await inPage(open.get(name).page, "timedRun", ["latency", 1]));
const chromiumVersion = browser.version();
const versions = new Map([...open].map(([name, side]) => [name, side.version]));
const versionOf = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
versions.set("nerkit", `nerkit/web ${versionOf(root)}, onnxruntime-web ${versionOf(join(root, "node_modules", "onnxruntime-web"))}`);
const workers = new Map([...open].map(([name, side]) => [name, side.seen.workers]));
const messages = new Map([...open].map(([name, side]) => [name, [...new Set(side.seen.messages)]]));
niced.stop();
await browser.close();
await server.close();
const load1 = loadavg()[0];
const seconds = (performance.now() - started) / 1000;

// 7. The tables.
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const num = (v, digits = 0) => v.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** "median (min–max)" of a list. */
const spread = (xs, digits = 0) => `${num(median(xs), digits)} (${num(Math.min(...xs), digits)}–${num(Math.max(...xs), digits)})`;
/** nerkit against another side from two medians; `higherIsBetter` for rates. */
const versus = (nk, other, higherIsBetter) => {
  const faster = higherIsBetter ? nk / other : other / nk;
  return faster >= 1 ? `${faster.toFixed(2)}× faster` : `${(1 / faster).toFixed(2)}× slower`;
};
const kb = (n) => `${num(n / 1024, 1)} KB`;
const mib = (n) => `${num(n / 2 ** 20, 1)} MiB`;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

const lines = [];
const first = runsOf.get("nerkit").get(batchSizes[0])[0];
lines.push(`- Model: ${modelName} (${modelOptions.heads} heads, feed-forward ${modelOptions.intermediate}, ${modelOptions.labels} labels, random weights), ` +
  `one onnx/model.onnx (fused kernels) loaded by every side from the same local server.`);
lines.push(`- Texts: ${texts.length} sentences of CoNLL-2003 dev (${num(first.tokens)} tokens); the latency text ${latencyOf.get("nerkit")[0].tokens} tokens.`);
lines.push(`- Chromium ${chromiumVersion}, headless; ${plural(threads, "WASM thread")} per side (web workers started: ${sides.map((s) => `${LABELS.get(s)} ${workers.get(s)}`).join(", ")}); ` +
  `${cpus().length} cores; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after; ${num(seconds)} s in all` +
  (getPriority() > 0 ? `; run under nice ${getPriority()}, the browser's threads held there too (${niced.lowered} raised by Chromium lowered again), so the times are those of leftover CPU.` : "."));
lines.push(`- Versions: ${sides.map((s) => versions.get(s)).join("; ")}.`);
lines.push("");
const columns = [" ", ...sides.map((s) => LABELS.get(s)), ...others.map((s) => `nerkit/web vs ${LABELS.get(s)}`)];
lines.push(`| ${columns.join(" | ")} |\n|${columns.map(() => "---").join("|")}|`);
const row = (label, values, digits, higherIsBetter) => {
  const cells = [label, ...sides.map((s) => spread(values(s), digits)), ...others.map((s) => versus(median(values("nerkit")), median(values(s)), higherIsBetter))];
  lines.push(`| ${cells.join(" | ")} |`);
};
row(`load, cold: import + model (ms), median of ${loads}`, (s) => loadsOf.get(s), 0, false);
const equalWork = [];
for (const b of batchSizes) {
  const rate = (s, key) => runsOf.get(s).get(b).map((x) => x.tokens / (x[key] / 1000));
  row(`batch ${b}, end to end (tokens/s)`, (s) => rate(s, "e2eMs"), 0, true);
  row(`batch ${b}, model alone (tokens/s)`, (s) => rate(s, "modelMs"), 0, true);
  const fed = sides.map((s) => runsOf.get(s).get(b)[0]);
  const same = fed.every((x) => x.tokens === fed[0].tokens && x.padded === fed[0].padded && x.batches === fed[0].batches);
  equalWork.push(`batch ${b}: ${same ? `equal, ${fed[0].tokens} tokens in ${fed[0].padded} positions, ${plural(fed[0].batches, "call")}` : `NOT EQUAL: ${sides.map((s, i) => `${LABELS.get(s)} ${fed[i].tokens} tokens in ${fed[i].padded} positions, ${fed[i].batches} calls`).join("; ")}`}`);
}
const latencyTokens = latencyOf.get("nerkit")[0].tokens;
row(`one ${latencyTokens}-token text, end to end (ms), median of ${latencyRuns}`, (s) => latencyOf.get(s).map((x) => x.e2eMs), 1, false);
row(`one ${latencyTokens}-token text, model alone (ms)`, (s) => latencyOf.get(s).map((x) => x.modelMs), 1, false);
lines.push("");
lines.push(`Medians, with the range over the runs in brackets; ${plural(repeat, "run")} per batch size after a warm-up, the sides taking turns run by run. ` +
  "Model alone: the ONNX Runtime session's calls inside those runs, summed.");
if (others.length) lines.push(`Work fed to the model (first run of each side): ${equalWork.join("; ")}.`);
if (sides.includes("tjs-same-runtime")) {
  lines.push("transformers.js runs twice: as shipped (dist/transformers.min.js with the onnxruntime-web inside it, which loads its asyncify .wasm), " +
    "and its unbundled browser build (dist/transformers.web.js) on nerkit's onnxruntime-web (an import map; the same plain WASM build and .wasm file as nerkit/web), which leaves the libraries' own work as the difference.");
}
lines.push("");
lines.push(`Bundle: nerkit/web (${relative(root, join(bundle.dir, "nerkit-web.js"))}, esbuild, onnxruntime-web's JavaScript inside) ${kb(bundle.minified)} minified, ` +
  `**${kb(bundle.gzip)} gzip** (goal ≤ 250 KB), ort-wasm-simd-threaded.wasm ${mib(bundle.wasm)} apart` +
  (withTjs ? `; transformers.js ${tjsBuild.version} (dist/transformers.min.js, onnxruntime-web inside) ${kb(tjsBuild.minified)} minified, ${kb(tjsBuild.gzip)} gzip, ort-wasm-simd-threaded.asyncify.wasm ${mib(tjsBuild.wasm)} apart.` : "."));
for (const [name, list] of messages) {
  // A 404 is a file a loader looks for and the export does not have (special_tokens_map.json, calibration.json): expected.
  const complaints = list.filter((m) => !/status of 404/.test(m));
  if (complaints.length) lines.push(`\n${LABELS.get(name)}'s page logged: ${complaints.slice(0, 5).map((m) => `"${m.slice(0, 200)}"`).join("; ")}${complaints.length > 5 ? ` and ${complaints.length - 5} more` : ""}`);
}
if (tjsNote) lines.push(`\ntransformers.js: ${tjsNote}`);
const report = lines.join("\n");
console.log(`\n${report}`);

if (!quick) {
  const command = `node bench/web/run.mjs ${argv.join(" ")}`.trim();
  const date = new Date().toISOString().slice(0, 10);
  const install = withTjs ? ` TJS_DIR holds @huggingface/transformers ${tjsBuild.version} (\`npm install --ignore-scripts @huggingface/transformers@4\`).` : "";
  appendFileSync(join(root, "bench", "RESULTS.md"), `\n## nerkit/web vs transformers.js in Chromium, ${modelName} (${date})\n\nCommand: \`npm run build && ${withTjs ? `TJS_DIR=${tjsDir} ` : ""}${command}\`` +
    ` (what is measured and how: the header of bench/web/run.mjs).${install}\n\n${report}\n`);
  log("appended to bench/RESULTS.md");
}
