// /v1/export's streamed answer against a repository that fails: unavailable at the first page, the
// route throws the 503 HttpError as before (app.ts turns it into the answer); lost after some pages,
// the connection is cut, so that a client cannot take a partial export for a whole one.
// The repository is a stand-in giving pages of one-word documents (reviewRoutes alone).

import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { HttpError } from "../src/serve/http-error.js";
import { reviewRoutes } from "../src/serve/review/routes.js";
import { JobRepository, ReviewedPage, StorageUnavailableError } from "../src/serve/storage/repository.js";

/** Pages of 500 accepted one-word documents; `failAt` is the page (from 0) that throws. */
function pagedRepository(pages: number, failAt: number, calls: number[]): JobRepository {
  const page = (n: number): ReviewedPage => ({
    results: Array.from({ length: 500 }, (_, i) => ({
      jobId: "job",
      seq: n * 500 + i,
      text: `Alice${n * 500 + i}`,
      entities: [{ type: "PER", start: 0, end: 5, score: 0.9, decision: "accept" }],
      decision: "accept",
      reviews: [{ reviewer: "ann", action: "accept" as const, createdAt: "2026-01-01T00:00:00.000Z" }],
    })),
    ...(n + 1 < pages ? { next: String(n + 1) } : {}),
  });
  return {
    async reviewedResultsPage(after: string | undefined) {
      const n = after === undefined ? 0 : Number(after);
      calls.push(n);
      if (n === failAt) throw new StorageUnavailableError("the job database is unavailable (test)");
      return page(n);
    },
  } as Partial<JobRepository> as JobRepository;
}

test("export: a database unavailable at the first page is 503; lost later, the stream is cut, not ended", async () => {
  const calls: number[] = [];
  const first = Fastify();
  let thrown: unknown;
  first.setErrorHandler((error, _req, reply) => {
    thrown = error;
    void reply.code(500).send();
  });
  await first.register(reviewRoutes(async () => pagedRepository(4, 0, calls)));
  await first.inject("/v1/export?format=jsonl");
  assert.ok(thrown instanceof HttpError && thrown.status === 503 && thrown.code === "E_STORAGE_UNAVAILABLE", String(thrown));
  await first.close();

  const whole = Fastify();
  await whole.register(reviewRoutes(async () => pagedRepository(4, -1, calls)));
  const complete = await whole.inject("/v1/export?format=jsonl");
  assert.equal(complete.body.split("\n").length - 1, 2000);
  await whole.close();

  const later = Fastify();
  await later.register(reviewRoutes(async () => pagedRepository(4, 2, calls)));
  await later.listen({ host: "127.0.0.1", port: 0 });
  try {
    const { port } = later.server.address() as { port: number };
    const outcome = await fetch(`http://127.0.0.1:${port}/v1/export?format=jsonl`).then(
      async (r) => {
        assert.equal(r.status, 200);
        return r.text().then(
          (body) => `ended with ${body.split("\n").length - 1} lines`,
          (error: Error) => `cut: ${error.message}`,
        );
      },
      (error: Error) => `cut: ${error.message}`,
    );
    assert.match(outcome, /^cut/, outcome);
    assert.deepEqual(calls.slice(-3), [0, 1, 2], "the failing page was asked for");
  } finally {
    await later.close();
  }
});
