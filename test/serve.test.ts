// The HTTP service, in process (app.inject, no socket): the entities endpoint on the tiny BERT of
// the fixtures, validation and error bodies, API keys, health, metrics, docs, micro-batching and
// the bounded queue (with a fake pipeline whose calls we count), plus the CLI's clean shutdown.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { FastifyInstance } from "fastify";
import { DEFAULT_READING, Entity, NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { BuildAppOptions, PipelineLike, buildApp } from "../src/serve/app.js";
import { typeThreshold } from "../src/cli/options.js";
import { MicroBatcher, QueueFullError } from "../src/serve/micro-batcher.js";
import { ApiEntityBody } from "../src/serve/schemas.js";
import { fixturesDir } from "./helpers.js";
import { spawnNerkit } from "./processes.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");

type ApiEntity = ApiEntityBody;
interface ApiDocument {
  entities: ApiEntity[];
  decision: string;
}

/** A pipeline that finds each capitalised word, with scores and types from `scores` and `types` (by word; PER and 0.99 otherwise), counting its calls. */
class FakePipeline implements PipelineLike {
  calls: string[][] = [];
  closed = false;
  gate: Promise<void> | undefined;
  constructor(
    readonly scores: Record<string, number> = {},
    readonly delayMs = 0,
    readonly types: Record<string, string> = {},
  ) {}
  async run(texts: readonly string[]): Promise<Entity[][]> {
    this.calls.push([...texts]);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.gate) await this.gate;
    return texts.map((text) =>
      [...text.matchAll(/\p{Lu}\p{Ll}*/gu)].map((m) => ({ type: this.types[m[0]] ?? "PER", text: m[0], start: m.index, end: m.index + m[0].length, score: this.scores[m[0]] ?? 0.99, word: m[0] })),
    );
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function post(app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "POST", url: "/v1/entities", payload: payload as object, headers });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

function assertError(response: { status: number; body: unknown }, status: number, code: string, messagePart?: RegExp) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const body = response.body as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  if (messagePart) assert.match(body.error.message, messagePart);
}

