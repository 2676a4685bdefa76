// calibration.json is applied by every command that loads the model, as the library applies it
// (calibration-apply.test.ts checks the library against transformers' logits): `nerkit predict`
// (and --no-calibration), the service in process (/v1/entities routes on the calibrated score,
// /v1/labels describes the calibration, batch-job results store raw_score, the review queue shows
// them), `nerkit serve` and `nerkit worker` as processes (a job through a real Redis), `nerkit
// export` then predict on the export; and a bad calibration.json is a clear error naming the file
// and the field wherever the model loads. The model is the tiny BERT of the fixtures at T = 0.5
// (its near-uniform scores, about 0.13, rise by about 0.02: enough to cross a threshold).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { NerkitError } from "../src/errors.js";
import { exportModel } from "../src/model/export/export-model.js";
import { join } from "node:path";
import { Entity, NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { decide } from "../src/postprocess/routing.js";
import { buildApp, PipelineLike } from "../src/serve/app.js";
import { calibratedModel, temperatureCalibration, writeCalibration } from "./calibration-cases.js";
import { nerkit, tempDir } from "./helpers.js";
import { submitJob } from "./job-routes.js";
import { spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const T = 0.5;
const TEXTS = ["Peter Blackburn visited Brussels with the EU delegation.", "German officials met Dario Wu in Zürich on Thursday."];
const model = calibratedModel("bert", temperatureCalibration(T));

interface Scored {
  type: string;
  start: number;
  end: number;
  score: number;
  raw_score?: number;
  decision?: string;
}

let library: NerPipeline;
let expected: Entity[][];
before(async () => {
  library = await loadPipeline(model, { threads: 1 });
  expected = (await library.run(TEXTS)) as Entity[][];
  assert.ok(expected.flat().length >= 4, "the tiny model finds entities");
  assert.ok(expected.flat().every((e) => e.raw_score !== undefined && e.score !== e.raw_score), "the library applies the calibration");
});
after(async () => library?.close());

/** An entity as the commands print it, for comparison with the library's: no word, no decision. */
const shape = (e: Scored) => ({ type: e.type, start: e.start, end: e.end, score: e.score, raw_score: e.raw_score });
const expectedShapes = () => expected.map((list) => list.map(shape));

function predictLines(args: string[]): { stdout: Scored[][]; stderr: string } {
  const run = nerkit(["predict", "--threads", "1", ...args], TEXTS.join("\n") + "\n");
  assert.equal(run.code, 0, run.stderr);
  return { stdout: run.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { entities: Scored[] }).entities), stderr: run.stderr };
}

