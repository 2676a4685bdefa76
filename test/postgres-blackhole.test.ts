// PostgreSQL behind a network black hole: the peer stops answering without a reset (packets
// dropped, connections left open), the fault that once hung a job's storage call for ever (no
// statement or read timeout, no keep-alive). A tiny loopback TCP proxy (node:net) stands between an
// in-process service and a throwaway PostgreSQL; mid-job it stops forwarding: bytes in both
// directions are dropped, every connection open then stays open and silent for good, and new
// connections are accepted and black-holed too. With small --db-query-timeout-ms and
// --db-connect-timeout-ms the stuck calls fail as "database unavailable" and the job waits: /healthz
// says so, GET /v1/jobs/:id answers 503 with Retry-After within a bounded time (the job's status is
// in the unreachable database), /v1/entities keeps answering. Once new connections get through
// again (the old ones stay dead: the pool must drop them), the job finishes with every document
// stored exactly once, read directly from PostgreSQL. Skipped where no PostgreSQL can be had, except under CI.

import assert from "node:assert/strict";
import { connect, createServer, Server, Socket } from "node:net";
import { test } from "node:test";
import pg from "pg";
import { buildApp } from "../src/serve/app.js";
import { FakePipeline } from "./fake-pipeline.js";
import { postJob } from "./job-routes.js";
import { postgresSkipReason, testPostgres } from "./postgres-server.js";
import { waitUntil } from "./processes.js";

const QUERY_TIMEOUT_MS = 400;
const CONNECT_TIMEOUT_MS = 400;
const texts = Array.from({ length: 600 }, (_, i) => `Note ${i}: Maria Lindqvist flew from Lima to Osaka.`);

/** A loopback TCP proxy to target that can turn into a black hole: cut() drops every byte from then
 * on, on the connections open now (for good) and on those that arrive while cut; heal() forwards
 * new connections again. Nothing is ever closed by a cut: a peer that vanished sends no FIN. */
class BlackHoleProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cutNow = false;
  /** Bytes dropped (both directions): proof that the fault hit something. */
  dropped = 0;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.cutNow = true;
  }

  heal(): void {
    this.cutNow = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.cutNow) {
      client.on("data", (chunk: Buffer) => (this.dropped += chunk.length));
      return;
    }
    const upstream = connect(this.targetPort, "127.0.0.1");
    this.track(upstream);
    // Once a pair has lost a byte its protocol state is gone: it stays silent, as a dead peer would.
    let dead = false;
    const pipe = (from: Socket, to: Socket) => {
      from.on("data", (chunk: Buffer) => {
        if (this.cutNow) dead = true;
        if (dead) this.dropped += chunk.length;
        else to.write(chunk);
      });
      // A close is passed on only while the pair is alive: through a black hole no FIN arrives.
      from.on("close", () => void (!dead && !this.cutNow && to.destroy()));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }
}

/** One query on a connection of its own, straight to PostgreSQL (not through the proxy). */
async function direct<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const skip = await postgresSkipReason();

test("PostgreSQL behind a black hole mid-job: stuck calls time out, the job waits, and finishes with each document once", { skip }, async () => {
  const database = (await testPostgres())!;
  const proxy = new BlackHoleProxy(Number(new URL(database.url).port));
  await proxy.listen();
  const proxied = new URL(database.url);
  proxied.port = String(proxy.port);
  // Slowed a little, so that the job is still running when the network is cut.
  const app = await buildApp({
    pipeline: new FakePipeline(10),
    config: { db: proxied.toString(), dbQueryTimeoutMs: QUERY_TIMEOUT_MS, dbConnectTimeoutMs: CONNECT_TIMEOUT_MS, maxBatch: 8 },
  });
  try {
    const created = await postJob(app, texts);
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json() as { id: string };
    const progress = async () => (await direct<{ status: string; done: number }>(database.url, "SELECT status, done_count AS done FROM jobs WHERE id = $1", [id]))[0];
    await waitUntil(async () => {
      const now = await progress();
      // Queued until the runner picks it up; done or failed would mean the fault came too late.
      assert.ok(now.status === "queued" || now.status === "running", `the job ended before the fault could come (${now.status})`);
      return now.done >= 80 ? true : undefined;
    }, "80 documents stored", 30_000);

    proxy.cut();
    const cutAt = Date.now();
    // The job's next storage call hangs on its connection until the query timeout; then it waits and retries.
    const health = await waitUntil(async () => {
      const body = (await app.inject("/healthz")).json() as { jobDatabase?: { status: string; message: string } };
      return body.jobDatabase?.status === "unavailable" ? body.jobDatabase : undefined;
    }, "/healthz to say the job database is unavailable", 10_000, 20);
    assert.match(health.message, /^the job database postgres:\/\/\S+ is unavailable: (Query read timeout|Connection terminated due to connection timeout|timeout exceeded when trying to connect)/);
    assert.ok(Date.now() - cutAt < 10 * QUERY_TIMEOUT_MS, `noticed after ${Date.now() - cutAt} ms`);
    const doneWhileCut = (await progress()).done;
    assert.ok(doneWhileCut < texts.length);

    // The job's status lives in the unreachable database: a bounded 503, not a request that hangs.
    const askedAt = Date.now();
    const status = await app.inject(`/v1/jobs/${id}`);
    assert.equal(status.statusCode, 503, status.body);
    assert.equal((status.json() as { error: { code: string } }).error.code, "E_STORAGE_UNAVAILABLE");
    assert.equal(status.headers["retry-after"], "1");
    assert.ok(Date.now() - askedAt < QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 2000, `GET /v1/jobs/:id took ${Date.now() - askedAt} ms`);
    const live = await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Maria Lindqvist flew to Lima." } });
    assert.equal(live.statusCode, 200, live.body);

    // A while longer in the dark: nothing is stored, nothing fails.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await progress()).done, doneWhileCut, "results were stored through the black hole");
    assert.ok(proxy.dropped > 0, "the black hole dropped nothing: the fault did not happen");

    // New connections get through again; those open during the cut stay dead.
    proxy.heal();
    let last = "";
    const finished = await waitUntil(async () => {
      const r = await app.inject(`/v1/jobs/${id}`);
      last = `${r.statusCode} ${r.body}; /healthz ${(await app.inject("/healthz")).body}`;
      const body = r.json() as { status?: string; done?: number };
      return r.statusCode === 200 && (body.status === "done" || body.status === "failed") ? body : undefined;
    }, "the job to finish after the network healed", 60_000, 50).catch((error: Error) => {
      throw new Error(`${error.message}; last answer: ${last}`);
    });
    assert.deepEqual({ status: finished.status, done: finished.done }, { status: "done", done: texts.length });
    const stored = await direct<{ seq: number; n: number; text: string }>(
      database.url,
      "SELECT r.seq, count(*)::int AS n, min(d.text) AS text FROM results r JOIN documents d ON d.job_id = r.job_id AND d.seq = r.seq WHERE r.job_id = $1 GROUP BY r.seq ORDER BY r.seq",
      [id],
    );
    assert.deepEqual(stored, texts.map((text, seq) => ({ seq, n: 1, text })));
  } finally {
    proxy.heal();
    await proxy.close();
    await app.close();
    await database.drop();
  }
});