async function withApp(options: BuildAppOptions, fn: (app: FastifyInstance) => Promise<void>): Promise<void> {
  const app = await buildApp(options);
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

describe("serve with the tiny model", () => {
  let pipeline: NerPipeline;
  let app: FastifyInstance;
  // review 0: every entity of the untrained tiny model is accepted or reviewed, never rejected.
  before(async () => {
    pipeline = await loadPipeline(tinyDir, { threads: 1 });
    app = await buildApp({ pipeline, config: { accept: 0.13, review: 0 } });
  });
  after(async () => {
    await app.close();
  });

  test("one text: entities whose offsets slice the text, each with a decision", async () => {
    const text = "Angela Merkel visited Paris and met Emmanuel Macron.";
    const { status, body } = await post(app, { text });
    assert.equal(status, 200);
    const doc = body as ApiDocument;
    assert.ok(doc.entities.length > 0);
    for (const e of doc.entities) {
      assert.equal(text.slice(e.start, e.end), e.text);
      assert.deepEqual(Object.keys(e).sort(), ["decision", "end", "score", "start", "text", "type"]);
      assert.equal(e.decision, e.score >= 0.13 ? "accept" : "review");
    }
    assert.equal(doc.decision, doc.entities.some((e) => e.decision === "review") ? "review" : "accept");
  });

  test("several texts: one document each, in order, equal to the library's entities", async () => {
    const texts = ["Berlin is in Germany.", "Tokyo 東京 is big 🎉 and Lyon too."];
    const { status, body } = await post(app, { texts });
    assert.equal(status, 200);
    const docs = (body as { documents: ApiDocument[] }).documents;
    assert.equal(docs.length, 2);
    const expected = await pipeline.run(texts, DEFAULT_READING); // what the service reads with by default
    docs.forEach((doc, i) => {
      assert.deepEqual(
        doc.entities.map(({ decision: _d, ...e }) => e),
        (expected[i] as Entity[]).map(({ word: _w, ...e }) => e),
      );
      for (const e of doc.entities) assert.equal(texts[i].slice(e.start, e.end), e.text);
    });
  });

  test("aggregation: none gives one item per token with its label; first/average/max answer", async () => {
    const text = "Angela Merkel visited Paris.";
    const none = (await post(app, { text, aggregation: "none" })).body as ApiDocument;
    assert.ok(none.entities.length > 0);
    for (const e of none.entities) {
      assert.match(e.label!, /^[BI]-/);
      assert.equal(e.type, e.label!.slice(2));
    }
    for (const aggregation of ["first", "average", "max"]) {
      const r = await post(app, { text, aggregation });
      assert.equal(r.status, 200);
      for (const e of (r.body as ApiDocument).entities) assert.equal(text.slice(e.start, e.end), e.text);
    }
    assertError(await post(app, { text, aggregation: "mean" }), 400, "E_VALIDATION", /aggregation: must be one of none, simple, first, average, max/);
  });

  test("labels keeps only the types asked for", async () => {
    const text = "Angela Merkel visited Paris and met Emmanuel Macron in Berlin.";
    const all = (await post(app, { text })).body as ApiDocument;
    const types = [...new Set(all.entities.map((e) => e.type))];
    assert.ok(types.length >= 2, "the tiny model should give several types here");
    const kept = (await post(app, { text, labels: [types[0]] })).body as ApiDocument;
    assert.deepEqual(kept.entities, all.entities.filter((e) => e.type === types[0]));
  });

  test("regression: lone surrogates in the text do not crash the server", async () => {
    for (const text of ["Paris \ud800 London", "\udc00Berlin", "Rome \ud83d"]) {
      const { status, body } = await post(app, { texts: [text, "ok Paris"] });
      assert.equal(status, 200, JSON.stringify(body));
      for (const e of (body as { documents: ApiDocument[] }).documents[0].entities) assert.equal(text.slice(e.start, e.end), e.text);
    }
  });

  test("validation errors are 400 with a code and a message that names the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ text: "" }, /text: must not be empty/],
      [{ text: 5 }, /text: must be a string/],
      [{ texts: [] }, /texts: must hold at least one text/],
      [{ texts: ["a", ""] }, /texts\[1\]: must not be empty/],
      [{ texts: "abc" }, /texts: must be an array/],
      [{ text: "a", texts: ["b"] }, /exactly one of 'text' or 'texts'/],
      [{}, /exactly one of 'text' or 'texts'/],
      [{ text: "a", colour: "red" }, /unknown field\(s\): colour/],
      [[1, 2], /JSON object/],
      [{ text: "a", labels: "PER" }, /labels: must be an array/],
    ];
    for (const [payload, message] of cases) assertError(await post(app, payload), 400, "E_VALIDATION", message);
    const invalid = await app.inject({ method: "POST", url: "/v1/entities", payload: '{"text": "a"', headers: { "content-type": "application/json" } });
    assertError({ status: invalid.statusCode, body: invalid.json() }, 400, "E_INVALID_JSON", /not valid JSON/);
    const empty = await app.inject({ method: "POST", url: "/v1/entities", payload: "", headers: { "content-type": "application/json" } });
    assertError({ status: empty.statusCode, body: empty.json() }, 400, "E_VALIDATION", /empty/);
    const plain = await app.inject({ method: "POST", url: "/v1/entities", payload: "hello", headers: { "content-type": "text/plain" } });
    assertError({ status: plain.statusCode, body: plain.json() }, 415, "E_MEDIA_TYPE");
    const missing = await app.inject({ method: "GET", url: "/v2/nothing" });
    assertError({ status: missing.statusCode, body: missing.json() }, 404, "E_NOT_FOUND", /GET \/v2\/nothing/);
  });

  test("health, readiness, metrics and the OpenAPI documents", async () => {
    assert.deepEqual((await app.inject("/healthz")).json(), { status: "ok" });
    assert.deepEqual((await app.inject("/readyz")).json(), { status: "ready" });
    await post(app, { text: "Angela Merkel visited Paris." });
    const metrics = await app.inject("/metrics");
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.headers["content-type"] as string, /text\/plain/);
    assert.match(metrics.body, /nerkit_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/entities",status="200"\}/);
    assert.match(metrics.body, /nerkit_documents_total\{source="entities"\} [1-9]/);
    assert.match(metrics.body, /nerkit_entities_total\{type="[A-Z]+"\} [1-9]/);
    assert.match(metrics.body, /nerkit_routing_decisions_total\{level="document",decision="(accept|review)"\} [1-9]/);
    assert.match(metrics.body, /nerkit_batch_size_count [1-9]/);
    const spec = (await app.inject("/docs/json")).json() as { openapi: string; paths: Record<string, unknown> };
    assert.match(spec.openapi, /^3\./);
    assert.ok(spec.paths["/v1/entities"] && spec.paths["/healthz"] && spec.paths["/metrics"]);
    // The job and review routes are documented with their parameters, bodies and answers.
    const paths = spec.paths as Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown; responses: Record<string, unknown> }>>;
    assert.deepEqual(Object.keys(paths["/v1/jobs/{id}"].get.responses).sort(), ["200", "401", "404", "503"]);
    assert.deepEqual(paths["/v1/jobs/{id}/results"].get.parameters!.map((p) => p.name).sort(), ["id", "limit", "offset"]);
    assert.ok(paths["/v1/review/{id}"].post.requestBody && paths["/v1/review"].get.responses["200"] && paths["/v1/export"].get.parameters!.some((p) => p.name === "format"));
    const ui = await app.inject("/docs");
    assert.ok(ui.statusCode === 200 || ui.statusCode === 302, String(ui.statusCode));
  });
});

