// The web UI in a real browser: Debian's Chromium driven by playwright-core against the app
// listening on 127.0.0.1 in process (a SQLite file in a temp folder). Try runs on the tiny model of
// the fixtures (marks equal the API's entities) and on a fake pipeline with fixed entities and
// scores, which also feeds Review (scores between the thresholds, so job results go to review),
// Annotate and the API-key test. Also, in process: the static routes, GET /v1/labels and
// POST /v1/evaluate. NERKIT_UI_SCREENSHOTS=docs saves a PNG of each page into docs/.
// Without /usr/bin/chromium the browser tests are skipped, except in CI (CI set), where they fail.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { parseSpanFile } from "../src/data/span-formats.js";
import { Entity, loadPipeline } from "../src/infer/pipeline.js";
import { confusion, confusionJson } from "../src/metrics/confusion.js";
import { reportJson } from "../src/metrics/seqeval.js";
import { evaluateFiles } from "../src/metrics/evaluate-files.js";
import { BuildAppOptions, PipelineLike, buildApp } from "../src/serve/app.js";
import { fixturesDir, repoRoot, tempDir } from "./helpers.js";

// The page's globals, for the functions that run in the browser (this program has no DOM types).
declare const document: any;
declare const sessionStorage: { getItem(key: string): string | null };

const screenshots = process.env.NERKIT_UI_SCREENSHOTS ? join(repoRoot, process.env.NERKIT_UI_SCREENSHOTS) : undefined;
const gold = join(repoRoot, "examples", "demo", "gold.conll");
const pred = join(repoRoot, "examples", "demo", "pred.conll");

/** Words the fake model knows: type and score (accept ≥ 0.95 > review ≥ 0.8 > reject). */
const KNOWN: Record<string, [string, number]> = {
  Alice: ["PER", 0.86],
  Bob: ["PER", 0.91],
  Carol: ["PER", 0.88],
  Paris: ["LOC", 0.99],
  Berlin: ["PER", 0.84],
  Acme: ["ORG", 0.87],
  Siemens: ["ORG", 0.97],
  Zed: ["MISC", 0.5],
};

class FakePipeline implements PipelineLike {
  readonly arch = { labels: ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"] };
  async run(texts: readonly string[]): Promise<Entity[][]> {
    return texts.map((text) =>
      [...text.matchAll(/\p{Lu}\p{Ll}+/gu)]
        .filter((m) => m[0] in KNOWN)
        .map((m) => ({ type: KNOWN[m[0]][0], text: m[0], start: m.index, end: m.index + m[0].length, score: KNOWN[m[0]][1], word: m[0] })),
    );
  }
  async close(): Promise<void> {}
}

const dir = tempDir("nerkit-ui-");
after(() => rmSync(dir, { recursive: true, force: true }));
let databases = 0;

/** The app on 127.0.0.1 (a fresh SQLite file each time) for the length of `fn`. */
async function withServer(options: Partial<BuildAppOptions>, fn: (base: string) => Promise<void>): Promise<void> {
  const app = await buildApp({ pipeline: new FakePipeline(), ...options, config: { db: join(dir, `ui-${++databases}.db`), ...options.config } });
  try {
    await fn(await app.listen({ port: 0, host: "127.0.0.1" }));
  } finally {
    await app.close();
  }
}

async function post(base: string, path: string, body: string, contentType = "application/json") {
  const response = await fetch(base + path, { method: "POST", body, headers: { "content-type": contentType } });
  assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
  return response;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `ui-${name}.png`), fullPage });
}

/** Drags the mouse from the first to the last character of [start, end) of the text shown in `selector`. */
async function dragSelect(page: Page, selector: string, start: number, end: number): Promise<void> {
  const points = await page.locator(selector).evaluate(
    (root: any, [from, to]: number[]) => {
      const walker = document.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
      const rectOf = (offset: number) => {
        let at = 0;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (offset < at + node.data.length) {
            const range = document.createRange();
            range.setStart(node, offset - at);
            range.setEnd(node, offset - at + 1);
            walker.currentNode = root;
            return range.getBoundingClientRect();
          }
          at += node.data.length;
        }
        throw new Error(`offset ${offset} is past the text`);
      };
      const first = rectOf(from);
      const last = rectOf(to - 1);
      return { x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2 };
    },
    [start, end],
  );
  await page.mouse.move(points.x1, points.y1);
  await page.mouse.down();
  await page.mouse.move(points.x2, points.y2, { steps: 4 });
  await page.mouse.up();
}


