// nerkit/web in a real browser gives what the Node pipeline gives: Debian's Chromium, driven by
// playwright-core, loads the bundle (scripts/build-web.mjs, built into a temp folder here) from a static server on
// 127.0.0.1 and runs every case of ../shared/fixtures/hf/pipeline-cases.json (4 models × 5
// aggregation strategies × 10 texts, and the long text with its 64-token windows, stride 16) on
// folders written by `nerkit export` here: float32 (the fused-kernel graph) and int8, and for bert
// the standard-operator graph and a calibrated model (VARIANTS). Node runs the same cases on the
// same models in this test (float32: the fixture checkpoint, which test/pipeline-parity.test.ts
// checks against transformers; int8: the int8 export's folder).
// Types, offsets, words and token indices exactly; scores within SCORE_TOLERANCE (see there).
// Also: a folder loaded from picked files, and the errors a page gets for a folder without
// tokenizer.json and for a graph with an operator onnxruntime-web lacks.
// Without /usr/bin/chromium the suite is skipped, except in CI (CI set), where it fails.

import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { serveStatic, StaticServer } from "./static-server.js";
import { fixturesDir, readJson, repoRoot, tempDir } from "./helpers.js";
import { calibratedModel, temperatureCalibration } from "./calibration-cases.js";
import { exportModel } from "../src/model/export/export-model.js";
import { AggregationStrategy } from "../src/infer/aggregation.js";
import { Entity, NerPipeline, PIPELINE_PARITY, PredictOptions, TokenItem, loadPipeline } from "../src/infer/pipeline.js";

// The page's globals, for the functions that run in the browser (this program has no DOM types).
declare const window: any;
declare const File: any;

/**
 * Scores: browser against Node on the same weights. Measured max |difference| over all cases:
 * 3.0e-8 float32 (bert, distilbert), 2.2e-8 int8 (one or two float32 ulps of a score near 0.13:
 * the same kernels, summed in a different order); the bound is ten times the larger. The
 * difference per model is printed at the end.
 */
const SCORE_TOLERANCE = 3e-7;

const KINDS = ["bert", "distilbert", "roberta", "xlmr"];
const STRATEGIES: AggregationStrategy[] = ["none", "simple", "first", "average", "max"];
type Case = { text: string };
const cases = readJson<Record<string, Record<string, Case[] | Case>>>(join(fixturesDir, "hf", "pipeline-cases.json"));

interface Run {
  texts: string[];
  options: PredictOptions;
}

/** Every run of a model: the ten texts under each strategy, then the long text in the pipeline's own windows. */
function runsOf(kind: string): Run[] {
  const runs: Run[] = STRATEGIES.map((aggregation) => ({ texts: (cases[kind][aggregation] as Case[]).map((c) => c.text), options: { aggregation } }));
  const long = cases[kind].long_simple_max64_stride16 as Case;
  runs.push({ texts: [long.text], options: { aggregation: "simple", windows: PIPELINE_PARITY.windows, maxLength: 64, stride: 16 } });
  return runs;
}

type Item = Entity | TokenItem;

/** Asserts equal items but for scores (raw_score present in both or neither), and returns the largest score difference. */
function compare(web: Item[][], node: Item[][], label: string): number {
  const strip = (list: Item[][]) => list.map((items) => items.map(({ score: _s, raw_score, ...rest }) => ({ ...rest, calibrated: raw_score !== undefined })));
  assert.deepEqual(strip(web), strip(node), label);
  let worst = 0;
  node.forEach((items, t) =>
    items.forEach((item, i) => {
      worst = Math.max(worst, Math.abs(item.score - web[t][i].score));
      if (item.raw_score !== undefined) worst = Math.max(worst, Math.abs(item.raw_score - (web[t][i].raw_score as number)));
    }),
  );
  return worst;
}

/**
 * What runs on both sides: each model's float32 export (the fused-kernel graph; Node runs the
 * fixture checkpoint) and int8 export (Node runs the export's folder, as int8), and for bert also
 * the standard-operator export and a temperature-calibrated export (calibration.json copied along).
 */
