// Batch jobs over HTTP: POST /v1/jobs (a JSONL body, one {"id"?, "text"} per line) stores the job,
// hands it to the dispatcher (dispatcher.ts: the in-process runner, or the queue that `nerkit worker`s
// read) and answers 202 at once with the job's URL in Location (413 for a text over --max-text-chars
// or more documents than --max-job-documents); GET /v1/jobs lists jobs newest first,
// GET /v1/jobs/:id gives progress, GET /v1/jobs/:id/results pages the stored results as NDJSON in
// document order, and DELETE /v1/jobs/:id removes a finished job with its documents, results and
// reviews. A queued or running job is refused (409), not cancelled: the runner or a `nerkit worker`
// may be storing its results at that moment, and cancelling across processes is more than a delete.
// With retainDays, finished jobs created more than that many days ago are deleted at startup and
// every retentionIntervalMs, hourly by default (retention.ts).
// The database is opened at startup only if its file exists (to resume unfinished jobs), otherwise
// on the first job, so a server that never gets a job leaves no file behind. A database that
// cannot be opened or written is answered 503, never a crash. Once the database is open, the
// dispatcher's sweep runs every sweepIntervalMs (job-dispatcher.ts), and GET /v1/jobs/:id shows
// why an unfinished job stands still (`waiting`: a reason and since when).
// What it leaves out: cancelling a job, per-key ownership of jobs.

import { existsSync } from "node:fs";
import { Readable } from "node:stream";
import { FastifyInstance } from "fastify";
import { z } from "zod";
import { HttpError, storageAnswer, validationMessage } from "../http-error.js";
import { textTooLong } from "../request-budget.js";
import { jobRouteSchemas, pageQuery } from "../schemas.js";
import { AuditSettings, Job, JobRepository, NewDocument, StorageUnavailableError } from "../storage/repository.js";
import { isPostgresUrl, openRepository } from "../storage/open.js";
import { sqliteFolderProblem } from "../storage/check.js";
import { DispatcherFactory, JobDispatcher } from "./job-dispatcher.js";
import { RetentionSweeper } from "./retention.js";

export interface JobServiceOptions {
  /** SQLite file, ":memory:", or a postgres:// URL. */
  db: string;
  busyTimeoutMs?: number;
  /** PostgreSQL: how long a statement may take or its answer be awaited, and how long a connection may take to open. */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Who gets stored jobs annotated (dispatcher.ts). */
  dispatcher: DispatcherFactory;
  /** How often the dispatcher looks for jobs that nothing is working on (default 10 s). */
  sweepIntervalMs?: number;
  /** Finished jobs created more than this many days ago are deleted; undefined: kept for ever. */
  retainDays?: number;
  /** How often expired jobs are looked for (default: hourly). */
  retentionIntervalMs?: number;
  /** The clock retention reads (tests move it). */
  now?: () => Date;
  /** A sweep (of unfinished or of expired jobs) failed; the next one tries again. */
  onSweepError?: (error: unknown) => void;
  /** Recorded with each new job: how its auto-accepted documents are drawn for the audit sample (jobs/audit-sample.ts). */
  audit?: AuditSettings;
  /** Bounds on one job (413 beyond); undefined: none. */
  limits?: JobLimits;
}

const MAX_JOBS_PAGE = 1000;
const jobsQuery = pageQuery(MAX_JOBS_PAGE);

function jobBody(job: Job) {
  return { id: job.id, status: job.status, total: job.total, done: job.done, ...(job.error ? { error: job.error } : {}) };
}

export const DEFAULT_SWEEP_INTERVAL_MS = 10_000;

const MAX_PAGE = 10_000;

