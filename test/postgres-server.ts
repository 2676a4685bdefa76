// A PostgreSQL server for tests, and a database of its own (nerkit_test_<random>) for each caller.
// The server is the one NERKIT_TEST_POSTGRES_URL names (it must allow CREATE DATABASE) or else a
// throwaway cluster this process starts from the PostgreSQL binaries on the machine: initdb in a
// temp folder, trust authentication, listening on 127.0.0.1 only at a free port, fsync off. When
// the process runs as root the binaries run as the postgres user (PostgreSQL refuses root). The
// cluster stops and its folder is removed when this process ends, however it ends: a shell beside
// the server waits for this process's end of a pipe to close; the same pipe carries "stop" and
// "start", so that fault tests can take the throwaway cluster down and bring it back on the same
// port with its data (postgresControl), and terminateBackends cuts a database's connections. Where
// no PostgreSQL can be had, tests that need one are skipped with the reason; under CI (the CI
// variable set) that is an error.
// What it leaves out: sharing one cluster between test processes (each starts its own in about 1 s).

import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

export interface TestDatabase {
  /** postgres:// URL of a new, empty database. */
  url: string;
  /** Drops the database, closing what is still connected to it. */
  drop(): Promise<void>;
}

/** Stopping and starting the throwaway cluster again, on the same folder and port (the data kept). */
export interface ClusterControl {
  /** A fast shutdown (clients are disconnected); resolves once the server has shut down. */
  stop(): Promise<void>;
  /** Resolves once the server accepts connections again. */
  start(): Promise<void>;
}

type Server = { adminUrl: string; control?: ClusterControl } | { skip: string };

const run = promisify(execFile);
const STARTUP_TIMEOUT_MS = 20_000;

let server: Promise<Server> | undefined;

/** Why the tests that need PostgreSQL are skipped here, or undefined when a server is there (started if need be). */
export async function postgresSkipReason(): Promise<string | undefined> {
  const found = await (server ??= findServer());
  return "skip" in found ? found.skip : undefined;
}