describe("serve with a fake pipeline", () => {
  test("routing: accept, review and reject per entity; a document with a review goes to review", async () => {
    const fake = new FakePipeline({ Alice: 0.99, Bob: 0.9, Carol: 0.5, Dave: 0.96 });
    await withApp({ pipeline: fake, config: { accept: 0.95, review: 0.8 } }, async (app) => {
      const { body } = await post(app, { texts: ["Alice met Bob and Carol", "Alice and Dave", "Carol alone"] });
      const docs = (body as { documents: ApiDocument[] }).documents;
      assert.deepEqual(docs[0].entities.map((e) => [e.text, e.decision]), [["Alice", "accept"], ["Bob", "review"], ["Carol", "reject"]]);
      assert.deepEqual(docs.map((d) => d.decision), ["review", "accept", "accept"]);
      const metrics = (await app.inject("/metrics")).body;
      assert.match(metrics, /nerkit_routing_decisions_total\{level="entity",decision="reject"\} 2/);
      assert.match(metrics, /nerkit_routing_decisions_total\{level="document",decision="review"\} 1/);
    });
    await withApp({ pipeline: fake, config: { accept: 0.5, review: 0.4 } }, async (app) => {
      const doc = (await post(app, { text: "Carol" })).body as ApiDocument;
      assert.equal(doc.entities[0].decision, "accept");
    });
  });

  test("routing per type: a type's own thresholds, the global ones for the rest; bad ones refused", async () => {
    const fake = new FakePipeline({ Alice: 0.9, Bob: 0.9, Carol: 0.6 }, 0, { Bob: "ORG", Carol: "MONEY" });
    await withApp({ pipeline: fake, config: { accept: 0.95, review: 0.8, perType: { ORG: { accept: 0.85 }, MONEY: { accept: 0.99, review: 0.5 } } } }, async (app) => {
      const doc = (await post(app, { text: "Alice met Bob for Carol" })).body as ApiDocument;
      assert.deepEqual(doc.entities.map((e) => [e.text, e.type, e.decision]), [["Alice", "PER", "review"], ["Bob", "ORG", "accept"], ["Carol", "MONEY", "review"]]);
    });
    await assert.rejects(buildApp({ pipeline: fake, config: { perType: { ORG: { accept: 0.5, review: 0.7 } } } }), /review threshold \(0\.7\) must not exceed accept threshold \(0\.5\)/);
  });

  test("API keys: 401 without or with a wrong key; Bearer and x-api-key pass; health stays open", async () => {
    await withApp({ pipeline: new FakePipeline(), config: { apiKeys: ["k-one", "k-two"] } }, async (app) => {
      assertError(await post(app, { text: "Alice" }), 401, "E_UNAUTHORIZED", /API key is required/);
      assertError(await post(app, { text: "Alice" }, { authorization: "Bearer nope" }), 401, "E_UNAUTHORIZED", /not valid/);
      assert.equal((await post(app, { text: "Alice" }, { authorization: "Bearer k-one" })).status, 200);
      assert.equal((await post(app, { text: "Alice" }, { "x-api-key": "k-two" })).status, 200);
      for (const url of ["/metrics", "/docs/json", "/nowhere"]) assert.equal((await app.inject(url)).statusCode, 401, url);
      assert.equal((await app.inject({ url: "/metrics", headers: { "x-api-key": "k-one" } })).statusCode, 200);
      for (const url of ["/healthz", "/readyz"]) assert.equal((await app.inject(url)).statusCode, 200, url);
    });
  });

  test("oversize body: 413 with the error shape", async () => {
    await withApp({ pipeline: new FakePipeline(), config: { bodyLimit: 1000 } }, async (app) => {
      assertError(await post(app, { text: "a".repeat(2000) }), 413, "E_BODY_TOO_LARGE", /limit/);
      assert.equal((await post(app, { text: "a".repeat(500) })).status, 200);
    });
  });

  test("readiness: 503 while the model loads, 200 once loaded; entities wait for it with 503", async () => {
    let loaded!: (p: PipelineLike) => void;
    const fake = new FakePipeline();
    await withApp({ pipeline: new Promise<PipelineLike>((resolve) => (loaded = resolve)) }, async (app) => {
      assert.equal((await app.inject("/healthz")).statusCode, 200);
      const notReady = await app.inject("/readyz");
      assertError({ status: notReady.statusCode, body: notReady.json() }, 503, "E_NOT_READY", /loading/);
      assertError(await post(app, { text: "Alice" }), 503, "E_NOT_READY");
      loaded(fake);
      await new Promise((r) => setImmediate(r));
      assert.equal((await app.inject("/readyz")).statusCode, 200);
      assert.equal((await post(app, { text: "Alice" })).status, 200);
    });
    assert.ok(fake.closed, "closing the app releases the pipeline");
  });

  test("micro-batching through the app: 10 concurrent requests share a few pipeline runs", async () => {
    const fake = new FakePipeline({}, 20);
    await withApp({ pipeline: fake, config: { maxBatch: 4, maxWaitMs: 10 } }, async (app) => {
      const texts = Array.from({ length: 10 }, (_, i) => `Name${"abcdefghij"[i]} here`);
      const responses = await Promise.all(texts.map((text) => post(app, { text })));
      responses.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal((r.body as ApiDocument).entities[0].text, texts[i].split(" ")[0]);
      });
      assert.ok(fake.calls.length < 10, `${fake.calls.length} runs`);
      assert.ok(fake.calls.every((c) => c.length <= 4));
      assert.deepEqual(fake.calls.flat().sort(), [...texts].sort());
    });
  });

  test("queue full: 503 with Retry-After instead of a longer queue", async () => {
    const fake = new FakePipeline();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    await withApp({ pipeline: fake, config: { maxBatch: 2, maxWaitMs: 0, maxQueue: 3 } }, async (app) => {
      const running = post(app, { texts: ["Alice", "Bob"] });
      while (fake.calls.length === 0) await new Promise((r) => setTimeout(r, 1));
      const queued = post(app, { texts: ["Carol", "Dave", "Eve"] });
      await new Promise((r) => setTimeout(r, 5));
      const refused = await post(app, { text: "Frank" });
      assertError(refused, 503, "E_OVERLOADED", /busy/);
      assert.match(String(refused.headers["retry-after"]), /^[1-9]\d*$/);
      open();
      assert.equal((await running).status, 200);
      assert.equal((await queued).status, 200);
      assert.equal((await post(app, { text: "Frank" })).status, 200);
    });
  });
});