const jobLine = z.strictObject(
  {
    id: z.string({ error: "must be a string" }).optional(),
    text: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be a JSON object") },
);

const resultsQuery = pageQuery(MAX_PAGE);
const routeSchemas = jobRouteSchemas(resultsQuery, jobsQuery);

/** What one job may hold; more is 413 (the same bound per text as /v1/entities). */
export interface JobLimits {
  /** Characters (UTF-16 units) per document's text (--max-text-chars). */
  maxTextChars: number;
  /** Documents per job (--max-job-documents). */
  maxJobDocuments: number;
}

const UNBOUNDED: JobLimits = { maxTextChars: Infinity, maxJobDocuments: Infinity };

/** JSONL → documents; blank lines are skipped; the first bad line is a 400 naming its number (from 1);
 * a text over limits.maxTextChars, or a document past limits.maxJobDocuments, is a 413 (counted as
 * the lines are read, so an oversized job is refused before the rest of it is parsed). */
export function parseJobBody(body: string, limits: JobLimits = UNBOUNDED): NewDocument[] {
  const documents: NewDocument[] = [];
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    if (line.trim() === "") continue;
    if (documents.length === limits.maxJobDocuments) {
      const total = documents.length + lines.slice(i).filter((l) => l.trim() !== "").length;
      throw new HttpError(413, "E_TOO_MANY_DOCUMENTS", `the job holds ${total} documents; the server takes at most ${limits.maxJobDocuments} per job (--max-job-documents): split it into several jobs`);
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new HttpError(400, "E_VALIDATION", `line ${i + 1}: not valid JSON: ${(error as Error).message}`);
    }
    const parsed = jobLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(400, "E_VALIDATION", `line ${i + 1}: ${issue.path.length ? `${issue.path.map(String).join(".")}: ` : ""}${issue.message}`);
    }
    if (parsed.data.text.length > limits.maxTextChars) throw textTooLong(`line ${i + 1}: the text`, parsed.data.text.length, limits.maxTextChars, "split it into several documents");
    documents.push({ docId: parsed.data.id, text: parsed.data.text });
  }
  if (documents.length === 0) throw new HttpError(400, "E_VALIDATION", 'the body holds no document: send one {"text": ...} per line');
  return documents;
}

function unavailable(error: unknown): never {
  throw storageAnswer(error);
}

export class JobService {
  private opened: Promise<{ repository: JobRepository; dispatcher: JobDispatcher }> | undefined;
  private closed = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The sweep in progress, which close waits for before it releases the dispatcher and the database. */
  private sweeping: Promise<void> = Promise.resolve();
  private readonly retention: RetentionSweeper | undefined;

  constructor(private readonly options: JobServiceOptions) {
    if (options.retainDays !== undefined) {
      this.retention = new RetentionSweeper(() => this.existingRepository(), {
        retainDays: options.retainDays,
        intervalMs: options.retentionIntervalMs,
        now: options.now,
        onError: options.onSweepError,
      });
      this.retention.start();
    }
  }

  /** Deletes the finished jobs past retention now; their ids (none without retainDays). */
  async sweepExpired(): Promise<string[]> {
    return this.retention ? this.retention.sweep() : [];
  }

  /** The repository, opened on first use; StorageUnavailableError if it cannot be (a later call tries again). */
  private open(): Promise<{ repository: JobRepository; dispatcher: JobDispatcher }> {
    if (this.closed) return Promise.reject(new StorageUnavailableError("the server is closing"));
    this.opened ??= openRepository(this.options.db, { busyTimeoutMs: this.options.busyTimeoutMs, queryTimeoutMs: this.options.queryTimeoutMs, connectTimeoutMs: this.options.connectTimeoutMs })
      .then(async (repository) => {
        try {
          const dispatcher = await this.options.dispatcher(repository);
          this.sweepEvery(dispatcher, this.options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
          return { repository, dispatcher };
        } catch (error) {
          await repository.close();
          throw error;
        }
      })
      .catch((error: unknown) => {
        this.opened = undefined;
        throw error;
      });
    return this.opened;
  }

  /** A SQLite file that does not exist yet is created on the first job; a PostgreSQL database always exists. */
  private get exists(): boolean {
    const db = this.options.db;
    return this.opened !== undefined || isPostgresUrl(db) || (db !== ":memory:" && existsSync(db));
  }

  /** The repository if a database exists (opening it if need be), else undefined: for the review routes.
   * No file yet means no job yet only where the file could be created: a folder that is gone or not
   * writable is a 503, not an empty review queue. */
  async existingRepository(): Promise<JobRepository | undefined> {
    try {
      if (this.exists) return (await this.open()).repository;
      const problem = this.options.db === ":memory:" ? undefined : sqliteFolderProblem(this.options.db);
      if (problem) throw new StorageUnavailableError(`the job database is unavailable: ${problem}`);
      return undefined;
    } catch (error) {
      unavailable(error);
    }
  }

  /** Resumes the jobs a previous process left unfinished (nothing to do without a database file). */
  async resumeJobs(): Promise<string[]> {
    if (this.closed || !this.exists) return [];
    return (await this.open()).dispatcher.resumeJobs();
  }

  /** Resolves once no job is queued or running (for tests and a graceful shutdown). */
  async idle(): Promise<void> {
    const opened = await this.opened?.catch(() => undefined);
    await opened?.dispatcher.idle();
  }

  /** One sweep after another, intervalMs apart (never two at once); stopped by close. */
  private sweepEvery(dispatcher: JobDispatcher, intervalMs: number): void {
    const next = () => {
      if (this.closed) return;
      this.sweepTimer = setTimeout(() => {
        this.sweeping = dispatcher
          .sweep()
          .catch((error: unknown) => this.options.onSweepError?.(error))
          .finally(next);
      }, intervalMs);
      this.sweepTimer.unref();
    };
    next();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweepTimer);
    await this.sweeping;
    await this.retention?.stop();
    const opened = await this.opened?.catch(() => undefined);
    await opened?.dispatcher.stop();
    await opened?.repository.close();
  }

