// The bounds on what one request and all requests together may ask the model to read
// (src/serve/request-budget.ts): 413 for a text or a request over a per-request bound, 503 with
// Retry-After while the characters in flight are spent, the budget given back however a request ends;
// batch jobs: the same 413 for a text over --max-text-chars, and 413 past --max-job-documents.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FastifyInstance } from "fastify";
import { Entity } from "../src/infer/pipeline.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { ServeConfig, serveConfig } from "../src/serve/config.js";
import { FakePipeline } from "./fake-pipeline.js";
import { nerkitError } from "./helpers.js";
import { postJob } from "./job-routes.js";

/** A pipeline whose runs wait until the test lets them finish, or fail when asked to. */
class HeldPipeline implements PipelineLike {
  private waiting: (() => void)[] = [];
  readonly started: number[] = [];
  fail = false;
  private readonly fake = new FakePipeline();

  async run(texts: readonly string[]): Promise<Entity[][]> {
    this.started.push(texts.length);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.fail) throw new Error("the model failed");
    return this.fake.run(texts);
  }
  releaseAll(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
  async close(): Promise<void> {}
}

async function withApp(pipeline: PipelineLike, config: Partial<ServeConfig>, body: (app: FastifyInstance) => Promise<void>) {
  const app = await buildApp({ pipeline, config: { db: ":memory:", ...config } });
  try {
    await body(app);
  } finally {
    await app.close();
  }
}

const post = (app: FastifyInstance, url: string, payload: object) => app.inject({ method: "POST", url, payload: payload as Record<string, unknown> });

function assertError(response: { statusCode: number; json(): unknown }, status: number, code: string, message: RegExp) {
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(response.statusCode, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
}

test("a text over --max-text-chars is 413 in /v1/entities and /v1/redact; one at the bound is read", async () => {
  const fake = new FakePipeline();
  await withApp(fake, { maxTextChars: 50, maxCharsInFlight: 200 }, async (app) => {
    const long = "Alice ".repeat(9) + "Bob"; // 57 characters
    assertError(await post(app, "/v1/entities", { text: long }), 413, "E_TEXT_TOO_LONG", /57 characters.*at most 50.*--max-text-chars/);
    assertError(await post(app, "/v1/entities", { texts: ["Alice", long] }), 413, "E_TEXT_TOO_LONG", /texts\[1\] has 57/);
    assertError(await post(app, "/v1/redact", { text: long }), 413, "E_TEXT_TOO_LONG", /--max-text-chars/);
    assert.equal(fake.texts.length, 0, "no refused text reached the model");
    const atBound = "Alice ".repeat(7) + "Bob Carl"; // 50 characters
    assert.equal(atBound.length, 50);
    assert.equal((await post(app, "/v1/entities", { text: atBound })).statusCode, 200);
    assert.deepEqual(fake.texts, [atBound]);
  });
});

test("more texts than --max-texts is 413; a request holding more characters than the whole budget is 413", async () => {
  await withApp(new FakePipeline(), { maxTexts: 3, maxTextChars: 10, maxCharsInFlight: 25 }, async (app) => {
    assertError(await post(app, "/v1/entities", { texts: ["a", "b", "c", "d"] }), 413, "E_TOO_MANY_TEXTS", /4 texts.*at most 3.*--max-texts/);
    assertError(await post(app, "/v1/entities", { texts: ["Alice abcd", "Bob abcdef", "Carla abcd"] }), 413, "E_REQUEST_TOO_LARGE", /30 characters.*--max-chars-in-flight/);
    assert.equal((await post(app, "/v1/entities", { texts: ["a", "b", "c"] })).statusCode, 200);
  });
});

test("the in-flight budget: 503 with Retry-After while it is spent, given back when a request ends, even in failure", async () => {
  const held = new HeldPipeline();
  await withApp(held, { maxTextChars: 100, maxCharsInFlight: 100, maxWaitMs: 0 }, async (app) => {
    const first = post(app, "/v1/entities", { text: "A".repeat(70) });
    while (held.started.length === 0) await new Promise((r) => setTimeout(r, 5));
    const refused = await post(app, "/v1/entities", { text: "B".repeat(40) });
    assertError(refused, 503, "E_OVERLOADED", /reading 70 characters.*--max-chars-in-flight 100/);
    assert.equal(refused.headers["retry-after"], "1");
    // What fits beside the first is admitted.
    const second = post(app, "/v1/entities", { text: "C".repeat(30) });
    held.releaseAll();
    assert.equal((await first).statusCode, 200);
    while (held.started.length < 2) await new Promise((r) => setTimeout(r, 5));
    held.fail = true;
    held.releaseAll();
    assert.equal((await second).statusCode, 500, "the second run failed");
    // Both gave their characters back: the whole budget is free again.
    held.fail = false;
    const whole = post(app, "/v1/entities", { text: "D".repeat(100) });
    while (held.started.length < 3) await new Promise((r) => setTimeout(r, 5));
    held.releaseAll();
    assert.equal((await whole).statusCode, 200);
  });
});

test("start-up refuses limits that cannot work together", () => {
  assert.match(nerkitError(() => serveConfig({ maxTextChars: 1000, maxCharsInFlight: 999 }), "E_USAGE").message, /maxCharsInFlight \(999\) must be at least maxTextChars \(1000\)/);
  assert.match(nerkitError(() => serveConfig({ headersTimeoutMs: 2000, requestTimeoutMs: 1000 }), "E_USAGE").message, /headersTimeoutMs/);
  for (const key of ["maxTextChars", "maxJobDocuments", "maxCharsInFlight", "requestTimeoutMs", "headersTimeoutMs", "keepAliveTimeoutMs", "maxConnections"] as const) {
    assert.match(nerkitError(() => serveConfig({ [key]: 0 }), "E_USAGE").message, new RegExp(`${key} must be a positive integer`));
  }
});

test("a batch job with a text over --max-text-chars, or more documents than --max-job-documents, is 413 and stores nothing", async () => {
  const fake = new FakePipeline();
  await withApp(fake, { maxTextChars: 50, maxCharsInFlight: 200, maxJobDocuments: 3 }, async (app) => {
    const long = "Alice ".repeat(9) + "Bob"; // 57 characters
    assertError(await postJob(app, ["Alice", long]), 413, "E_TEXT_TOO_LONG", /^line 2: the text has 57 characters; the server reads at most 50 per text \(--max-text-chars\)/);
    assertError(await postJob(app, ["a", "b", "c", "d", "e"]), 413, "E_TOO_MANY_DOCUMENTS", /the job holds 5 documents; the server takes at most 3 per job \(--max-job-documents\)/);
    const listed = await app.inject("/v1/jobs");
    assert.deepEqual(listed.json(), { jobs: [] }, "no refused job was stored");
    // At both bounds the job is taken.
    const atBound = "Alice ".repeat(7) + "Bob Carl";
    assert.equal(atBound.length, 50);
    const taken = await postJob(app, ["Alice", atBound, "Bob"]);
    assert.equal(taken.statusCode, 202, taken.body);
  });
  assert.equal(serveConfig({}).maxJobDocuments, 100_000);
});
