// The jobs' life cycle over HTTP, in process: GET /v1/jobs lists jobs newest first with status and
// counts; DELETE /v1/jobs/:id refuses a running job (409) and removes a finished one with its
// results and reviews (gone from results, the review queue and export); retention (--retain-days)
// deletes finished jobs past their days on a clock the test moves, at start, when asked, and on
// its interval, and never an unfinished one.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Fastify, { FastifyInstance } from "fastify";
import { buildApp } from "../src/serve/app.js";
import { JobService } from "../src/serve/jobs/routes.js";
import { JobDispatcher } from "../src/serve/jobs/job-dispatcher.js";
import { FakePipeline } from "./fake-pipeline.js";
import { nerkit, tempDir } from "./helpers.js";
import { submitJob } from "./job-routes.js";

const dir = tempDir("nerkit-lifecycle-");

interface JobBody {
  id: string;
  createdAt: string;
  status: string;
  total: number;
  done: number;
}

/** A job of these texts, checking that the 202 names its URL in Location. */
async function submit(app: FastifyInstance, texts: string[]): Promise<string> {
  const { id, location } = await submitJob(app, texts);
  assert.equal(location, `/v1/jobs/${id}`);
  return id;
}

async function waitFor(app: FastifyInstance, id: string, status: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (((await app.inject(`/v1/jobs/${id}`)).json() as JobBody).status === status) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`job ${id} never became ${status}`);
}

describe("jobs' life cycle", () => {
  test("GET /v1/jobs: newest first, paged, with status and counts; no database file is an empty list and creates none", async () => {
    const file = join(dir, "list.db");
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: file } });
    after(() => app.close());
    assert.deepEqual((await app.inject("/v1/jobs")).json(), { jobs: [] });
    assert.ok(!existsSync(file));
    const ids = [];
    for (let n = 1; n <= 3; n++) {
      ids.push(await submit(app, Array.from({ length: n }, (_, i) => `Text ${i}`)));
      await waitFor(app, ids[ids.length - 1], "done");
    }
    const listed = (await app.inject("/v1/jobs")).json() as { jobs: JobBody[] };
    assert.deepEqual(listed.jobs.map((j) => [j.id, j.status, j.total, j.done]), [[ids[2], "done", 3, 3], [ids[1], "done", 2, 2], [ids[0], "done", 1, 1]]);
    assert.deepEqual(listed.jobs[0], { ...(await app.inject(`/v1/jobs/${ids[2]}`)).json(), createdAt: listed.jobs[0].createdAt });
    assert.match(listed.jobs[0].createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(listed.jobs[0].createdAt >= listed.jobs[1].createdAt);
    assert.deepEqual(((await app.inject("/v1/jobs?offset=1&limit=1")).json() as { jobs: JobBody[] }).jobs.map((j) => j.id), [ids[1]]);
    for (const query of ["?limit=0", "?offset=-1", "?colour=red"]) {
      const bad = await app.inject(`/v1/jobs${query}`);
      assert.equal(bad.statusCode, 400, query);
      assert.equal(bad.json().error.code, "E_VALIDATION");
    }
  });

  test("DELETE /v1/jobs/:id: 409 while running, then 204 and the job, its results and reviews are gone; others stay", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(30), config: { db: join(dir, "delete.db"), maxBatch: 1 } });
    after(() => app.close());
    const kept = await submit(app, ["Alice met BOB"]);
    await waitFor(app, kept, "done");
    const doomed = await submit(app, ["Carol saw ACME", "Dan", "Eve", "Fay"]);
    await waitFor(app, doomed, "running");
    const refused = await app.inject({ method: "DELETE", url: `/v1/jobs/${doomed}` });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error.code, "E_JOB_UNFINISHED");
    await waitFor(app, doomed, "done");
    for (const id of [kept, doomed]) {
      const r = await app.inject({ method: "POST", url: `/v1/review/${id}:0`, payload: { reviewer: "ann", action: "accept" } });
      assert.equal(r.statusCode, 200, r.body);
    }
    assert.equal((await app.inject("/v1/export?format=jsonl")).body.trim().split("\n").length, 2);

    const deleted = await app.inject({ method: "DELETE", url: `/v1/jobs/${doomed}` });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal(deleted.body, "");
    for (const url of [`/v1/jobs/${doomed}`, `/v1/jobs/${doomed}/results`]) assert.equal((await app.inject(url)).statusCode, 404, url);
    assert.equal((await app.inject({ method: "DELETE", url: `/v1/jobs/${doomed}` })).statusCode, 404);
    assert.equal((await app.inject({ method: "POST", url: `/v1/review/${doomed}:0`, payload: { reviewer: "bob", action: "accept" } })).statusCode, 404);
    const exported = (await app.inject("/v1/export?format=jsonl")).body.trim().split("\n").map((l) => JSON.parse(l) as { id: string });
    assert.deepEqual(exported.map((d) => d.id), [`${kept}:0`]);
    assert.deepEqual(((await app.inject("/v1/jobs")).json() as { jobs: JobBody[] }).jobs.map((j) => j.id), [kept]);
  });

  test("the new routes are in the OpenAPI document with their parameters and answers", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: ":memory:" } });
    after(() => app.close());
    type Op = { parameters?: { name: string }[]; responses: Record<string, unknown> };
    const paths = ((await app.inject("/docs/json")).json() as { paths: Record<string, Record<string, Op>> }).paths;
    assert.deepEqual(paths["/v1/jobs"].get.parameters!.map((p) => p.name).sort(), ["limit", "offset"]);
    assert.deepEqual(Object.keys(paths["/v1/jobs"].get.responses).sort(), ["200", "400", "401", "503"]);
    assert.deepEqual(Object.keys(paths["/v1/jobs/{id}"].delete.responses).sort(), ["204", "401", "404", "409", "503"]);
    assert.ok(JSON.stringify(paths["/v1/jobs"].get.responses["200"]).includes("createdAt"));
  });
});

