// The model registry across real processes (issue 12 §1): `nerkit serve --models DIR` records
// --model as v1 (a copy under DIR) on its first start; a candidate v2 (the tiny DistilBERT, a
// different model) is promoted through POST /v1/models/v2/promote while eight clients keep asking
// (none fails; those after the promotion are answered by v2); a real `nerkit worker` on Redis
// annotates a job before the promotion with v1 and one after it with v2, having followed the
// registry; a restarted server, given another --model, serves the registry's v2 and says so;
// rollback to v1 over HTTP. Skipped where redis-server or ioredis is missing, except under CI.

import assert from "node:assert/strict";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openModelRegistry } from "../src/serve/models/registry-service.js";
import { openRepository } from "../src/serve/storage/open.js";
import { tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const texts = ["Angela Merkel met Kofi Annan in Paris.", "Maria Lindqvist flew to Lima.", "Siemens hired Ada Lovelace."];

describe("serve --models and a nerkit worker across a promotion", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  const dir = tempDir("nerkit-registry-processes-");
  const db = join(dir, "jobs.db");
  const models = join(dir, "models");
  const processes: NerkitProcess[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(model: string): Promise<{ server: NerkitProcess; address: string }> {
    const server = spawnNerkit(["serve", "--model", model, "--db", db, "--models", models, "--queue", redis.url, "--port", "0", "--no-log", "--threads", "1"]);
    processes.push(server);
    const [, address] = await server.waitFor(/listening on (\S+)/);
    await server.waitFor(/model registry/);
    return { server, address };
  }

  async function entitiesVersion(address: string): Promise<string> {
    const r = await fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: texts[0] }) });
    assert.equal(r.status, 200);
    return ((await r.json()) as { model_version: string }).model_version;
  }

  /** The model versions of a finished job's results, in document order. */
  async function jobVersions(address: string): Promise<string[]> {
    const created = await fetch(`${address}/v1/jobs`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: texts.map((text) => JSON.stringify({ text })).join("\n") });
    assert.equal(created.status, 202, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    await waitUntil(async () => (((await (await fetch(`${address}/v1/jobs/${id}`)).json()) as { status: string }).status === "done" ? true : undefined), `job ${id} done`, 30_000, 50);
    const lines = (await (await fetch(`${address}/v1/jobs/${id}/results`)).text()).trim().split("\n");
    return lines.map((l) => (JSON.parse(l) as { model_version: string }).model_version);
  }

  test("v1 from --model, a worker follows the promotion to v2, a restart serves v2 whatever --model says, rollback", async () => {
    const first = await serve(tinyModelDir("bert"));
    assert.match(first.server.stderr(), /model registry .*: v1 recorded from --model .*bert-tiny/);
    assert.ok(existsSync(join(models, "v1", "model.safetensors")), "v1 is a copy in the models folder");
    assert.equal(await entitiesVersion(first.address), "v1");

    const worker = spawnNerkit(["worker", "--model", tinyModelDir("bert"), "--db", db, "--queue", redis.url, "--threads", "1"]);
    processes.push(worker);
    await worker.waitFor(/ready/);
    assert.match(worker.stderr(), /ready: model version v1 \(the registry's serving version\)/);
    assert.deepEqual(await jobVersions(first.address), ["v1", "v1", "v1"]);

    // A retrain's part, done by hand: a reserved folder filled with another model, recorded as a candidate.
    const repository = await openRepository(db);
    try {
      const registry = openModelRegistry(repository, models);
      const { id, folder } = await registry.reserve();
      assert.equal(id, "v2");
      cpSync(tinyModelDir("distilbert"), folder, { recursive: true });
      await registry.addCandidate({ id, parent: "v1", madeBy: "by hand (test)", folder });
    } finally {
      await repository.close();
    }
    // Eight clients ask without pause while v2 is loaded and swapped in over the socket.
    const answers: { status: number; version?: string }[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const r = await fetch(`${first.address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: texts[answers.length % 3] }) });
        answers.push({ status: r.status, version: r.ok ? ((await r.json()) as { model_version: string }).model_version : (await r.text()) });
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await waitUntil(() => (answers.length >= 16 ? true : undefined), "answers before the promotion", 20_000, 5);
    const promoted = await fetch(`${first.address}/v1/models/v2/promote`, { method: "POST" });
    const atPromotion = answers.length;
    await waitUntil(() => (answers.length >= atPromotion + 40 ? true : undefined), "answers after the promotion", 20_000, 5);
    stop = true;
    await Promise.all(clients);
    assert.equal(promoted.status, 200, await promoted.clone().text());
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], "no request failed during the swap");
    assert.equal(answers[0].version, "v1");
    // Those answered once the promotion had returned, past the eight that may have been running on v1 then.
    assert.deepEqual(new Set(answers.slice(atPromotion + 8).map((a) => a.version)), new Set(["v2"]));
    assert.equal(await entitiesVersion(first.address), "v2");
    assert.deepEqual(await jobVersions(first.address), ["v2", "v2", "v2"], "the worker annotated the job after the promotion with v2");
    assert.match(worker.stderr(), /model version v2 promoted/);

    first.server.child.kill("SIGTERM");
    assert.equal(await first.server.exited, 0, first.server.stderr());
    const second = await serve(tinyModelDir("roberta"));
    assert.match(second.server.stderr(), /serving v2 .*--model .*roberta-tiny only seeds an empty registry/);
    const listed = (await (await fetch(`${second.address}/v1/models`)).json()) as { serving: string; models: { id: string; status: string; madeBy: string }[] };
    assert.equal(listed.serving, "v2");
    assert.deepEqual(listed.models.map((m) => [m.id, m.status]), [["v1", "retired"], ["v2", "serving"]]);
    assert.equal(listed.models[0].madeBy, `serve --model ${tinyModelDir("bert")}`);
    assert.equal(await entitiesVersion(second.address), "v2");

    const rolledBack = await fetch(`${second.address}/v1/models/v1/promote`, { method: "POST" });
    assert.equal(rolledBack.status, 200);
    assert.equal(await entitiesVersion(second.address), "v1");
    second.server.child.kill("SIGTERM");
    assert.equal(await second.server.exited, 0, second.server.stderr());
  });
});
