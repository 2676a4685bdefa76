// What the batch-job tests share: a job posted as JSON lines through the HTTP routes (in process),
// its status as GET /v1/jobs/:id answers it, and how many results a SQLite file holds per document
// (the "stored once" check of the crash and fault tests).

import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { FastifyInstance, LightMyRequestResponse } from "fastify";

export interface JobStatus {
  id: string;
  status: string;
  total: number;
  done: number;
  error?: string;
  waiting?: { reason: string; since: string };
}

/** POST /v1/jobs with one {"text"} line per text; the answer as it comes (a test may expect a 503). */
export function postJob(app: FastifyInstance, texts: readonly string[]): Promise<LightMyRequestResponse> {
  return app.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
}

/** POST /v1/jobs, expecting 202; the job's id and its Location header. */
export async function submitJob(app: FastifyInstance, texts: readonly string[]): Promise<{ id: string; location: unknown }> {
  const created = await postJob(app, texts);
  assert.equal(created.statusCode, 202, created.body);
  return { id: (created.json() as { id: string }).id, location: created.headers.location };
}

export async function jobStatus(app: FastifyInstance, id: string): Promise<JobStatus> {
  const r = await app.inject(`/v1/jobs/${id}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as JobStatus;
}

/** Results per document in a SQLite job database (of one job, or of all), by seq. */
export function sqliteResultCounts(file: string, jobId?: string): { seq: number; n: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    const where = jobId === undefined ? "" : "WHERE job_id = ?";
    return db.prepare(`SELECT seq, COUNT(*) AS n FROM results ${where} GROUP BY seq ORDER BY seq`).all(...(jobId === undefined ? [] : [jobId])) as { seq: number; n: number }[];
  } finally {
    db.close();
  }
}