/** A fresh database on the test server; undefined where postgresSkipReason gives a reason. */
export async function testPostgres(): Promise<TestDatabase | undefined> {
  const found = await (server ??= findServer());
  if ("skip" in found) return undefined;
  const name = `nerkit_test_${randomBytes(6).toString("hex")}`;
  await admin(found.adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(found.adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(found.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A postgres:// URL to a port that nothing listens on, with a password that must never be printed. */
export async function closedPortUrl(password: string): Promise<string> {
  return `postgres://nerkit:${password}@127.0.0.1:${await freePort()}/nerkit`;
}

/** Stop and start for the throwaway cluster; undefined where the server is NERKIT_TEST_POSTGRES_URL's (not ours to stop) or there is none. */
export async function postgresControl(): Promise<ClusterControl | undefined> {
  const found = await (server ??= findServer());
  return "control" in found ? found.control : undefined;
}

/**
 * Terminates every other connection to the database at url (pg_terminate_backend), from a
 * connection of its own, as an operator or a failover would; answers the application_name of each
 * connection it terminated. Connections whose application_name is `spare` are left alone (a test's
 * own probes).
 */
export async function terminateBackends(url: string, spare = ""): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ terminated: boolean; application_name: string }>(
      `SELECT pg_terminate_backend(pid) AS terminated, application_name FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND ($1 = '' OR application_name <> $1)`,
      [spare],
    );
    return rows.filter((r) => r.terminated).map((r) => r.application_name);
  } finally {
    await client.end();
  }
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function findServer(): Promise<Server> {
  const given = process.env.NERKIT_TEST_POSTGRES_URL;
  // A server that was named but cannot be used is an error: skipping would hide the mistake.
  if (given) return { adminUrl: given };
  const started = await startCluster().catch((error: Error) => ({
    skip: `no PostgreSQL: cannot start a throwaway cluster (${error.message}); install PostgreSQL (.ci/services/postgres.sh) or set NERKIT_TEST_POSTGRES_URL`,
  }));
  if ("skip" in started && process.env.CI) throw new Error(`CI must run the PostgreSQL tests, but there is ${started.skip}`);
  return started;
}

/** The folder holding initdb and postgres: the newest Debian /usr/lib/postgresql/<version>/bin, else one on PATH. */
function binaries(): string | undefined {
  const debian = "/usr/lib/postgresql";
  const versions = existsSync(debian) ? readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const candidates = [...versions.map((v) => join(debian, v, "bin")), ...(process.env.PATH ?? "").split(delimiter)];
  return candidates.find((dir) => dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));
}

/** The command prefix and owner that run PostgreSQL: as is, or as the postgres user when this is root. */
async function runAs(): Promise<{ prefix: string[]; owner?: { uid: number; gid: number } }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
    return { prefix: ["runuser", "-u", "postgres", "--"], owner: { uid: Number(uid.stdout), gid: Number(gid.stdout) } };
  } catch {
    throw new Error("this runs as root, which PostgreSQL refuses, and there is no postgres user to run it as");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

/**
 * Runs as the server's owner with a pipe from this process on stdin: starts postgres, then reads
 * commands from the pipe, one a line: "stop" asks for a fast shutdown and waits for it, "start"
 * starts postgres again on the same folder and port. Once the pipe closes (this process ended,
 * however it ended, or closed it) it shuts postgres down, waits for it and removes the folder.
 * Arguments: bin folder, cluster folder, port.
 */
const SUPERVISOR = `
bin=$1 dir=$2 port=$3
start() { "$bin/postgres" -D "$dir/data" -k "$dir" -h 127.0.0.1 -p "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off & pid=$!; }
start
while read -r command; do
  case "$command" in
    stop) kill -INT $pid 2>/dev/null; wait $pid ;;
    start) start ;;
  esac
done
kill -INT $pid 2>/dev/null
wait $pid
status=$?
rm -rf "$dir"
exit $status`;

async function startCluster(): Promise<Server> {
  const bin = binaries();
  if (!bin) throw new Error("no initdb and postgres binaries in /usr/lib/postgresql/*/bin or on PATH");
  const { prefix, owner } = await runAs();
  const dir = mkdtempSync(join(tmpdir(), "nerkit-pg-"));
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const [command, ...args] = [...prefix, join(bin, "initdb"), "-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"];
    await run(command, args).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed: ${error.stderr?.trim() || error.message}`);
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const [command, ...args] = [...prefix, "sh", "-c", SUPERVISOR, "sh", bin, dir, String(port)];
  const child = spawn(command, args, { stdio: ["pipe", "ignore", "pipe"] });
  const log = serverLog(child);
  try {
    await log.next(READY, STARTUP_TIMEOUT_MS);
  } catch (error) {
    child.stdin!.end();
    throw error;
  }
  // Neither the server nor its pipes keep this process alive; its exit closes the pipe, which stops the server.
  child.unref();
  (child.stdin as Socket).unref();
  (child.stderr as Socket).unref();
  const ask = (line: string, until: RegExp) => {
    const seen = log.next(until, STARTUP_TIMEOUT_MS);
    child.stdin!.write(`${line}\n`);
    return seen;
  };
  const control: ClusterControl = { stop: () => ask("stop", SHUT_DOWN), start: () => ask("start", READY) };
  return { adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, control };
}

const READY = /database system is ready to accept connections/;
const SHUT_DOWN = /database system is shut down/;

/**
 * The server's log, read for as long as it runs (a full pipe would stall it); only its tail is kept.
 * next(pattern) resolves when a line matching pattern is written after the call, and rejects after
 * timeoutMs or when the supervisor exits.
 */
function serverLog(child: ReturnType<typeof spawn>): { next(pattern: RegExp, timeoutMs: number): Promise<void> } {
  let tail = "";
  const waiting = new Set<{ pattern: RegExp; settle: (error?: Error) => void }>();
  const failAll = (why: string) => {
    for (const w of waiting) w.settle(new Error(`postgres ${why}: ${tail.trim().split("\n").slice(-5).join(" | ")}`));
  };
  child.on("error", (error) => failAll(error.message));
  child.on("exit", (code) => failAll(`exited with ${code}`));
  let partial = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) for (const w of waiting) if (w.pattern.test(line)) w.settle();
  });
  return {
    next: (pattern, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const waiter = {
          pattern,
          settle: (error?: Error) => {
            clearTimeout(timer);
            waiting.delete(waiter);
            if (error) reject(error);
            else resolve();
          },
        };
        const timer = setTimeout(() => waiter.settle(new Error(`postgres did not log ${pattern} within ${timeoutMs / 1000} s: ${tail.trim().split("\n").slice(-5).join(" | ")}`)), timeoutMs);
        waiting.add(waiter);
      }),
  };
}