describe("MicroBatcher", () => {
  const settings = { maxBatch: 4, maxWaitMs: 5, maxQueue: 100, key: (o: { k: string }) => o.k };

  test("gathers concurrent submissions into batches of at most maxBatch, results in order", async () => {
    const calls: string[][] = [];
    const batcher = new MicroBatcher<{ k: string }, string>(async (texts) => (calls.push(texts), texts.map((t) => t.toUpperCase())), settings);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit([`t${i}`], { k: "a" })));
    assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => [`T${i}`]));
    assert.deepEqual(calls.map((c) => c.length), [4, 4, 2]);
  });

  test("a request's texts may span runs; different options never share a run", async () => {
    const calls: [string, string[]][] = [];
    const batcher = new MicroBatcher<{ k: string }, string>(async (texts, o) => (calls.push([o.k, texts]), texts.map((t) => `${o.k}:${t}`)), settings);
    const [a, b, c] = await Promise.all([batcher.submit(["1", "2", "3"], { k: "x" }), batcher.submit(["4"], { k: "y" }), batcher.submit(["5", "6"], { k: "x" })]);
    assert.deepEqual([a, b, c], [["x:1", "x:2", "x:3"], ["y:4"], ["x:5", "x:6"]]);
    for (const [k, texts] of calls) assert.ok(texts.length <= 4 && texts.every((t) => (k === "y") === (t === "4")));
    assert.deepEqual(calls.map(([k]) => k).sort(), ["x", "x", "y"]);
  });

  test("the wait is bounded: a lone text runs after about maxWaitMs", async () => {
    const batcher = new MicroBatcher<{ k: string }, string>(async (texts) => texts, { ...settings, maxWaitMs: 30 });
    const started = performance.now();
    await batcher.submit(["x"], { k: "a" });
    const ms = performance.now() - started;
    assert.ok(ms >= 25 && ms < 500, `${ms} ms`);
  });

  test("a failing run rejects every text of its batch, and the next batch runs", async () => {
    let fail = true;
    const batcher = new MicroBatcher<{ k: string }, string>(async (texts) => {
      if (fail) throw new Error("boom");
      return texts;
    }, settings);
    await Promise.all([assert.rejects(batcher.submit(["a"], { k: "a" }), /boom/), assert.rejects(batcher.submit(["b"], { k: "a" }), /boom/)]);
    fail = false;
    assert.deepEqual(await batcher.submit(["c"], { k: "a" }), ["c"]);
  });

  test("more than maxQueue waiting texts: QueueFullError with a retry delay", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const batcher = new MicroBatcher<{ k: string }, string>(async (texts) => (await gate, texts), { ...settings, maxBatch: 1, maxWaitMs: 0, maxQueue: 2 });
    const first = batcher.submit(["1"], { k: "a" });
    await new Promise((r) => setTimeout(r, 5));
    const waiting = batcher.submit(["2", "3"], { k: "a" });
    assert.equal(batcher.waiting, 2);
    assert.throws(() => batcher.submit(["4"], { k: "a" }), (e) => e instanceof QueueFullError && e.retryAfterSeconds >= 1);
    open();
    assert.deepEqual([await first, await waiting], [["1"], ["2", "3"]]);
    await batcher.drain();
    assert.equal(batcher.waiting, 0);
  });
});

