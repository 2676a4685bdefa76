// The job repository suite (storage-suite.ts) against SQLite (a temp file per test) and PostgreSQL
// (a schema per test in a database on the server postgres-server.ts finds or starts), and beside it what only
// one of them has: SQLite's WAL mode and schema_migrations, PostgreSQL's schema_migrations after
// concurrent opens, connections the server drops, a missing database, and which PostgreSQL errors
// mean "unavailable".

import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { openRepository } from "../src/serve/storage/open.js";
import { MIGRATIONS as POSTGRES_MIGRATIONS } from "../src/serve/storage/postgres.js";
import { redactedUrl, translatePostgresError } from "../src/serve/storage/postgres-errors.js";
import { StorageUnavailableError } from "../src/serve/storage/repository.js";
import { MIGRATIONS as SQLITE_MIGRATIONS, SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { tempDir } from "./helpers.js";
import { TestDatabase, closedPortUrl, postgresSkipReason, testPostgres } from "./postgres-server.js";
import { storageSuite } from "./storage-suite.js";

// Awaited before any test is registered: registering after an await lets the runner start (and
// run the file's after hooks) in between.
const postgresSkip = await postgresSkipReason();
const dir = tempDir("nerkit-storage-");
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

storageSuite("SQLite", {
  freshDatabase: async () => join(dir, `jobs-${files++}.db`),
  unreachableDatabase: async () => {
    const plainFile = join(dir, "plain-file");
    writeFileSync(plainFile, "x");
    return { location: join(plainFile, "jobs.db") };
  },
  lockJobs: async (file) => {
    const locker = new Database(file);
    locker.exec("BEGIN EXCLUSIVE");
    return async () => {
      locker.exec("ROLLBACK");
      locker.close();
    };
  },
});

// One database for this file and a schema of its own for each test (through search_path in the
// URL): a schema takes milliseconds, a database a few hundred.
let database: Promise<TestDatabase> | undefined;
let schemas = 0;
after(async () => (await database)?.drop());

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

async function freshPostgres(): Promise<string> {
  database ??= testPostgres().then((d) => d ?? assert.fail("no test PostgreSQL"));
  const url = new URL((await database).url);
  const schema = `test_${schemas++}`;
  await sql(url.toString(), `CREATE SCHEMA ${schema}`);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

const SECRET = "hunter2-not-to-be-shown";

storageSuite(
  "PostgreSQL",
  {
    freshDatabase: freshPostgres,
    unreachableDatabase: async () => ({ location: await closedPortUrl(SECRET), secret: SECRET }),
    lockJobs: async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query("BEGIN");
      await client.query("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
      return async () => {
        await client.query("ROLLBACK");
        await client.end();
      };
    },
  },
  { skip: postgresSkip },
);

describe("SQLite only", () => {
  test("a database at migration 2 is upgraded to the audit columns: its jobs and results read as before, without audit", async () => {
    const file = join(dir, "before-audit.db");
    const db = new Database(file);
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 2)) {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?)").run(m.version, new Date().toISOString());
    }
    db.prepare("INSERT INTO jobs (id, created_at, status, total, done_count) VALUES ('old', '2026-01-01T00:00:00.000Z', 'done', 1, 1)").run();
    db.prepare("INSERT INTO documents VALUES ('old', 0, NULL, 'Ann', 'done')").run();
    db.prepare("INSERT INTO results VALUES ('old', 0, '[]', 'review')").run();
    db.close();
    const repo = SqliteJobRepository.open(file);
    try {
      const job = await repo.getJob("old");
      assert.equal(job?.audit, undefined);
      assert.deepEqual((await repo.reviewQueue(0, 10)).map((r) => [r.jobId, r.seq, r.audit]), [["old", 0, undefined]]);
    } finally {
      await repo.close();
    }
  });

  test("migrations run once: reopening a database applies nothing again; the journal is WAL", async () => {
    const file = join(dir, "migrations.db");
    for (let i = 0; i < 3; i++) await SqliteJobRepository.open(file).close();
    const db = new Database(file, { readonly: true });
    try {
      const versions = db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[];
      assert.deepEqual(versions.map((v) => v.version), SQLITE_MIGRATIONS.map((m) => m.version));
      assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    } finally {
      db.close();
    }
  });

  test("a write waiting for another connection's lock leaves the event loop free: a timer releases the lock and the write then succeeds", async () => {
    const file = join(dir, "waiting.db");
    await SqliteJobRepository.open(file).close();
    const repository = SqliteJobRepository.open(file, { busyTimeoutMs: 3000 });
    const locker = new Database(file);
    try {
      locker.exec("BEGIN EXCLUSIVE");
      // With a synchronous busy wait this timer could not fire before the wait gave up (3 s).
      const started = Date.now();
      let releasedAt = 0;
      setTimeout(() => {
        locker.exec("ROLLBACK");
        releasedAt = Date.now();
      }, 200);
      const job = await repository.createJob([{ text: "Alice" }]);
      assert.ok(releasedAt > 0, "the write succeeded while the lock was held");
      assert.ok(releasedAt - started < 1500, `the timer fired ${releasedAt - started} ms late`);
      assert.equal((await repository.getJob(job.id))?.total, 1);
    } finally {
      if (locker.inTransaction) locker.exec("ROLLBACK");
      locker.close();
      await repository.close();
    }
  });

  test("opening a migrated database takes no write lock: it opens while another connection holds one", async () => {
    const file = join(dir, "open-locked.db");
    await SqliteJobRepository.open(file).close();
    const locker = new Database(file);
    try {
      locker.exec("BEGIN EXCLUSIVE");
      const started = Date.now();
      const repository = SqliteJobRepository.open(file, { busyTimeoutMs: 100 });
      try {
        assert.ok(Date.now() - started < 1000);
        assert.deepEqual(await repository.unfinishedJobs(), []);
        await assert.rejects(repository.createJob([{ text: "Alice" }]), StorageUnavailableError);
      } finally {
        await repository.close();
      }
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
  });
});