test("nerkit predict: score calibrated and raw_score in each JSON line, as the library gives them; --no-calibration: raw scores, no raw_score", () => {
  const calibrated = predictLines(["--model", model]);
  assert.deepEqual(calibrated.stdout.map((list) => list.map(shape)), expectedShapes());
  assert.deepEqual(Object.keys(calibrated.stdout[0][0]), ["type", "text", "start", "end", "score", "raw_score"]);
  assert.match(calibrated.stderr, /applying .*calibration\.json \(temperature 0\.5/);
  const raw = predictLines(["--model", model, "--no-calibration"]);
  assert.deepEqual(raw.stdout.map((list) => list.map(shape)), expected.map((list) => list.map((e) => ({ ...shape(e), score: e.raw_score!, raw_score: undefined }))));
  assert.ok(raw.stdout.flat().every((e) => !("raw_score" in e)));
  assert.doesNotMatch(raw.stderr, /calibration/);
});

test("nerkit export copies calibration.json; predict on the export scores as on the original", () => {
  const out = tempDir("nerkit-export-calibrated-");
  const run = nerkit(["export", "--model", model, "--out", out]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^ {2}calibration\.json$/m);
  assert.equal(readFileSync(join(out, "calibration.json"), "utf8"), readFileSync(join(model, "calibration.json"), "utf8"));
  assert.deepEqual(predictLines(["--model", out]).stdout.map((list) => list.map(shape)), expectedShapes());
});

test("a bad calibration.json is an error naming the file and the field: predict and serve (exit 2), export and the library", async () => {
  const bad = calibratedModel("bert", { ...JSON.parse(readFileSync(join(model, "calibration.json"), "utf8")), temperature: -1 });
  const file = join(bad, "calibration.json");
  const message = `${file}: temperature: expected a number`;
  for (const run of [nerkit(["predict", "--model", bad], "Peter\n"), nerkit(["serve", "--model", bad, "--port", "0", "--db", ":memory:"])]) {
    assert.equal(run.code, 2, run.stderr);
    assert.ok(run.stderr.includes(message), run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  }
  // evaluate --model and worker open the model as predict and serve do (openPipeline); export and the library:
  const out = join(tempDir(), "export");
  const error = (e: unknown) => e instanceof NerkitError && e.code === "E_FORMAT" && e.describe().startsWith(message);
  assert.throws(() => exportModel(bad, out), error);
  assert.ok(!existsSync(join(out, "onnx")), "export stopped before writing the graph");
  await assert.rejects(loadPipeline(bad), error);
  writeCalibration(bad, "{ not json");
  await assert.rejects(loadPipeline(bad), (e) => e instanceof NerkitError && e.code === "E_FORMAT" && e.describe().startsWith(`${file}: invalid JSON`));
  // Ignored, it is not read at all.
  await (await loadPipeline(bad, { threads: 1, calibration: false })).close();
});

/** Thresholds that one entity's calibrated score passes and its raw score does not: routing must use the calibrated one. */
function crossingThresholds(): { accept: number; review: number; crossing: Entity } {
  const crossing = expected.flat()[0];
  return { accept: (crossing.raw_score! + crossing.score) / 2, review: 0, crossing };
}

describe("the service in process, on a calibrated model", () => {
  const dir = tempDir("nerkit-calibrated-serve-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("/v1/entities routes on the calibrated score and shows raw_score; /v1/labels describes the calibration; /v1/redact answers", async () => {
    const { accept, review, crossing } = crossingThresholds();
    const app = await buildApp({ pipeline: loadPipeline(model, { threads: 1 }), config: { db: ":memory:", accept, review } });
    const plain = await buildApp({ pipeline: loadPipeline(model, { threads: 1, calibration: false }), config: { db: ":memory:", accept, review } });
    try {
      const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { texts: TEXTS } });
      assert.equal(r.statusCode, 200, r.body);
      const documents = (r.json() as { documents: { entities: Scored[] }[] }).documents;
      assert.deepEqual(documents.map((d) => d.entities.map(shape)), expectedShapes());
      for (const e of documents.flat().flatMap((d) => d.entities)) assert.equal(e.decision, decide(e.score, { accept, review }));
      const routed = documents[0].entities.find((e) => e.start === crossing.start && e.end === crossing.end)!;
      assert.equal(routed.decision, "accept", "accepted on its calibrated score");
      assert.equal(decide(routed.raw_score!, { accept, review }), "review", "its raw score alone would have sent it to review");
      const labels = (await app.inject("/v1/labels")).json() as { calibration: unknown };
      assert.deepEqual(labels.calibration, { method: "temperature", temperature: T, created: "2026-12-03T12:00:00.000Z" });
      // Redaction replaces what an uncalibrated model's would: a calibration changes scores, not spans.
      const redact = async (server: typeof app) => (await server.inject({ method: "POST", url: "/v1/redact", payload: { text: TEXTS[1] } })).json() as { replacements: unknown[] };
      const redacted = await redact(app);
      assert.ok(redacted.replacements.length > 0);
      assert.deepEqual(redacted, await redact(plain));
      assert.equal(((await plain.inject("/v1/labels")).json() as { calibration?: unknown }).calibration, undefined);
      const docs = (await app.inject("/docs/json")).json() as { paths: Record<string, unknown> };
      assert.match(JSON.stringify(docs.paths["/v1/entities"]), /raw_score/);
    } finally {
      await app.close();
      await plain.close();
    }
  });

  test("a batch job stores raw_score with each entity, routed on the calibrated score; the review queue shows both", async () => {
    const { accept, review } = crossingThresholds();
    const app = await buildApp({ pipeline: loadPipeline(model, { threads: 1 }), config: { db: join(dir, "jobs.db"), accept, review } });
    try {
      const { id } = await submitJob(app, TEXTS);
      await waitUntil(async () => (((await app.inject(`/v1/jobs/${id}`)).json() as { status: string }).status === "done" ? true : undefined), "the job to finish");
      const rows = (await app.inject(`/v1/jobs/${id}/results`)).body.trim().split("\n").map((l) => JSON.parse(l) as { entities: Scored[] });
      assert.deepEqual(rows.map((row) => row.entities.map(shape)), expectedShapes());
      for (const e of rows.flatMap((row) => row.entities)) assert.equal(e.decision, decide(e.score, { accept, review }));
      const queue = (await app.inject("/v1/review")).json() as { items: { entities: Scored[] }[] };
      assert.ok(queue.items.length > 0, "documents with entities below accept go to review");
      assert.ok(queue.items.every((item) => item.entities.every((e) => typeof e.raw_score === "number" && e.raw_score !== e.score)));
    } finally {
      await app.close();
    }
  });

  test("/v1/export, reviewed documents as training data, is the same with and without the calibration", async () => {
    const exported: string[] = [];
    for (const calibration of [true, false]) {
      // Everything to review (accept 1, review 0), every document accepted as the model proposed it.
      const app = await buildApp({ pipeline: loadPipeline(model, { threads: 1, calibration }), config: { db: join(dir, `export-${calibration}.db`), accept: 1, review: 0 } });
      try {
        const { id } = await submitJob(app, TEXTS);
        await waitUntil(async () => (((await app.inject(`/v1/jobs/${id}`)).json() as { status: string }).status === "done" ? true : undefined), "the job to finish");
        const { items } = (await app.inject("/v1/review")).json() as { items: { id: string }[] };
        assert.equal(items.length, TEXTS.length);
        for (const item of items) {
          const r = await app.inject({ method: "POST", url: `/v1/review/${item.id}`, payload: { reviewer: "ann", action: "accept" } });
          assert.equal(r.statusCode, 200, r.body);
        }
        exported.push((await app.inject("/v1/export?format=jsonl")).body.replaceAll(id, "JOB"));
      } finally {
        await app.close();
      }
    }
    assert.ok(exported[0].includes('"spans"') && exported[0].trim().split("\n").length === TEXTS.length, exported[0]);
    assert.equal(exported[0], exported[1]);
  });
});