test("nerkit serve listens, answers, and exits 0 on SIGTERM", async () => {
  const server = spawnNerkit(["serve", "--model", tinyDir, "--port", "0", "--no-log", "--threads", "1"]);
  const [, address] = await server.waitFor(/listening on (\S+)/);
  await server.waitFor(/model loaded, ready/);
  const response = await fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "Angela Merkel visited Paris." }) });
  assert.equal(response.status, 200);
  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0, server.stderr());
  assert.match(server.stderr(), /SIGTERM: closing/);
});

describe("POST /v1/redact", () => {
  test("model entities and rule detections replaced; offsets refer to the original text", async () => {
    const pipeline = new FakePipeline();
    await withApp({ pipeline, config: { redactSalt: "pepper" } }, async (app) => {
      const text = "😀 Write to Maria at maria@example.com or call +44 20 7946 0958.";
      const typed = await app.inject({ method: "POST", url: "/v1/redact", payload: { text } });
      assert.equal(typed.statusCode, 200, typed.body);
      const body = typed.json() as { text: string; replacements: { type: string; start: number; end: number; replacement: string }[] };
      assert.equal(body.text, "😀 [PER] to [PER] at [EMAIL] or call [PHONE].");
      for (const r of body.replacements) assert.ok(r.end > r.start && r.end <= text.length);
      assert.deepEqual(body.replacements.map((r) => text.slice(r.start, r.end)), ["Write", "Maria", "maria@example.com", "+44 20 7946 0958"]);

      const onlyEmail = (await app.inject({ method: "POST", url: "/v1/redact", payload: { text, types: ["EMAIL"], style: "mask" } })).json() as { text: string };
      assert.equal(onlyEmail.text, `😀 Write to Maria at ${"█".repeat(17)} or call +44 20 7946 0958.`);
      const hashed = (await app.inject({ method: "POST", url: "/v1/redact", payload: { text, types: ["PER"], style: "hash" } })).json() as { text: string };
      const again = (await app.inject({ method: "POST", url: "/v1/redact", payload: { text, types: ["PER"], style: "hash" } })).json() as { text: string };
      assert.match(hashed.text, /\[PER:[0-9a-f]{10}\] to \[PER:[0-9a-f]{10}\]/);
      assert.equal(hashed.text, again.text);
    });
  });

  test("hash without a salt and bad bodies are 400 with a JSON error", async () => {
    await withApp({ pipeline: new FakePipeline(), config: {} }, async (app) => {
      const noSalt = await app.inject({ method: "POST", url: "/v1/redact", payload: { text: "Maria", style: "hash" } });
      assertError({ status: noSalt.statusCode, body: noSalt.json() }, 400, "E_VALIDATION", /salt/);
      const bad = await app.inject({ method: "POST", url: "/v1/redact", payload: { text: "", style: "blur" } });
      assertError({ status: bad.statusCode, body: bad.json() }, 400, "E_VALIDATION", /text: must not be empty.*style: must be one of mask, type, hash/);
    });
  });
});

test("--threshold TYPE=ACCEPT[:REVIEW] accumulates per-type thresholds; malformed values are usage errors", () => {
  const once = typeThreshold("PER=0.9:0.7");
  assert.deepEqual(typeThreshold("MONEY=0.99", once), { PER: { accept: 0.9, review: 0.7 }, MONEY: { accept: 0.99 } });
  assert.throws(() => typeThreshold("PER"), /TYPE=ACCEPT or TYPE=ACCEPT:REVIEW/);
  assert.throws(() => typeThreshold("PER=1.5"), /--threshold PER accept expects a number between 0 and 1, got '1.5'/);
});