describe("web UI in Chromium", { skip: skipWithoutChromium }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  /** A fresh page (its own context: storage, downloads) at base/#hash; fails the test on a page error. */
  async function withPage(base: string, hash: string, fn: (page: Page) => Promise<void>): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 1180, height: 760 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => message.type() === "error" && !/status of 401/.test(message.text()) && errors.push(message.text()));
    try {
      await page.goto(`${base}/#${hash}`);
      await fn(page);
      assert.deepEqual(errors, [], "errors in the page");
    } finally {
      await context.close();
    }
  }

  test("Try with the tiny model: every mark is the API's entity, at UTF-16 offsets", async () => {
    const pipeline = await loadPipeline(join(fixturesDir, "hf", "bert-tiny"), { threads: 1 });
    await withServer({ pipeline, config: { accept: 0.133, review: 0.125 } }, async (base) => {
      const text = "Alice met Bob in Paris. Émile 👋 went to Zürich.";
      const expected = (await (await post(base, "/v1/entities", JSON.stringify({ text, aggregation: "first" }))).json()) as { entities: { type: string; text: string; decision: string }[]; decision: string };
      assert.ok(expected.entities.length > 3, "the tiny model finds entities");
      await withPage(base, "try", async (page) => {
        await page.fill("#try-text", text);
        // first is the default: the request below is the page's own, with nothing chosen.
        assert.equal(await page.inputValue("#try-aggregation"), "first");
        await page.click("#try-form button[type=submit]");
        await page.waitForSelector("#try-view mark");
        assert.equal(await page.textContent("#try-view"), text);
        const marks = await page.$$eval("#try-view mark", (nodes: any[]) => nodes.map((n) => ({ type: n.dataset.type, text: n.textContent, decision: /decision-(\w+)/.exec(n.className)?.[1] })));
        assert.deepEqual(marks, expected.entities.map((e) => ({ type: e.type, text: e.text, decision: e.decision })));
        assert.equal(await page.textContent("#try-decision"), expected.decision);
      });
    });
  });

  test("Try with a fake model: decisions styled, score on hover, text never parsed as HTML", async () => {
    await withServer({}, async (base) => {
      await withPage(base, "try", async (page) => {
        const text = "Alice met Bob in Paris, where Siemens and Zed sent a delegation.";
        await page.fill("#try-text", text);
        await page.press("#try-text", "Control+Enter");
        await page.waitForSelector("#try-view mark");
        assert.equal(await page.textContent("#try-view"), text);
        const marks = await page.$$eval("#try-view mark", (nodes: any[]) => nodes.map((n) => [n.textContent, n.dataset.type, n.className.replace(/ c\d/, ""), n.title]));
        assert.deepEqual(marks, [
          ["Alice", "PER", "entity decision-review", "PER · score 0.860 · review"],
          ["Bob", "PER", "entity decision-review", "PER · score 0.910 · review"],
          ["Paris", "LOC", "entity decision-accept", "LOC · score 0.990 · accept"],
          ["Siemens", "ORG", "entity decision-accept", "ORG · score 0.970 · accept"],
          ["Zed", "MISC", "entity decision-reject", "MISC · score 0.500 · reject"],
        ]);
        assert.equal(await page.textContent("#try-decision"), "review");
        assert.deepEqual(await page.locator("#try-legend .legend-item").allTextContents(), ["PER", "LOC", "ORG", "MISC"]);
        await shot(page, "try");

        const html = "Bob <img src=x onerror=\"document.title='pwned'\"> & <b>Alice</b>";
        await page.fill("#try-text", html);
        await Promise.all([page.waitForResponse((r) => r.url().endsWith("/v1/entities")), page.click("#try-form button[type=submit]")]);
        await page.waitForFunction((t: string) => document.querySelector("#try-view").textContent === t, html);
        assert.equal(await page.locator("#try-view img, #try-view b").count(), 0);
        assert.deepEqual(await page.locator("#try-view mark").allTextContents(), ["Bob", "Alice"]);
        assert.notEqual(await page.title(), "pwned");
      });
    });
  });

  test("Review: a accepts, a type key and } fix another, r rejects; the export holds exactly that", async () => {
    await withServer({}, async (base) => {
      const texts = ["Alice met Bob in Paris.", "Carol joined Acme Corp in Berlin.", "Zed saw Bob."];
      const job = (await (await post(base, "/v1/jobs", texts.map((text) => JSON.stringify({ text })).join("\n"), "application/x-ndjson")).json()) as { id: string };
      for (let i = 0; ((await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as { status: string }).status !== "done"; i++) {
        assert.ok(i < 500, "the job never finished");
        await new Promise((r) => setTimeout(r, 10));
      }
      await withPage(base, "review", async (page) => {
        await page.fill("#review-reviewer", "ann");
        await page.waitForSelector("#review-view mark");
        assert.equal(await page.textContent("#review-view"), texts[0]);
        assert.deepEqual(await page.locator("#review-legend .legend-item").allTextContents(), ["1PER", "2ORG", "3LOC", "4MISC"]);
        await page.focus("#review-view");
        await page.keyboard.press("a");

        await page.waitForFunction((t: string) => document.querySelector("#review-view").textContent === t, texts[1]);
        assert.deepEqual(await page.locator("#review-view mark").allTextContents(), ["Carol", "Acme", "Berlin"]);
        await page.keyboard.press("j"); // Acme
        for (let i = 0; i < " Corp".length; i++) await page.keyboard.press("}");
        await page.keyboard.press("j"); // Berlin
        await page.keyboard.press("3"); // LOC
        assert.deepEqual(await page.locator("#review-view mark").allTextContents(), ["Carol", "Acme Corp", "Berlin"]);
        assert.equal(await page.getAttribute("#review-view mark.selected", "data-type"), "LOC");
        await page.keyboard.press("?");
        assert.ok(await page.isVisible("#help-dialog"));
        await page.keyboard.press("Escape");
        await shot(page, "review");
        await page.keyboard.press("Enter");

        await page.waitForFunction((t: string) => document.querySelector("#review-view").textContent === t, texts[2]);
        await page.keyboard.press("r");
        await page.waitForSelector("#review-item", { state: "hidden" });
        assert.match((await page.textContent("#review-status")) ?? "", /queue is empty/);
        await page.reload();
        assert.equal(await page.inputValue("#review-reviewer"), "ann", "the reviewer's name is remembered");
      });

      const exported = (await (await fetch(`${base}/v1/export?format=jsonl`)).text()).trim().split("\n").map((line) => JSON.parse(line) as { id: string; text: string; spans: object[] });
      assert.deepEqual(
        exported.map(({ text, spans }) => ({ text, spans })),
        [
          { text: texts[0], spans: [{ start: 0, end: 5, label: "PER", text: "Alice" }, { start: 10, end: 13, label: "PER", text: "Bob" }, { start: 17, end: 22, label: "LOC", text: "Paris" }] },
          { text: texts[1], spans: [{ start: 0, end: 5, label: "PER", text: "Carol" }, { start: 13, end: 22, label: "ORG", text: "Acme Corp" }, { start: 26, end: 32, label: "LOC", text: "Berlin" }] },
        ],
      );
      const reviews = exported.map((doc) => doc.id);
      assert.deepEqual(reviews, [`${job.id}:0`, `${job.id}:1`]);
    });
  });

  test("Review: an audit document (auto-accepted, drawn for the audit sample) shows the audit mark; a review document does not", async () => {
    // Rate 1: every auto-accepted document is drawn.
    await withServer({ config: { auditRate: 1, auditSeed: 1, reviewOrder: "fifo" } }, async (base) => {
      const texts = ["Alice met Bob.", "Paris and Siemens."];
      const job = (await (await post(base, "/v1/jobs", texts.map((text) => JSON.stringify({ text })).join("\n"), "application/x-ndjson")).json()) as { id: string };
      for (let i = 0; ((await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as { status: string }).status !== "done"; i++) {
        assert.ok(i < 500, "the job never finished");
        await new Promise((r) => setTimeout(r, 10));
      }
      await withPage(base, "review", async (page) => {
        await page.fill("#review-reviewer", "ann");
        await page.waitForSelector("#review-view mark");
        assert.equal(await page.textContent("#review-view"), texts[0]);
        assert.equal(await page.isVisible("#review-audit"), false);
        await page.focus("#review-view");
        await page.keyboard.press("a");
        await page.waitForFunction((t: string) => document.querySelector("#review-view").textContent === t, texts[1]);
        assert.equal(await page.isVisible("#review-audit"), true);
        assert.equal((await page.textContent("#review-audit"))?.trim(), "audit");
      });
    });
  });

  test("Annotate: mouse selection + type key, a custom type, Alt+} by word, download read by the library", async () => {
    await withServer({}, async (base) => {
      await withPage(base, "annotate", async (page) => {
        const texts = ["Ada Lovelace wrote programs in London.", "Carol joined Acme Corp."];
        await page.fill("#annotate-text", texts.join("\n"));
        await page.check("#annotate-model");
        await page.click("#annotate-form button[type=submit]");
        await page.waitForFunction((t: string) => document.querySelector("#annotate-view").textContent === t, texts[0]);

        await page.fill("#annotate-new-type", "PRODUCT");
        await page.press("#annotate-new-type", "Enter");
        assert.deepEqual(await page.locator("#annotate-legend .legend-item").allTextContents(), ["1PER", "2ORG", "3LOC", "4MISC", "5PRODUCT"]);
        await dragSelect(page, "#annotate-view", 1, 10); // "da Lovela": snapped to "Ada Lovelace"
        await page.keyboard.press("1");
        await dragSelect(page, "#annotate-view", 19, 27); // "programs"
        await page.keyboard.press("5");
        await dragSelect(page, "#annotate-view", 31, 37); // "London"
        await page.keyboard.press("3");
        assert.deepEqual(await page.locator("#annotate-view mark").allTextContents(), ["Ada Lovelace", "programs", "London"]);
        await shot(page, "annotate");

        await page.keyboard.press("n");
        await page.waitForFunction((t: string) => document.querySelector("#annotate-view").textContent === t, texts[1]);
        await page.keyboard.press("j"); // Acme, from the model
        await page.keyboard.press("Alt+}");
        await page.keyboard.press("k"); // Carol
        await page.keyboard.press("Delete");
        assert.deepEqual(await page.locator("#annotate-view mark").allTextContents(), ["Acme Corp"]);

        const [download] = await Promise.all([page.waitForEvent("download"), page.click("#annotate-download")]);
        assert.equal(download.suggestedFilename(), "annotations.jsonl");
        const documents = parseSpanFile(readFileSync((await download.path())!, "utf8"), "jsonl").documents;
        assert.deepEqual(
          documents.map(({ text, spans }) => ({ text, spans })),
          [
            { text: texts[0], spans: [{ start: 0, end: 12, label: "PER" }, { start: 19, end: 27, label: "PRODUCT" }, { start: 31, end: 37, label: "LOC" }] },
            { text: texts[1], spans: [{ start: 13, end: 22, label: "ORG" }] },
          ],
        );
      });
    });
  });

  test("Evaluation: the demo's gold and predicted files give the library's F1; the JSON report shows the same", async () => {
    const expected = evaluateFiles({ gold, pred }).report;
    await withServer({}, async (base) => {
      await withPage(base, "evaluate", async (page) => {
        await page.setInputFiles("#evaluate-gold", gold);
        await page.setInputFiles("#evaluate-pred", pred);
        await page.click("#evaluate-conll-form button[type=submit]");
        await page.waitForSelector("#evaluate-report .figure");
        const f1 = page.locator(".figure[data-metric=f1]");
        assert.equal(await f1.getAttribute("data-value"), String(expected.overall.f1));
        assert.equal(await f1.locator(".figure-value").textContent(), expected.overall.f1.toFixed(4));
        const rows = await page.$$eval("#evaluate-report tr[data-type]", (trs: any[]) => trs.map((tr) => [tr.dataset.type, tr.querySelector(".f1").textContent]));
        assert.deepEqual(rows, [...expected.types].map(([type, s]) => [type, s.f1.toFixed(4)]));
        assert.ok(await page.isVisible("text=Entity types, exact boundaries"));
        await shot(page, "evaluate", true);

        await page.fill("#evaluate-json-text", JSON.stringify(reportJson(expected), null, 2) + "\n"); // as `nerkit evaluate --format json` writes it
        await page.click("#evaluate-json-form button[type=submit]");
        await page.waitForSelector("text=holds no confusion tables");
        assert.equal(await page.getAttribute(".figure[data-metric=f1]", "data-value"), String(expected.overall.f1));
        assert.equal(await page.getAttribute(".figure[data-metric=recall]", "data-value"), String(expected.overall.recall));
      });
    });
  });

  test("API keys: the UI loads without one, asks once, and sends it as a Bearer token", async () => {
    await withServer({ config: { apiKeys: ["s3cret-key"] } }, async (base) => {
      for (const path of ["/", "/ui/app.css", "/ui/js/main.js"]) assert.equal((await fetch(base + path)).status, 200, path);
      assert.equal((await fetch(base + "/v1/labels")).status, 401);
      await withPage(base, "try", async (page) => {
        const sent: (string | undefined)[] = [];
        page.on("request", (request) => request.url().endsWith("/v1/entities") && sent.push(request.headers().authorization));
        await page.fill("#try-text", "Alice met Bob.");
        await page.click("#try-form button[type=submit]");
        await page.waitForSelector("#key-dialog[open]");
        await page.fill("#key-input", "wrong");
        await page.press("#key-input", "Enter");
        await page.waitForFunction(() => /did not accept/.test(document.querySelector("#key-dialog .dialog-message").textContent));
        await page.fill("#key-input", "s3cret-key");
        await page.press("#key-input", "Enter");
        await page.waitForSelector("#try-view mark");
        await Promise.all([page.waitForResponse((r) => r.url().endsWith("/v1/entities")), page.click("#try-form button[type=submit]")]);
        assert.equal(await page.isVisible("#key-dialog"), false, "the key is asked for once");
        assert.deepEqual(sent, [undefined, "Bearer wrong", "Bearer s3cret-key", "Bearer s3cret-key"]);
        assert.equal(await page.evaluate(() => sessionStorage.getItem("nerkit.apiKey")), "s3cret-key");
      });
    });
  });
});

