// The faults of issue 10, as a table: each names the combinations it applies to (and why not the
// others) and injects itself into a running Stack mid-job, for real: kills by signal, connections
// terminated by PostgreSQL, the cluster and Redis stopped and started, the SQLite file locked by
// another process. inject() resolves at the end of the fault (what it undid, restarted or released),
// with notes that show the fault happened (which connections were cut, how long a worker took to
// exit). The runner (run.mjs) sends the live traffic and measures the recovery around it.
// What it leaves out: faults of the host itself (disk full, clock jumps) and of the network between
// machines (everything here is on loopback).

import { postgresControl, terminateBackends } from "../../dist/test/postgres-server.js";
import { lockSqlite } from "../../dist/test/sqlite-locker.js";
import { PROBE, registry } from "./stack.mjs";
import { burst } from "./traffic.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const onlyPostgres = ({ backend }) => (backend === "postgres" ? undefined : "PostgreSQL only");
const onlySqlite = ({ backend }) => (backend === "sqlite" ? undefined : "SQLite only");
const onlyWorkers = ({ workers }) => (workers > 0 ? undefined : "needs workers (Redis)");
const always = () => undefined;

/** Seconds a process took to exit after a signal, or null (then SIGKILLed) after limitMs. */
async function exitWithin(entry, limitMs) {
  const t0 = performance.now();
  const timer = sleep(limitMs).then(() => "late");
  const outcome = await Promise.race([entry.proc.exited.then(() => "exited"), timer]);
  if (outcome === "late") {
    entry.proc.child.kill("SIGKILL");
    await entry.proc.exited;
    return null;
  }
  return (performance.now() - t0) / 1000;
}

export const FAULTS = [
  {
    name: "serve-kill",
    label: "SIGKILL serve mid-job, restart",
    applies: always,
    // The server is down between the kill and the restart: live requests then fail by nature.
    async inject(stack, { holdMs }) {
      const old = stack.serve;
      stack.signal(old, "SIGKILL");
      await old.proc.exited;
      await sleep(Math.min(holdMs, 2000));
      stack.startServe();
      return ["serve down ~2 s (requests refused meanwhile by nature)"];
    },
  },
  {
    name: "worker-kill",
    label: "SIGKILL a worker mid-job",
    applies: onlyWorkers,
    async inject(stack) {
      const victim = stack.workers[0];
      stack.signal(victim, "SIGKILL");
      await victim.proc.exited;
      await sleep(2000); // live traffic while the job goes on without it
      return [`worker ${victim.proc.child.pid} killed, ${stack.workers.length - 1} left, none restarted`];
    },
  },
  {
    name: "pg-terminate",
    label: "pg_terminate_backend mid-job",
    applies: onlyPostgres,
    async inject(stack, { holdMs }) {
      const cut = await terminateBackends(stack.db, PROBE);
      const names = [...new Set(cut)].map((name) => `${name || "?"} ×${cut.filter((c) => c === name).length}`);
      await sleep(Math.min(holdMs, 2000)); // live traffic while the pools reconnect
      return [`${cut.length} connection(s) terminated: ${names.join(", ") || "none"}`];
    },
  },
  {
    name: "pg-restart",
    label: "PostgreSQL stopped, restarted",
    applies: onlyPostgres,
    async inject(_stack, { holdMs }) {
      const control = await postgresControl();
      if (!control) throw new Error("the PostgreSQL server is not the bench's own: it cannot be stopped");
      await control.stop();
      await sleep(holdMs);
      await control.start();
      return [`down ${holdMs / 1000} s (fast shutdown)`];
    },
  },
  {
    name: "sqlite-lock",
    label: "SQLite file locked by another process",
    applies: onlySqlite,
    async inject(stack, { holdMs }) {
      const lock = await lockSqlite(stack.db);
      const entry = { pid: () => lock.pid, stop: () => lock.release() };
      registry.add(entry);
      try {
        await sleep(holdMs);
      } finally {
        await lock.release();
        registry.delete(entry);
      }
      return [`write lock (BEGIN EXCLUSIVE) held ${holdMs / 1000} s by pid ${lock.pid}`];
    },
  },
  {
    name: "redis-restart",
    label: "Redis restarted empty mid-job",
    applies: onlyWorkers,
    async inject(stack, { holdMs }) {
      const before = stack.redis.pid();
      await stack.redis.restart();
      await sleep(Math.min(holdMs, 2000));
      return [`redis-server ${before} SIGKILLed, ${stack.redis.pid()} started with no data`];
    },
  },
  {
    name: "redis-down",
    label: "Redis shut down, then back",
    applies: onlyWorkers,
    async inject(stack, { holdMs }) {
      await stack.redis.shutdown();
      await sleep(holdMs);
      await stack.redis.restart();
      return [`SHUTDOWN NOSAVE, down ${holdMs / 1000} s, back empty`];
    },
  },
  {
    name: "worker-term-no-redis",
    label: "worker SIGTERM after Redis went away",
    applies: onlyWorkers,
    async inject(stack) {
      await stack.redis.shutdown();
      await sleep(1500);
      const victim = stack.workers[0];
      stack.signal(victim, "SIGTERM");
      const seconds = await exitWithin(victim, 15_000);
      const code = victim.proc.child.exitCode;
      await stack.redis.restart();
      stack.startWorker(); // as a supervisor would
      return [seconds === null ? "worker IGNORED SIGTERM for 15 s (SIGKILLed)" : `worker exited ${seconds.toFixed(1)} s after SIGTERM (code ${code})`, "Redis back empty, a new worker started"];
    },
  },
  {
    name: "overload",
    label: "overload: burst beyond --max-queue",
    applies: always,
    // Fewer connections than --max-connections (256), many more texts than --max-queue: the texts
    // beyond the queue must get 503 with Retry-After, the others their answer.
    async inject(stack, { burstSize }) {
      const texts = Math.floor(stack.settings.maxQueue / 2);
      const stats = await burst(stack.url, burstSize, { texts });
      return { notes: [`${burstSize} concurrent requests of ${texts} texts (${burstSize * texts} texts) vs --max-queue ${stack.settings.maxQueue}: ${stats.ok} ok`], traffic: stats };
    },
  },
  {
    name: "overload-connections",
    label: "overload: burst beyond --max-connections",
    // The HTTP layer alone: the same on every database, with or without workers.
    applies: ({ backend, workers }) => (backend === "sqlite" && workers === 0 ? undefined : "HTTP layer only: measured once, on SQLite without workers"),
    async inject(stack) {
      const count = 400;
      const stats = await burst(stack.url, count);
      return { notes: [`${count} concurrent connections vs --max-connections 256 (default): the ones beyond are closed at once by design; ${stats.ok} ok`], traffic: stats };
    },
  },
];