describe("PostgreSQL only", { skip: postgresSkip }, () => {
  test("schema_migrations records each migration once after three processes open a new database at once", async () => {
    const url = await freshPostgres();
    const repositories = await Promise.all([0, 1, 2].map(() => openRepository(url)));
    await Promise.all(repositories.map((r) => r.close()));
    const rows = await sql<{ version: number }>(url, "SELECT version FROM schema_migrations ORDER BY version");
    assert.deepEqual(rows.map((r) => r.version), POSTGRES_MIGRATIONS.map((m) => m.version));
  });

  test("regression: connections the server drops do not end the process; the next call connects afresh", async () => {
    const url = await freshPostgres();
    const repo = await openRepository(url);
    try {
      const job = await repo.createJob([{ text: "Alice" }]);
      const dropped = await sql<{ ok: boolean }>(url, "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
      assert.ok(dropped.length > 0 && dropped.every((r) => r.ok));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await repo.getJob(job.id), job);
    } finally {
      await repo.close();
    }
  });

  test("a database that does not exist is StorageUnavailableError naming it, without the password", async () => {
    const url = new URL(await freshPostgres());
    url.pathname = "/nerkit_no_such_database";
    url.password = SECRET;
    await assert.rejects(openRepository(url.toString()), (error: Error) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.match(error.message, /nerkit_no_such_database.*\(3D000\)/);
      assert.ok(!error.message.includes(SECRET), error.message);
      return true;
    });
  });
});

describe("PostgreSQL errors", () => {
  const QUERY_SECRET = "query-secret-not-to-be-shown";
  const url = `postgres://nerkit:${SECRET}@db.example:5432/jobs?sslmode=require&password=${QUERY_SECRET}`;

  test("redactedUrl keeps user, host, port and database, and drops the password and query", () => {
    assert.equal(redactedUrl(url), "postgres://nerkit@db.example:5432/jobs");
    assert.equal(redactedUrl("postgres://db.example/jobs"), "postgres://db.example/jobs");
  });

  test("which errors mean the database is unavailable: table of cases", () => {
    const coded = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code });
    const cases: [unknown, boolean][] = [
      [coded("ECONNREFUSED"), true],
      [coded("ENOTFOUND"), true],
      [new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")], "connect failed"), true],
      [coded("57P01", "terminating connection due to administrator command"), true],
      [coded("53300", "sorry, too many clients already"), true],
      [coded("08006"), true],
      [coded("08001"), true],
      [coded("57014", "canceling statement due to statement timeout"), true],
      [coded("55P03", "canceling statement due to lock timeout"), true],
      [coded("3D000"), true],
      [coded("28P01", `password authentication failed for user "nerkit" (${SECRET}, ${QUERY_SECRET})`), true],
      [new Error("Connection terminated unexpectedly"), true],
      [new Error("Connection terminated due to connection timeout"), true],
      [coded("23505", "duplicate key value violates unique constraint"), false],
      [coded("42P01", 'relation "jobs" does not exist'), false],
      [new TypeError("x is not a function"), false],
    ];
    for (const [error, unavailable] of cases) {
      const translated = translatePostgresError(error, url);
      assert.equal(translated instanceof StorageUnavailableError, unavailable, String(error));
      if (translated instanceof StorageUnavailableError) {
        assert.match(translated.message, /^the job database postgres:\/\/nerkit@db\.example:5432\/jobs is unavailable/);
        assert.ok(!translated.message.includes(SECRET) && !translated.message.includes(QUERY_SECRET), translated.message);
      } else {
        assert.equal(translated, error);
      }
    }
  });
});
