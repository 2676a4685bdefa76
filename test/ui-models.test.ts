// The UI's Models page in Debian's Chromium (playwright-core), against the app listening on
// 127.0.0.1 in process with a registry of two versions (fake pipelines typed V1 and V2): the page
// lists them newest first with their status, shows a retrain's gate record as the candidate's scores
// beside the serving version's with the difference, promotes the candidate with its button (the
// server then answers with v2), rolls back to v1 with the retired version's button, and retires the
// candidate; a server without a registry says so. NERKIT_UI_SCREENSHOTS=docs saves ui-models.png into docs/.
// Without /usr/bin/chromium the tests are skipped, except in CI.

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium, withErrorFreePage } from "./chromium.js";
import { buildApp } from "../src/serve/app.js";
import { openModelRegistry } from "../src/serve/models/registry-service.js";
import { SwappablePipeline } from "../src/serve/models/swappable-pipeline.js";
import { openRepository } from "../src/serve/storage/open.js";
import { TaggedPipeline } from "./fake-pipeline.js";
import { repoRoot, tempDir } from "./helpers.js";

const screenshots = process.env.NERKIT_UI_SCREENSHOTS ? join(repoRoot, process.env.NERKIT_UI_SCREENSHOTS) : undefined;

const gate = {
  decision: "keep-candidate" as const,
  reason: "micro F1 +0.3 points, below the 0.5 margin",
  gold: { source: "gold-file" as const, path: "gold.conll", documents: 50, sha256: "ab" },
  candidate: { microF1: 0.853, perType: { LOC: 0.9, PER: 0.81 }, support: 120 },
  serving: { microF1: 0.85, perType: { LOC: 0.88, PER: 0.825 }, support: 120, version: "v1" },
  promoteMargin: 0.5,
  maxTypeDrop: 2,
};

async function withServer(fn: (base: string) => Promise<void>, registered = true): Promise<void> {
  const dir = tempDir("nerkit-ui-models-");
  const repository = await openRepository(join(dir, "jobs.db"));
  const registry = openModelRegistry(repository, join(dir, "models"));
  const folder = (id: string) => {
    mkdirSync(join(dir, "models", id), { recursive: true });
    writeFileSync(join(dir, "models", id, "config.json"), "{}");
    return join(dir, "models", id);
  };
  const now = new Date().toISOString();
  await registry.store.insert({ id: (await registry.reserve()).id, madeBy: "serve --model ./model", folder: folder("v1"), status: "serving", createdAt: now, promotedAt: now });
  const v2 = await registry.reserve();
  await registry.addCandidate({ id: v2.id, parent: "v1", madeBy: "retrain r1 (40 reviewed documents)", folder: folder(v2.id), gate, calibration: { method: "temperature", entities: 80 } });
  const pipeline = new SwappablePipeline("v1", new TaggedPipeline("V1"));
  registry.attach({ pipeline, load: async (f) => new TaggedPipeline(basename(f).toUpperCase()) });
  const app = await buildApp({ pipeline, ...(registered ? { registry } : {}), config: { db: ":memory:" } });
  try {
    await fn(await app.listen({ port: 0, host: "127.0.0.1" }));
  } finally {
    await app.close();
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function servingVersion(base: string): Promise<string> {
  const r = await fetch(`${base}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "Maria" }) });
  return ((await r.json()) as { model_version: string }).model_version;
}

describe("the Models page in Chromium", { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  const withPage = (base: string, fn: (page: Page) => Promise<void>) => withErrorFreePage(browser, `${base}/#models`, fn, { expectedConsoleErrors: /status of 404/ });

  const statuses = (page: Page) => page.$$eval(".model-version", (nodes: any[]) => nodes.map((n) => [n.dataset.version, n.dataset.status]));

  test("versions, the gate's scores side by side, promote, roll back, retire", async () => {
    await withServer(async (base) => {
      await withPage(base, async (page) => {
        await page.waitForSelector(".model-version");
        assert.equal(await page.textContent("#models-serving"), "v1");
        assert.deepEqual(await statuses(page), [["v2", "candidate"], ["v1", "serving"]]);
        const rows = await page.$$eval('.gate-table[data-version="v2"] tbody tr', (nodes: any[]) => nodes.map((n) => [...n.cells].map((c: any) => c.textContent)));
        assert.deepEqual(rows, [
          ["micro", "85.3", "85.0", "+0.3"],
          ["LOC", "90.0", "88.0", "+2.0"],
          ["PER", "81.0", "82.5", "−1.5"],
        ]);
        assert.match((await page.textContent('.gate-table[data-version="v2"] caption')) ?? "", /keep-candidate — micro F1 \+0\.3 points/);
        assert.equal(await page.locator('.model-version[data-version="v1"] button').count(), 0, "the serving version has no button");
        if (screenshots) {
          mkdirSync(screenshots, { recursive: true });
          await page.screenshot({ path: join(screenshots, "ui-models.png"), fullPage: true });
        }

        await page.click('.model-version[data-version="v2"] button[data-action="promote"]');
        await page.waitForSelector('.model-version[data-version="v2"][data-status="serving"]');
        assert.deepEqual(await statuses(page), [["v2", "serving"], ["v1", "retired"]]);
        assert.equal(await page.textContent("#models-serving"), "v2");
        assert.equal(await servingVersion(base), "v2");

        await page.click('.model-version[data-version="v1"] button[data-action="rollback"]');
        await page.waitForSelector('.model-version[data-version="v1"][data-status="serving"]');
        assert.equal(await servingVersion(base), "v1");
        assert.deepEqual(await statuses(page), [["v2", "retired"], ["v1", "serving"]]);
        assert.match((await page.textContent("#models-status")) ?? "", /v1 is serving/);
      });
    });
  });

  test("a candidate retired with its button; a server without a registry says so", async () => {
    await withServer(async (base) => {
      await withPage(base, async (page) => {
        await page.waitForSelector('.model-version[data-version="v2"]');
        await page.click('.model-version[data-version="v2"] button[data-action="retire"]');
        await page.waitForSelector('.model-version[data-version="v2"][data-status="retired"]');
        assert.equal(await servingVersion(base), "v1");
      });
    });
    await withServer(async (base) => {
      await withPage(base, async (page) => {
        await page.waitForFunction(() => /no model registry/.test((globalThis as any).document.querySelector("#models-status").textContent));
        assert.equal(await page.locator(".model-version").count(), 0);
      });
    }, false);
  });
});
