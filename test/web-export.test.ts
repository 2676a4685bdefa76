// `nerkit export --web` in a real browser: the folder it writes, served by a static server on
// 127.0.0.1 and opened in Debian's Chromium (playwright-core), loads its model, marks the entities
// Node's pipeline finds in the same text (types and UTF-16 offsets), writes the redacted copy Node's
// redact() writes, and requests nothing outside its own folder. A folder whose model lacks
// tokenizer.json shows nerkit's error in the page, with no uncaught exception.
// NERKIT_UI_SCREENSHOTS=docs saves docs/web-page.png. Without /usr/bin/chromium the suite is
// skipped, except in CI (CI set), where it fails.

import assert from "node:assert/strict";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { serveStatic, StaticServer } from "./static-server.js";
import { fixturesDir, nerkit, repoRoot, tempDir } from "./helpers.js";
import { Entity, loadPipeline } from "../src/infer/pipeline.js";
import { redact } from "../src/postprocess/redact.js";

declare const document: any;

const screenshots = process.env.NERKIT_UI_SCREENSHOTS ? join(repoRoot, process.env.NERKIT_UI_SCREENSHOTS) : undefined;
const model = join(fixturesDir, "hf", "bert-tiny");
const TEXT = "Angela Merkel met Emmanuel Macron in Paris on Monday.\nZoë Müller-Lüdenscheidt (Siemens AG) wrote to 🙂 Dario Amodei.";

const dir = tempDir("nerkit-web-export-");
let server: StaticServer;
let browser: Browser;

describe("nerkit export --web in Chromium", { skip: skipWithoutChromium }, () => {
  before(async () => {
    // The bundle the command copies, fresh from dist/src (this is the one test that writes dist/web).
    const { buildWeb } = await import(pathToFileURL(join(repoRoot, "scripts", "build-web.mjs")).href);
    await buildWeb({ quiet: true });
    const run = nerkit(["export", "--model", model, "--out", join(dir, "site"), "--web"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /index\.html\n {2}page\.js\n {2}page\.css\n {2}nerkit-web\.js\n {2}ort-wasm-simd-threaded\.wasm\n {2}model\/onnx\/model\.onnx\n/);
    assert.doesNotMatch(run.stdout, /safetensors/);
    cpSync(join(dir, "site"), join(dir, "broken"), { recursive: true });
    rmSync(join(dir, "broken", "model", "tokenizer.json"));
    server = await serveStatic(
      new Map([
        ["/site/", join(dir, "site")],
        ["/broken/", join(dir, "broken")],
      ]),
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh page, with every URL it requests and every uncaught exception it throws. */
  async function open(folder: string): Promise<{ page: Page; urls: string[]; uncaught: Error[] }> {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const urls: string[] = [];
    const uncaught: Error[] = [];
    page.on("request", (request) => urls.push(request.url()));
    page.on("pageerror", (error) => uncaught.push(error));
    await page.goto(`${server.base}/${folder}/`);
    return { page, urls, uncaught };
  }

  test("the page marks Node's entities, redacts as Node does, and fetches only from its folder", async () => {
    const node = await loadPipeline(model, { threads: 1 });
    const [expected] = (await node.run([TEXT])) as Entity[][];
    await node.close();
    assert.ok(expected.length > 0, "the tiny model finds entities in the text");

    const { page, urls, uncaught } = await open("site");
    try {
      await page.waitForFunction(() => !document.getElementById("run").disabled);
      await page.fill("#text", TEXT);
      await page.click("#run");
      await page.waitForFunction(() => /found/.test(document.getElementById("status").textContent));
      const marks = await page.$$eval("#marked mark", (nodes: any[]) => nodes.map((m) => ({ type: m.dataset.type, start: Number(m.dataset.start), end: Number(m.dataset.end), text: m.textContent })));
      // The page leaves out an entity that overlaps the one before it; the default reading gives none.
      assert.deepEqual(marks, expected.map((e) => ({ type: e.type, start: e.start, end: e.end, text: TEXT.slice(e.start, e.end) })));
      assert.equal(await page.textContent("#marked"), TEXT, "the marked text is the text, nothing lost or added");

      for (const style of ["type", "mask"] as const) {
        await page.selectOption("#style", style);
        assert.equal(await page.inputValue("#redacted"), redact(TEXT, expected, { style }).text, style);
      }
      await page.selectOption("#style", "hash");
      const hashed = await page.inputValue("#redacted");
      const placeholders = hashed.match(/\[[A-Z]+:[0-9a-f]{10}\]/g) ?? [];
      assert.equal(placeholders.length, redact(TEXT, expected, { style: "type" }).replacements.length);
      if (screenshots) {
        mkdirSync(screenshots, { recursive: true });
        await page.selectOption("#style", "type");
        await page.screenshot({ path: join(screenshots, "web-page.png"), fullPage: true });
      }

      assert.ok(server.requests.includes("/site/model/onnx/model.onnx") && server.requests.includes("/site/ort-wasm-simd-threaded.wasm"), server.requests.join("\n"));
      const outside = urls.filter((url) => !url.startsWith(`${server.base}/site/`));
      assert.deepEqual(outside, [], "requests outside the page's folder");
      assert.deepEqual(uncaught, []);
    } finally {
      await page.close();
    }
  });

  test("a model folder without tokenizer.json: nerkit's error in the page, no uncaught exception", async () => {
    const { page, uncaught } = await open("broken");
    try {
      await page.waitForSelector("#status.error");
      const message = await page.textContent("#status");
      assert.equal(message, `${server.base}/broken/model/tokenizer.json: no tokenizer.json in the model folder: the browser reads the fast tokenizer's file, which \`nerkit export\` writes`);
      assert.equal(await page.isDisabled("#run"), true);
      assert.deepEqual(uncaught, []);
    } finally {
      await page.close();
    }
  });
});