interface Variant {
  name: string;
  kind: string;
  /** The folder under models/ the browser loads. */
  folder: string;
  /** The folder Node loads. */
  nodeDir: () => string;
  quantize?: "int8";
}

const VARIANTS: Variant[] = [
  ...KINDS.flatMap((kind): Variant[] => [
    { name: `${kind} float32`, kind, folder: kind, nodeDir: () => join(fixturesDir, "hf", `${kind}-tiny`) },
    { name: `${kind} int8`, kind, folder: `${kind}-int8`, nodeDir: () => join(dir, "models", `${kind}-int8`), quantize: "int8" },
  ]),
  { name: "bert standard operators", kind: "bert", folder: "bert-standard", nodeDir: () => join(fixturesDir, "hf", "bert-tiny") },
  { name: "bert calibrated (T = 0.5)", kind: "bert", folder: "bert-calibrated", nodeDir: () => join(dir, "models", "bert-calibrated") },
];

const dir = tempDir("nerkit-web-");
let server: StaticServer;
let browser: Browser;
let page: Page;
const measured = new Map<string, number>();

describe("nerkit/web in Chromium", { skip: skipWithoutChromium }, () => {
  before(async () => {
    const { buildWeb } = await import(pathToFileURL(join(repoRoot, "scripts", "build-web.mjs")).href);
    await buildWeb({ quiet: true, out: join(dir, "web") });
    for (const kind of KINDS) {
      exportModel(join(fixturesDir, "hf", `${kind}-tiny`), join(dir, "models", kind), { safetensors: false });
      exportModel(join(fixturesDir, "hf", `${kind}-tiny`), join(dir, "models", `${kind}-int8`), { quantize: "int8" });
    }
    exportModel(join(fixturesDir, "hf", "bert-tiny"), join(dir, "models", "bert-standard"), { safetensors: false, standardOps: true });
    mkdirSync(join(dir, "calibrated"));
    exportModel(calibratedModel("bert", temperatureCalibration(0.5), join(dir, "calibrated")), join(dir, "models", "bert-calibrated"));
    mkdirSync(join(dir, "page"));
    writeFileSync(join(dir, "page", "index.html"), '<!doctype html><meta charset="utf-8"><title>nerkit/web test</title>\n');
    server = await serveStatic(
      new Map([
        ["/web/", join(dir, "web")],
        ["/models/", join(dir, "models")],
        ["/", join(dir, "page")],
      ]),
    );
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.base}/`);
    await page.evaluate(async (url: string) => {
      window.nerkit = await import(url);
      window.pipelines = new Map();
    }, `${server.base}/web/nerkit-web.js`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    if (measured.size > 0) console.log(`max score difference, browser vs Node: ${[...measured].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", ")}`);
  });

  /** Runs in the page: loads the folder once, then every run; results as plain JSON. */
  async function webRuns(folder: string, runs: Run[]): Promise<Item[][][]> {
    return page.evaluate(
      async ({ url, runs }) => {
        let pipeline = window.pipelines.get(url);
        if (!pipeline) window.pipelines.set(url, (pipeline = await window.nerkit.loadPipeline(url)));
        const results = [];
        for (const run of runs) results.push(await pipeline.run(run.texts, run.options));
        return results;
      },
      { url: `${server.base}/models/${folder}`, runs },
    );
  }

  for (const variant of VARIANTS) {
    test(`${variant.name}: every pipeline case gives Node's entities`, async () => {
      const node: NerPipeline = await loadPipeline(variant.nodeDir(), { threads: 1 });
      try {
        assert.equal(node.quantize, variant.quantize);
        const runs = runsOf(variant.kind);
        const web = await webRuns(variant.folder, runs);
        let worst = 0;
        for (const [r, run] of runs.entries()) {
          const expected = (await node.run(run.texts, run.options)) as Item[][];
          assert.ok(expected.flat().length > 0, "the case has entities to compare");
          assert.equal(expected.flat().some((e) => e.raw_score !== undefined), variant.folder === "bert-calibrated", "calibrated scores where the folder has calibration.json");
          worst = Math.max(worst, compare(web[r], expected, `${variant.name} ${JSON.stringify(run.options)}`));
        }
        measured.set(variant.name, worst);
        assert.ok(worst <= SCORE_TOLERANCE, `${variant.name}: scores differ by up to ${worst}`);
      } finally {
        await node.close();
      }
    });
  }

  test("a folder picked as files (File objects) loads and runs as the same folder by URL does", async () => {
    const run = runsOf("bert")[2];
    const [byFiles, byUrl] = await page.evaluate(
      async ({ base, run }) => {
        const files = [];
        for (const name of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) {
          const response = await fetch(`${base}/${name}`);
          if (response.ok) files.push(new File([await response.arrayBuffer()], name.split("/").pop()));
        }
        const picked = await window.nerkit.loadPipeline(files);
        const byUrl = await window.nerkit.loadPipeline(base);
        return [await picked.run(run.texts, run.options), await byUrl.run(run.texts, run.options)];
      },
      { base: `${server.base}/models/bert`, run },
    );
    assert.ok(byFiles.flat().length > 0);
    assert.deepEqual(byFiles, byUrl);
  });

  test('device "webgpu" where the runtime has no WebGPU (the bundled WASM build): runs on WASM, same results', async () => {
    const run = runsOf("bert")[3];
    const [asked, plain] = await page.evaluate(
      async ({ url, run }) => {
        const webgpu = await window.nerkit.loadPipeline(url, { device: "webgpu" });
        const wasm = await window.nerkit.loadPipeline(url);
        return [await webgpu.run(run.texts, run.options), await wasm.run(run.texts, run.options)];
      },
      { url: `${server.base}/models/bert`, run },
    );
    assert.ok(plain.flat().length > 0);
    assert.deepEqual(asked, plain);
  });

  /** The error a page gets loading a folder: its fields as plain JSON, and whether it carried a stack into the message. */
  async function loadError(folder: string): Promise<{ name: string; code: string; message: string; file: string }> {
    return page.evaluate(async (url) => {
      try {
        await window.nerkit.loadPipeline(url);
        return { name: "no error", code: "", message: "", file: "" };
      } catch (error: any) {
        return { name: error.name, code: error.code, message: error.message, file: error.file };
      }
    }, `${server.base}/models/${folder}`);
  }

  test("a folder without tokenizer.json: a NerkitError naming the file", async () => {
    const broken = join(dir, "models", "no-tokenizer");
    cpSync(join(dir, "models", "bert"), broken, { recursive: true });
    rmSync(join(broken, "tokenizer.json"));
    const error = await loadError("no-tokenizer");
    assert.equal(error.name, "NerkitError");
    assert.equal(error.code, "E_IO");
    assert.equal(error.file, `${server.base}/models/no-tokenizer/tokenizer.json`);
    assert.match(error.message, /no tokenizer\.json/);
  });

  test("a graph with an operator onnxruntime-web lacks: a NerkitError naming the graph and the operator", async () => {
    const broken = join(dir, "models", "bad-operator");
    cpSync(join(dir, "models", "bert"), broken, { recursive: true });
    // The same length, so the protobuf stays well formed: only the operator's name changes.
    const graph = readFileSync(join(broken, "onnx", "model.onnx"));
    const renamed = Buffer.from(graph.toString("latin1").replaceAll("SkipLayerNormalization", "SkipLayerNormalizatioQ"), "latin1");
    assert.notDeepEqual(renamed, graph);
    writeFileSync(join(broken, "onnx", "model.onnx"), renamed);
    const error = await loadError("bad-operator");
    assert.equal(error.name, "NerkitError");
    assert.equal(error.code, "E_FORMAT");
    assert.equal(error.file, `${server.base}/models/bad-operator/onnx/model.onnx`);
    assert.match(error.message, /onnxruntime-web \(wasm\) could not load the model: .*SkipLayerNormalizatioQ/s);
  });
});