  /** The routes, as a fastify plugin: its JSONL body parser stays inside it (/v1/entities is JSON only). */
  readonly routes = async (scope: FastifyInstance): Promise<void> => {
    scope.addContentTypeParser(["application/x-ndjson", "text/plain"], { parseAs: "string" }, (_req, body, done) => done(null, body));

    scope.post("/v1/jobs", { schema: routeSchemas.create }, async (req, reply) => {
      if (typeof req.body !== "string") throw new HttpError(415, "E_MEDIA_TYPE", 'send the body as application/x-ndjson: one {"id"?, "text"} per line');
      const documents = parseJobBody(req.body, this.options.limits);
      try {
        const { repository, dispatcher } = await this.open();
        const job = await repository.createJob(documents, this.options.audit);
        await dispatcher.dispatch(job.id);
        return reply.code(202).header("location", `/v1/jobs/${encodeURIComponent(job.id)}`).send({ id: job.id, status: job.status, total: job.total });
      } catch (error) {
        unavailable(error);
      }
    });

    scope.get("/v1/jobs", { schema: routeSchemas.list }, async (req) => {
      const query = jobsQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(400, "E_VALIDATION", validationMessage(query.error.issues));
      try {
        const jobs = this.exists ? await (await this.open()).repository.listJobs(query.data.offset ?? 0, query.data.limit ?? 100) : [];
        return { jobs: jobs.map((job) => ({ ...jobBody(job), createdAt: job.createdAt })) };
      } catch (error) {
        unavailable(error);
      }
    });

    scope.get<{ Params: { id: string } }>("/v1/jobs/:id", { schema: routeSchemas.status }, async (req) => {
      const job = await this.find(req.params.id);
      const waiting = job.status === "queued" || job.status === "running" ? (await this.opened)?.dispatcher.waiting(job.id) : undefined;
      return { ...jobBody(job), ...(waiting ? { waiting } : {}) };
    });

    scope.delete<{ Params: { id: string } }>("/v1/jobs/:id", { schema: routeSchemas.remove }, async (req, reply) => {
      let outcome;
      try {
        outcome = this.exists ? await (await this.open()).repository.deleteJob(req.params.id) : "not-found";
      } catch (error) {
        unavailable(error);
      }
      if (outcome === "not-found") throw new HttpError(404, "E_NOT_FOUND", `no job ${req.params.id}`);
      if (outcome === "unfinished") throw new HttpError(409, "E_JOB_UNFINISHED", `job ${req.params.id} is queued or running: it can be deleted once it is done or failed`);
      return reply.code(204).send();
    });

    scope.get<{ Params: { id: string } }>("/v1/jobs/:id/results", { schema: routeSchemas.results }, async (req, reply) => {
      const query = resultsQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(400, "E_VALIDATION", validationMessage(query.error.issues));
      const job = await this.find(req.params.id);
      let rows;
      try {
        rows = await (await this.open()).repository.results(job.id, query.data.offset ?? 0, query.data.limit ?? 1000);
      } catch (error) {
        unavailable(error);
      }
      // One page is read at once (bounded by limit): better-sqlite3 cannot write while a cursor is open.
      const lines = rows.map((r) => JSON.stringify({ seq: r.seq, ...(r.docId !== undefined ? { id: r.docId } : {}), text: r.text, entities: r.entities, decision: r.decision, ...(r.modelVersion ? { model_version: r.modelVersion } : {}) }) + "\n");
      return reply.type("application/x-ndjson").send(Readable.from(lines));
    });
  };

  private async find(id: string) {
    let job;
    try {
      job = this.exists ? await (await this.open()).repository.getJob(id) : undefined;
    } catch (error) {
      unavailable(error);
    }
    if (!job) throw new HttpError(404, "E_NOT_FOUND", `no job ${id}`);
    return job;
  }
}
