// The service reads the whole text (the report: on a 1,186-character text, names after offset ~200
// stayed in clear while an e-mail at the end was redacted). On a text about twenty times the tiny
// model's 64-token window, /v1/entities, /v1/redact and a batch job find and replace entities to the
// end, as the library does with its whole-text reading and unlike transformers' first window;
// redaction falls on word boundaries; /v1/redact takes `aggregation`; and a text ending in a space,
// where RoBERTa's pipeline labels an empty token at [n, n), is redacted, not refused.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { FastifyInstance } from "fastify";
import { DEFAULT_READING, Entity, NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { buildApp } from "../src/serve/app.js";
import { onWordBoundary, wordSpans } from "../src/text/words.js";
import { fixturesDir } from "./helpers.js";

interface Replacement {
  type: string;
  start: number;
  end: number;
  replacement: string;
}

const text = Array.from({ length: 24 }, (_, i) => `Dario Wu met Angela Lindqvist in Zürich on day ${i}.`).join(" ") + " Mail dario@example.com";

describe("the service reads the whole text", () => {
  let pipeline: NerPipeline;
  let app: FastifyInstance;
  let whole: Entity[];
  let firstWindowEnd: number;
  before(async () => {
    pipeline = await loadPipeline(join(fixturesDir, "hf", "bert-tiny"), { threads: 1 });
    app = await buildApp({ pipeline, config: { accept: 0.13, review: 0 } });
    [whole] = (await pipeline.run([text], DEFAULT_READING)) as Entity[][];
    const [cut] = (await pipeline.run([text], { ...DEFAULT_READING, windows: "hf" })) as Entity[][];
    firstWindowEnd = Math.max(...cut.map((e) => e.end));
  });
  after(async () => app?.close());

  test("the text is longer than one window, and the library's whole reading finds entities to its end", () => {
    assert.ok(text.length > 1186);
    assert.ok(firstWindowEnd < 400, `the first window ends at ${firstWindowEnd}`);
    assert.ok(whole.some((e) => e.start > text.length - 100), "an entity in the last 100 characters");
  });

  test("/v1/entities: the library's whole-text entities, with aggregation first by default", async () => {
    const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { text } });
    assert.equal(r.statusCode, 200, r.body);
    const entities = (r.json() as { entities: (Entity & { decision: string })[] }).entities;
    assert.deepEqual(
      entities.map(({ decision: _d, ...e }) => e),
      whole.map(({ word: _w, ...e }) => e),
    );
  });

  test("/v1/redact: every entity of the whole text replaced, on word boundaries, the e-mail at the end too", async () => {
    const r = await app.inject({ method: "POST", url: "/v1/redact", payload: { text } });
    assert.equal(r.statusCode, 200, r.body);
    const { replacements, text: redacted } = r.json() as { text: string; replacements: Replacement[] };
    for (const e of whole) assert.ok(replacements.some((x) => x.start <= e.start && e.end <= x.end), `${e.type} ${JSON.stringify(e.text)} at ${e.start} left in clear`);
    assert.ok(replacements.some((x) => x.type !== "EMAIL" && x.start > firstWindowEnd + 500), "a model entity replaced far past the first window");
    assert.deepEqual(replacements[replacements.length - 1], { type: "EMAIL", start: text.length - 17, end: text.length, replacement: "[EMAIL]" });
    assert.ok(redacted.endsWith(" [EMAIL]"), redacted.slice(-40));
    const words = wordSpans(text);
    for (const x of replacements) assert.ok(onWordBoundary(words, x.start) && onWordBoundary(words, x.end), JSON.stringify(x));
  });

  test("/v1/redact takes aggregation: first by default, any strategy on request, a bad one refused", async () => {
    const ask = async (payload: object) => {
      const r = await app.inject({ method: "POST", url: "/v1/redact", payload: { text, rules: false, ...payload } });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as { text: string; replacements: Replacement[] };
    };
    assert.deepEqual(await ask({}), await ask({ aggregation: "first" }));
    for (const aggregation of ["none", "simple", "average", "max"]) {
      const { replacements } = await ask({ aggregation });
      assert.ok(replacements.length > 0 && replacements.every((x, i) => i === 0 || replacements[i - 1].end < x.start), aggregation);
    }
    const bad = await app.inject({ method: "POST", url: "/v1/redact", payload: { text, aggregation: "mean" } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /aggregation: must be one of none, simple, first, average, max/);
  });

  test("a batch job reads the whole text too", async () => {
    const created = await app.inject({ method: "POST", url: "/v1/jobs", payload: JSON.stringify({ text }) + "\n", headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json() as { id: string };
    let status = "";
    for (let i = 0; i < 2000 && status !== "done"; i++) {
      status = ((await app.inject(`/v1/jobs/${id}`)).json() as { status: string }).status;
      if (status !== "done") await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(status, "done");
    const [result] = (await app.inject(`/v1/jobs/${id}/results`)).body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { entities: (Entity & { decision: string })[] });
    assert.deepEqual(
      result.entities.map(({ decision: _d, ...e }) => e),
      whole.map(({ word: _w, ...e }) => e),
    );
  });
});

test("/v1/redact on a text ending in a space with RoBERTa (an empty token entity) answers 200", async () => {
  const pipeline = await loadPipeline(join(fixturesDir, "hf", "roberta-tiny"), { threads: 1 });
  const app = await buildApp({ pipeline });
  try {
    const [items] = await pipeline.run(["Dario "], { aggregation: "simple" });
    assert.ok(items.some((e) => e.start === e.end), "the pipeline gives an empty entity here");
    const r = await app.inject({ method: "POST", url: "/v1/redact", payload: { text: "Dario ", aggregation: "simple", rules: false } });
    assert.equal(r.statusCode, 200, r.body);
    assert.match((r.json() as { text: string }).text, /^\[[A-Z]+\] $/);
  } finally {
    await app.close();
  }
});
