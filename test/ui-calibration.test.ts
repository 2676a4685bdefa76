// The web UI with a calibrated model, in Debian's Chromium (as ui.test.ts drives it): Try shows the
// calibrated score, the one routing decides on, and the model's raw score in the mark's title and
// in the score cell's tooltip. The model is the tiny BERT of the fixtures with a calibration.json
// (temperature 0.5) written beside it. Skipped without /usr/bin/chromium, except in CI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Browser } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { loadPipeline } from "../src/infer/pipeline.js";
import { buildApp } from "../src/serve/app.js";
import { calibratedModel, temperatureCalibration } from "./calibration-cases.js";


describe("Try with a calibrated model, in Chromium", { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  test("each mark's title and score cell: the calibrated score shown, the raw one beside it", async () => {
    const app = await buildApp({ pipeline: loadPipeline(calibratedModel("bert", temperatureCalibration(0.5)), { threads: 1 }), config: { db: ":memory:", accept: 0.14, review: 0.12 } });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const context = await browser.newContext();
    try {
      const text = "Peter Blackburn visited Brussels with the EU delegation.";
      const response = await fetch(`${base}/v1/entities`, { method: "POST", body: JSON.stringify({ text }), headers: { "content-type": "application/json" } });
      const { entities } = (await response.json()) as { entities: { type: string; score: number; raw_score: number; decision: string; start: number }[] };
      assert.ok(entities.length >= 3 && entities.every((e) => e.raw_score.toFixed(3) !== e.score.toFixed(3)), "calibrated scores differ from raw ones at 3 decimals");
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${base}/#try`);
      await page.fill("#try-text", text);
      await page.click("#try-form button[type=submit]");
      await page.waitForSelector("#try-view mark");
      const sorted = [...entities].sort((a, b) => a.start - b.start);
      const titles = await page.$$eval("#try-view mark", (nodes: any[]) => nodes.map((n) => n.title));
      assert.deepEqual(titles, sorted.map((e) => `${e.type} · score ${e.score.toFixed(3)} (raw ${e.raw_score.toFixed(3)}) · ${e.decision}`));
      const cells = await page.$$eval("#try-table td.score", (nodes: any[]) => nodes.map((n) => [n.textContent, n.title]));
      assert.deepEqual(cells, sorted.map((e) => [e.score.toFixed(3), `calibrated; the model's raw score is ${e.raw_score.toFixed(3)}`]));
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await app.close();
    }
  });
});