test("nerkit serve loads calibration.json (and --no-calibration ignores it)", async () => {
  for (const flags of [[], ["--no-calibration"]]) {
    const serve = spawnNerkit(["serve", "--model", model, "--port", "0", "--db", ":memory:", "--threads", "1", "--no-log", ...flags]);
    try {
      const [, address] = await serve.waitFor(/listening on (http:\/\/\S+)/);
      const r = await fetch(`${address}/v1/entities`, { method: "POST", body: JSON.stringify({ text: TEXTS[0] }), headers: { "content-type": "application/json" } });
      const entities = ((await r.json()) as { entities: Scored[] }).entities;
      if (flags.length === 0) assert.deepEqual(entities.map(shape), expectedShapes()[0]);
      else assert.deepEqual(entities.map(shape), expected[0].map((e) => ({ ...shape(e), score: e.raw_score!, raw_score: undefined })));
    } finally {
      serve.child.kill("SIGTERM");
      assert.equal(await serve.exited, 0, serve.stderr());
    }
  }
});

describe("nerkit worker on a real Redis", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  const dir = tempDir("nerkit-calibrated-worker-");
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a job annotated by `nerkit worker` carries the calibrated score and raw_score", async () => {
    const file = join(dir, "jobs.db");
    const noModel: PipelineLike = { run: async () => Promise.reject(new Error("a server with a queue annotates nothing")), close: async () => {} };
    const server = await buildApp({ pipeline: noModel, config: { db: file, queue: redis.url } });
    const worker = spawnNerkit(["worker", "--model", model, "--db", file, "--queue", redis.url, "--threads", "1"]);
    try {
      await worker.waitFor(/worker \S+ ready/);
      assert.match(worker.stderr(), /applying .*calibration\.json/);
      const { id } = await submitJob(server, TEXTS);
      await waitUntil(async () => (((await server.inject(`/v1/jobs/${id}`)).json() as { status: string }).status === "done" ? true : undefined), "the worker to finish the job");
      const rows = (await server.inject(`/v1/jobs/${id}/results`)).body.trim().split("\n").map((l) => JSON.parse(l) as { entities: Scored[] });
      assert.deepEqual(rows.map((row) => row.entities.map(shape)), expectedShapes());
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
      await server.close();
    }
  });
});
