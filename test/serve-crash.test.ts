// A real `nerkit serve --db FILE` process (no queue: jobs annotated in process) is SIGKILLed in the
// middle of a batch job and started again on the same SQLite file: the job finishes, and the
// database holds exactly one result per document (read directly with better-sqlite3, not through
// the server that is under test).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { fixturesDir, tempDir } from "./helpers.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
const dir = tempDir("nerkit-serve-crash-");
const file = join(dir, "jobs.db");
const servers: NerkitProcess[] = [];
after(async () => {
  for (const s of servers) s.child.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.exited));
  rmSync(dir, { recursive: true, force: true });
});

/** A server on a free port, once its model is loaded; answers its address. */
async function serve(): Promise<{ server: NerkitProcess; address: string }> {
  const server = spawnNerkit(["serve", "--model", tinyDir, "--db", file, "--models", join(dir, "models"), "--port", "0", "--no-log", "--threads", "1", "--max-batch", "8"]);
  servers.push(server);
  const [, address] = await server.waitFor(/listening on (\S+)/);
  await server.waitFor(/model loaded, ready/);
  return { server, address };
}

test("serve SIGKILLed mid-job and restarted on the same database: the job finishes, no document lost or doubled", async () => {
  const texts = Array.from({ length: 480 }, (_, i) => `Report ${i}: Maria Lindqvist met Kofi Annan in Geneva for the Red Cross, then flew to Lima.`);
  const first = await serve();
  const response = await fetch(`${first.address}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: texts.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join("\n"),
  });
  assert.equal(response.status, 202, await response.clone().text());
  const { id, total } = (await response.json()) as { id: string; total: number };

  const db = new Database(file, { readonly: true });
  try {
    const progress = () => db.prepare("SELECT status, done_count AS done, total FROM jobs WHERE id = ?").get(id) as { status: string; done: number; total: number };
    await waitUntil(() => (progress().done >= 40 ? true : undefined), "some results to be stored", 20_000, 5);
    first.server.child.kill("SIGKILL");
    assert.equal(await first.server.exited, null);
    const atKill = progress();
    assert.ok(atKill.done < total && atKill.status === "running", `the job finished before the server could be killed (${atKill.done} of ${total})`);

    await serve();
    const done = await waitUntil(() => (progress().status !== "running" && progress().status !== "queued" ? progress() : undefined), "the job to finish after the restart", 20_000, 50);
    assert.deepEqual(done, { status: "done", done: total, total });
    const counts = db.prepare("SELECT seq, COUNT(*) AS n FROM results WHERE job_id = ? GROUP BY seq ORDER BY seq").all(id) as { seq: number; n: number }[];
    assert.deepEqual(counts, texts.map((_, seq) => ({ seq, n: 1 })));
    const documents = db.prepare("SELECT status, COUNT(*) AS n FROM documents WHERE job_id = ? GROUP BY status").all(id);
    assert.deepEqual(documents, [{ status: "done", n: total }]);
  } finally {
    db.close();
  }
});