/** A dispatcher that annotates nothing: jobs stay queued until the test stores their results. */
const idleDispatcher = (): JobDispatcher => ({ dispatch: async () => undefined, resumeJobs: async () => [], idle: async () => undefined, stop: async () => undefined, sweep: async () => undefined, waiting: () => undefined });

describe("retention (--retain-days)", () => {
  test("finished jobs older than the days are deleted at start, on sweep and on the interval; unfinished ones never", async () => {
    const file = join(dir, "retention.db");
    let now = Date.now();
    const clock = () => new Date(now);
    const errors: unknown[] = [];
    // A first service without retention makes the jobs.
    const maker = new JobService({ db: file, dispatcher: idleDispatcher });
    const scope = Fastify();
    await scope.register(maker.routes);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submit(scope, [`Text ${i}`]));
    const repository = (await maker.existingRepository())!;
    await repository.saveResults(ids[0], [{ seq: 0, entities: [], decision: "accept" }]);
    await repository.setStatus(ids[1], "failed", "boom");
    await scope.close();
    await maker.close();

    // At start, nothing is old enough.
    now += 2 * 86_400_000;
    const jobs = new JobService({ db: file, dispatcher: idleDispatcher, retainDays: 3, now: clock, retentionIntervalMs: 20, onSweepError: (e) => errors.push(e) });
    after(() => jobs.close());
    assert.deepEqual(await jobs.sweepExpired(), []);
    const repo = (await jobs.existingRepository())!;
    // Several intervals pass: still nothing is old enough.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await repo.listJobs(0, 10)).length, 3);
    // Three days and a bit: the done and the failed job go; the queued one stays.
    now += 86_400_000 + 1000;
    const swept = new Set(await jobs.sweepExpired());
    // The interval may have swept first; either way both are gone and nothing else.
    for (let i = 0; i < 200 && (await repo.listJobs(0, 10)).length > 1; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual((await repo.listJobs(0, 10)).map((j) => j.id), [ids[2]]);
    assert.ok([...swept].every((id) => id === ids[0] || id === ids[1]));
    // The queued job, past its days, finishes: the interval alone deletes it.
    await repo.saveResults(ids[2], [{ seq: 0, entities: [], decision: "accept" }]);
    for (let i = 0; i < 400 && (await repo.getJob(ids[2])) !== undefined; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await repo.getJob(ids[2]), undefined, "the interval deleted it");
    assert.deepEqual(errors, []);
  });
});

test("nerkit serve --retain-days takes a number of days > 0, and says so otherwise", () => {
  for (const bad of ["0", "-1", "soon", ""]) {
    const run = nerkit(["serve", "--model", "/nonexistent", "--retain-days", bad]);
    assert.equal(run.code, 2, bad);
    assert.match(run.stderr, /--retain-days expects a number of days > 0/, bad);
  }
  assert.match(nerkit(["serve", "--help"]).stdout, /--retain-days <n>/);
});
