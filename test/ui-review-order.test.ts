// The Review page in Debian's Chromium (playwright-core) shows each document's informativeness and
// the queue's order, and the documents come in the server's --review-order: against the app
// listening on 127.0.0.1 in process, a fake model (ScoringPipeline) whose documents' informativeness
// the test sets by the number of "?" in them. Without /usr/bin/chromium the tests are skipped, except in CI.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium, withErrorFreePage } from "./chromium.js";
import { buildApp } from "../src/serve/app.js";
import { ReviewOrderMode } from "../src/serve/storage/repository.js";
import { normalisedEntropy } from "../src/metrics/informativeness.js";
import { ScoringPipeline } from "./fake-pipeline.js";
import { tempDir } from "./helpers.js";

declare const document: any;

const dir = tempDir("nerkit-ui-review-order-");
after(() => rmSync(dir, { recursive: true, force: true }));

// All capitals: an ORG at 0.85 each, so every document goes to review.
const texts = ["IBM? asked once", "NASA without doubt", "ACME??? asked thrice"];

async function withServer(reviewOrder: ReviewOrderMode, fn: (base: string) => Promise<void>): Promise<void> {
  const app = await buildApp({ pipeline: new ScoringPipeline(), config: { db: join(dir, `${reviewOrder}.db`), reviewOrder } });
  try {
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const created = await fetch(`${base}/v1/jobs`, { method: "POST", body: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.status, 202, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    for (let i = 0; ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { status: string }).status !== "done"; i++) {
      assert.ok(i < 500, "the job never finished");
      await new Promise((r) => setTimeout(r, 10));
    }
    await fn(base);
  } finally {
    await app.close();
  }
}

describe("the Review page's order in Chromium", { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  const withPage = (base: string, fn: (page: Page) => Promise<void>) => withErrorFreePage(browser, `${base}/#review`, fn, { viewport: { width: 1180, height: 760 } });

  /** The documents as the page shows them, one after the other (n skips), each with its informativeness line. */
  async function shown(page: Page): Promise<[string, string][]> {
    const seen: [string, string][] = [];
    await page.waitForSelector("#review-view mark");
    for (let i = 0; i < texts.length; i++) {
      if (i > 0) {
        await page.focus("#review-view");
        await page.keyboard.press("n");
        await page.waitForFunction((previous: string) => document.querySelector("#review-view").textContent !== previous, seen[i - 1][0]);
      }
      seen.push([(await page.textContent("#review-view")) ?? "", (await page.textContent("#review-informativeness")) ?? ""]);
    }
    return seen;
  }

  const line = (q: number, order: string) => `informativeness ${normalisedEntropy([1 - q, q]).toFixed(2)} · ${order} order`;

  test("uncertainty: the most informative document first, its score shown; fifo: the same documents in job order", async () => {
    await withServer("uncertainty", async (base) => {
      await withPage(base, async (page) => {
        assert.deepEqual(await shown(page), [
          [texts[2], line(0.3, "uncertainty")],
          [texts[0], line(0.1, "uncertainty")],
          [texts[1], line(0, "uncertainty")],
        ]);
      });
    });
    await withServer("fifo", async (base) => {
      await withPage(base, async (page) => {
        assert.deepEqual(await shown(page), [
          [texts[0], line(0.1, "fifo")],
          [texts[1], line(0, "fifo")],
          [texts[2], line(0.3, "fifo")],
        ]);
      });
    });
  });
});
