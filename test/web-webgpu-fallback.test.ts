// What nerkit/web does when a caller asks for WebGPU in a browser without it, as the README says:
// with onnxruntime-web's WebGPU build passed as the runtime (`runtime: await
// import("onnxruntime-web/webgpu"), device: "webgpu"`) in Debian's headless Chromium, which has
// navigator.gpu but no adapter (--disable-gpu), onnxruntime-web drops the "webgpu" provider with a
// console warning and the pipeline runs on WASM, giving what the bundled WASM build gives. WebGPU
// itself (a browser with an adapter) is not tested: no machine here has one. The case where the
// runtime has no WebGPU at all (the bundled WASM build) is in test/web-parity.test.ts.
// Without /usr/bin/chromium the suite is skipped, except in CI (CI set), where it fails.

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { Browser } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { serveStatic, StaticServer } from "./static-server.js";
import { fixturesDir, repoRoot, tempDir } from "./helpers.js";
import { exportModel } from "../src/model/export/export-model.js";

declare const window: any;
declare const navigator: any;

const TEXTS = ["Angela Merkel visited Paris on Monday.", "Zoë Müller-Lüdenscheidt (Siemens AG) wrote to Dario Amodei."];
const dir = tempDir("nerkit-webgpu-");
let server: StaticServer;
let browser: Browser;

describe("nerkit/web asked for WebGPU in a browser without it", { skip: skipWithoutChromium }, () => {
  before(async () => {
    const { buildWeb } = await import(pathToFileURL(join(repoRoot, "scripts", "build-web.mjs")).href);
    await buildWeb({ quiet: true, out: join(dir, "web") });
    exportModel(join(fixturesDir, "hf", "bert-tiny"), join(dir, "models", "bert"), { safetensors: false });
    mkdirSync(join(dir, "page"));
    writeFileSync(join(dir, "page", "index.html"), '<!doctype html><meta charset="utf-8"><title>nerkit/web WebGPU test</title>\n');
    // onnxruntime-web's own dist folder: its WebGPU build and the .wasm files that build loads.
    const ortDist = dirname(createRequire(import.meta.url).resolve("onnxruntime-web/wasm"));
    server = await serveStatic(
      new Map([
        ["/web/", join(dir, "web")],
        ["/ort/", ortDist],
        ["/models/", join(dir, "models")],
        ["/", join(dir, "page")],
      ]),
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('runtime onnxruntime-web/webgpu, device "webgpu", no GPU adapter: a console warning, then WASM with the WASM build\'s results', async () => {
    const page = await browser.newPage();
    const warnings: string[] = [];
    const uncaught: string[] = [];
    page.on("console", (message) => message.type() === "warning" && warnings.push(message.text()));
    page.on("pageerror", (error) => uncaught.push(error.message));
    try {
      await page.goto(`${server.base}/`);
      const result = await page.evaluate(
        async ({ base, texts }) => {
          const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
          const nerkit = await import(`${base}/web/nerkit-web.js`);
          const webgpuBuild = await import(`${base}/ort/ort.webgpu.min.mjs`);
          webgpuBuild.env.wasm.wasmPaths = `${base}/ort/`; // the bundle carries the WASM build's .wasm only
          const asked = await nerkit.loadPipeline(`${base}/models/bert`, { runtime: webgpuBuild, device: "webgpu" });
          const plain = await nerkit.loadPipeline(`${base}/models/bert`);
          const results = [await asked.run(texts, { aggregation: "first" }), await plain.run(texts, { aggregation: "first" })];
          await asked.close();
          await plain.close();
          return { adapter: adapter !== null, results };
        },
        { base: server.base, texts: TEXTS },
      );
      assert.equal(result.adapter, false, "this Chromium has a GPU adapter: the test would not test the fallback");
      const [asked, plain] = result.results;
      assert.ok(plain.flat().length > 0, "the tiny model finds entities");
      assert.deepEqual(asked, plain);
      assert.ok(
        warnings.some((w) => /removing requested execution provider "webgpu"/.test(w)),
        `onnxruntime-web's warning that it dropped WebGPU; warnings seen: ${JSON.stringify(warnings)}`,
      );
      // The WebGPU build ran (its own .wasm was fetched), not the bundled WASM build alone.
      assert.ok(server.requests.some((path) => /^\/ort\/ort-wasm-simd-threaded\.\w+\.wasm$/.test(path)), `requests: ${server.requests.join(" ")}`);
      assert.deepEqual(uncaught, []);
    } finally {
      await page.close();
    }
  });
});
