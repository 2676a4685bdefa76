// The UI's Models page in Debian's Chromium (playwright-core), against the app listening on
// 127.0.0.1 in process with a registry of two versions (fake pipelines typed V1 and V2): the page
// lists them newest first with their status, shows a retrain's gate record as the candidate's scores
// beside the serving version's with the difference, promotes the candidate with its button (the
// server then answers with v2), rolls back to v1 with the retired version's button, and retires the
// candidate; a server without a registry says so; the retrains below the versions show a promotion
// the registry refused with its reason, and a running retrain's Cancel button cancels it (the row
// then reads cancelled, serving untouched). NERKIT_UI_SCREENSHOTS=docs saves ui-models.png into docs/.
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
import { retrainStore } from "../src/serve/storage/open-retrains.js";
import { JobRepository } from "../src/serve/storage/repository.js";
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

/** An app over a registry of v1 (serving) and v2 (candidate); with `retrains`, the retrain routes on the same job database. */
async function withServer(fn: (base: string, repository: JobRepository) => Promise<void>, registered = true, retrains = false): Promise<void> {
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
  const app = await buildApp({ pipeline, ...(registered ? { registry } : {}), ...(retrains ? { retrain: { registry } } : {}), config: { db: retrains ? join(dir, "jobs.db") : ":memory:" } });
  try {
    await fn(await app.listen({ port: 0, host: "127.0.0.1" }), repository);
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

  test("retrains: a refused promotion shows its reason; Cancel cancels a running retrain, serving untouched", async () => {
    await withServer(
      async (base, repository) => {
        // The server's first look at its retrains fails those a stopped server left running: made after it.
        assert.equal((await fetch(`${base}/v1/retrain`)).status, 200);
        const store = await retrainStore(repository);
        const refused = "the gate would promote v2, but the promotion was refused (E_MODEL_CALIBRATION): model version v2 is not promoted: its calibration has no threshold for PER";
        const r1 = (await store.start(0))!;
        await store.finish(r1.id, { status: "done", candidate: "v2", gate: { ...gate, decision: "promote", reason: "promoted: micro F1 +0.3 points" }, promoted: false, promotionRefused: refused }, []);
        const r2 = (await store.start(0))!;
        await withPage(base, async (page) => {
          await page.waitForSelector('.retrain[data-retrain="r2"][data-status="running"]');
          assert.deepEqual(await page.$$eval(".retrain", (nodes: any[]) => nodes.map((n) => [n.dataset.retrain, n.dataset.status])), [["r2", "running"], ["r1", "done"]]);
          assert.equal(await page.textContent('.retrain[data-retrain="r1"] [data-fact="promotion refused"]'), refused);
          assert.equal(await page.textContent('.retrain[data-retrain="r1"] [data-fact="candidate"]'), "v2 (not promoted)");
          assert.match((await page.textContent('.retrain[data-retrain="r1"] [data-fact="gate"]')) ?? "", /^promote — promoted: micro F1/);
          assert.equal(await page.locator('.retrain[data-retrain="r1"] button').count(), 0, "a finished retrain has no Cancel button");
          await page.click('.retrain[data-retrain="r2"] button[data-action="cancel"]');
          await page.waitForSelector('.retrain[data-retrain="r2"][data-status="cancelled"]');
          assert.match((await page.textContent('.retrain[data-retrain="r2"] [data-fact="cancelled"]')) ?? "", /cancelled by a request/);
          assert.match((await page.textContent("#retrains-status")) ?? "", /r2 is cancelled/);
        });
        assert.equal((await store.get(r2.id))?.status, "cancelled");
        assert.equal(await servingVersion(base), "v1");
      },
      true,
      true,
    );
  });
});
