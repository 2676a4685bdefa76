// The SQLite job database made read-only under a running `nerkit serve` (issue 10 §2), for real: the
// server runs as an unprivileged user (nobody, when the tests run as root, who ignores file modes;
// else as the user running them), and the database file with its -wal and -shm is chmod'ed 0444
// mid-job. What happens, and is tested:
// - The running server keeps writing: SQLite holds the files open read-write, and a file's mode is
//   checked only when it is opened. The job goes on.
// - A server (re)started on the read-only files (here after a SIGKILL mid-job) opens them read-only;
//   the resumed job waits: GET /v1/jobs/:id says `waiting`, with SQLITE_READONLY, and retries (0.1 s
//   doubling to 5 s, 10 minutes per call, then again at each sweep). Once the files are writable
//   again it reconnects (before the fix its read-only connection stayed so: the job stood `running`
//   until the server restarted) and finishes within seconds, each document stored once.

import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";
import { JobStatus, sqliteResultCounts } from "./job-routes.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
/** Root ignores file modes: the server runs as nobody then, in a folder it owns. */
const as = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
const texts = Array.from({ length: 1200 }, (_, i) => `Note ${i}: Maria Lindqvist flew from Lima to Osaka.`);

function setMode(file: string, mode: number): void {
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) chmodSync(file + suffix, mode);
}

/** The job's row, read directly (read-only, never creating a -wal or -shm of root's). */
function stored(file: string, id: string): { status: string; done: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT status, done_count AS done FROM jobs WHERE id = ?").get(id) as { status: string; done: number };
  } finally {
    db.close();
  }
}

async function startServe(file: string, dir: string): Promise<{ server: NerkitProcess; address: string }> {
  const server = spawnNerkit(["serve", "--model", tinyModelDir("bert"), "--db", file, "--port", "0", "--no-log", "--threads", "1", "--max-batch", "8"], { ...as, cwd: dir });
  const [, address] = await server.waitFor(/listening on (\S+)/);
  return { server, address };
}

test("the SQLite database made read-only mid-job: the running server goes on; one restarted on it waits, then finishes once it is writable", async () => {
  const dir = tempDir("nerkit-sqlite-readonly-");
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  const file = join(dir, "jobs.db");
  const servers: NerkitProcess[] = [];
  try {
    const first = await startServe(file, dir);
    servers.push(first.server);
    const created = await fetch(`${first.address}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: texts.map((text) => JSON.stringify({ text })).join("\n"),
    });
    assert.equal(created.status, 202, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    const beforeChmod = await waitUntil(() => {
      const now = stored(file, id);
      assert.equal(now.status === "done", false, "the job ended before the fault could come");
      return now.done >= 40 ? now : undefined;
    }, "40 documents stored", 30_000, 20);

    setMode(file, 0o444);
    // Open files keep the mode they were opened with: the server still stores results.
    const afterChmod = await waitUntil(() => {
      const now = stored(file, id);
      return now.done >= beforeChmod.done + 24 || now.status === "done" ? now : undefined;
    }, "results stored after the chmod", 30_000, 20);
    first.server.child.kill("SIGKILL");
    await first.server.exited;
    assert.notEqual(afterChmod.status, "done", "the job ended before the restart");

    // Restarted on the read-only files: the resumed job waits and says why.
    const second = await startServe(file, dir);
    servers.push(second.server);
    const status = async () => (await (await fetch(`${second.address}/v1/jobs/${id}`)).json()) as JobStatus;
    const waiting = await waitUntil(async () => {
      const now = await status();
      return now.waiting ? now : undefined;
    }, "the job to say it is waiting", 20_000, 50);
    assert.equal(waiting.status, "running");
    assert.match(waiting.waiting!.reason, /SQLITE_READONLY/);
    const health = await fetch(`${second.address}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { jobDatabase?: { status: string } }).jobDatabase?.status, "unavailable");
    const doneWhileReadOnly = stored(file, id).done;

    setMode(file, 0o644);
    const writableAt = Date.now();
    const finished = await waitUntil(async () => {
      const now = await status();
      return now.status === "done" || now.status === "failed" ? now : undefined;
    }, "the job to finish once the database is writable", 30_000, 50);
    assert.equal(finished.status, "done", JSON.stringify(finished));
    assert.ok(doneWhileReadOnly < texts.length);
    const counts = sqliteResultCounts(file, id);
    assert.deepEqual(counts, texts.map((_, seq) => ({ seq, n: 1 })));
    assert.equal(second.server.child.exitCode, null, second.server.stderr());
    // The retry waits at most 5 s; the rest is annotating what was left.
    assert.ok(Date.now() - writableAt < 30_000);
  } finally {
    for (const server of servers) server.child.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