describe("UI routes, in process", () => {
  test("static files: content types, ETag and no-cache, 304, security headers, nothing outside ui/", async () => {
    const app = await buildApp({ pipeline: new FakePipeline() });
    try {
      const index = await app.inject("/");
      assert.equal(index.statusCode, 200);
      assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(index.headers["cache-control"], "no-cache");
      assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
      assert.equal(index.body, readFileSync(join(repoRoot, "ui", "index.html"), "utf8"));
      const etag = String(index.headers.etag);
      assert.equal((await app.inject({ url: "/", headers: { "if-none-match": etag } })).statusCode, 304);
      for (const [path, type] of [["/ui/app.css", "text/css; charset=utf-8"], ["/ui/js/spans.js", "text/javascript; charset=utf-8"], ["/ui/index.html", "text/html; charset=utf-8"]]) {
        const r = await app.inject(path);
        assert.equal(r.statusCode, 200, path);
        assert.equal(r.headers["content-type"], type, path);
        assert.equal(r.headers["x-content-type-options"], "nosniff", path);
      }
      for (const path of ["/ui/../package.json", "/ui/%2e%2e/package.json", "/ui/..%2fpackage.json", "/ui/js", "/ui/js/", "/ui/nope.css", "/ui/index.html%00.js", "/ui/%2Fetc%2Fpasswd.css", "/ui/../src/index.ts"]) {
        const r = await app.inject(path);
        assert.equal(r.statusCode, 404, path);
        assert.equal((r.json() as { error: { code: string } }).error.code, "E_NOT_FOUND", path);
      }
      const docs = (await app.inject("/docs/json")).json() as { paths: Record<string, unknown> };
      assert.ok(docs.paths["/v1/evaluate"] && docs.paths["/v1/labels"]);
      assert.ok(!docs.paths["/"] && !docs.paths["/ui/*"], "the static routes are not in the OpenAPI document");
    } finally {
      await app.close();
    }
  });

  test("GET /v1/labels: the model's entity types in label order", async () => {
    const app = await buildApp({ pipeline: new FakePipeline() });
    try {
      assert.deepEqual((await app.inject("/v1/labels")).json(), { types: ["PER", "ORG", "LOC", "MISC"] });
    } finally {
      await app.close();
    }
  });

  test("POST /v1/evaluate: the evaluate command's report and confusion; clear 400 and 413", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { bodyLimit: 64 * 1024 } });
    try {
      const expected = evaluateFiles({ gold, pred });
      const answer = await app.inject({ method: "POST", url: "/v1/evaluate", payload: { gold: readFileSync(gold, "utf8"), pred: readFileSync(pred, "utf8") } });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json(), { report: reportJson(expected.report), confusion: confusionJson(confusion(expected.gold, expected.pred)) });

      const both = "EU B-ORG B-ORG\nrejects O O\nGerman B-MISC B-LOC\ncall O O\n";
      const strict = await app.inject({ method: "POST", url: "/v1/evaluate", payload: { gold: both, mode: "strict" } });
      assert.equal(strict.statusCode, 200, strict.body);
      assert.equal((strict.json() as { scheme: string; report: { overall: { f1: number } } }).scheme, "IOB2");
      assert.equal((strict.json() as { report: { overall: { f1: number } } }).report.overall.f1, 0.5);
      assert.equal((strict.json() as { warnings?: string[] }).warnings, undefined, "legal gold tags: no warning");

      // seqeval scores gold tags that break the scheme; the answer carries the CLI's warning.
      const illegal = await app.inject({ method: "POST", url: "/v1/evaluate", payload: { gold: "EU O O\nrejects I-ORG I-ORG\ncall O O\n", mode: "strict", scheme: "IOB2" } });
      assert.equal(illegal.statusCode, 200, illegal.body);
      const warnings = (illegal.json() as { warnings?: string[] }).warnings ?? [];
      assert.equal(warnings.length, 1, illegal.body);
      assert.match(warnings[0], /1 transition that IOB2 does not allow, first gold:2/);

      const bad: [object, number, string, RegExp][] = [
        [{}, 400, "E_VALIDATION", /^gold: /],
        [{ gold: "EU B-ORG\n", mode: "lax" }, 400, "E_VALIDATION", /^mode: must be default or strict/],
        [{ gold: "EU B-ORG\n", extra: 1 }, 400, "E_VALIDATION", /unknown field\(s\): extra/],
        [{ gold: "EU B-ORG\n", pred: "US B-ORG\n" }, 400, "E_MISMATCH", /^pred:1: token "US" differs/],
        [{ gold: "EU X-ORG\n", pred: "EU B-ORG\n" }, 400, "E_TAG", /^gold:1: /],
        [{ gold: "x".repeat(70 * 1024) }, 413, "E_BODY_TOO_LARGE", /--body-limit/],
      ];
      for (const [payload, status, code, message] of bad) {
        const r = await app.inject({ method: "POST", url: "/v1/evaluate", payload });
        assert.equal(r.statusCode, status, r.body);
        const error = (r.json() as { error: { code: string; message: string } }).error;
        assert.equal(error.code, code, r.body);
        assert.match(error.message, message);
      }
    } finally {
      await app.close();
    }
  });
});
