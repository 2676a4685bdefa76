// What the server (`serve --queue`) and `nerkit worker` agree on about the BullMQ queue: its name,
// a chunk's data (a job id and an inclusive range of document seqs), the chunk's BullMQ id, the
// retry policy, and the redis:// URL both are given. A chunk carries no text: the worker reads the
// documents from the database, so Redis holds only pointers and a result is stored in one place.
// The BullMQ id is derived from the job and the range, so adding a chunk again while it waits, runs
// or failed is a no-op; a completed chunk is removed, and adding it again costs a look at its
// documents, all done, and nothing more.
// What it leaves out: the Queue and the Worker themselves (queue-dispatcher.ts, chunk-worker.ts).

import { createRequire } from "node:module";
import { NerkitError } from "../../errors.js";
import { RoutingOptions } from "../../postprocess/routing.js";
import type { PrecisionAsk } from "../precision-routing.js";

export const QUEUE_NAME = "nerkit-chunks";

/** Documents first..last (inclusive) of a stored job. */
export interface Chunk {
  jobId: string;
  first: number;
  last: number;
  /** The server's routing thresholds, so that every worker routes as the server would. */
  routing?: RoutingOptions;
  /** serve --target-precision as asked: the worker routes each text on the thresholds the calibration of
   * the model version that read it records (a promotion changes them; `routing.targets` are the ones the
   * server started with, for a worker outside the registry). */
  precision?: PrecisionAsk;
}

/** What BullMQ needs to reach Redis (ioredis options). */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

/** Tries per chunk and the wait between them (1 s, 2 s, ...); after the last, the job is marked failed. */
export const CHUNK_ATTEMPTS = 3;
export const CHUNK_BACKOFF = { type: "exponential", delay: 1000 } as const;

/** Whether BullMQ can load ioredis: bullmq 6 makes it an optional peer dependency, so installing bullmq does not bring it. */
export function redisClientInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    createRequire(require.resolve("bullmq")).resolve("ioredis");
    return true;
  } catch {
    return false;
  }
}

/** Says now, not at the first chunk, that BullMQ will have no client to reach Redis with. */
export function assertRedisClient(): void {
  if (!redisClientInstalled()) throw new NerkitError("E_USAGE", "--queue needs the ioredis package, which bullmq loads but does not install: npm install ioredis");
}

/** redis://[user:password@]host[:port][/db] (rediss:// for TLS) → connection options; anything else is a usage error. */
export function redisConnection(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NerkitError("E_USAGE", `--queue expects a URL such as redis://127.0.0.1:6379/0, got '${url}'`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (!/^rediss?:$/.test(parsed.protocol) || parsed.hostname === "" || !/^\d*$/.test(db)) {
    throw new NerkitError("E_USAGE", `--queue expects a URL such as redis://127.0.0.1:6379/0, got '${url}'`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: db === "" ? 0 : Number(db),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

/** The chunk's BullMQ id: no ':' (BullMQ refuses it) and never a bare integer. */
export function chunkId(chunk: Chunk): string {
  return `${chunk.jobId}-${chunk.first}-${chunk.last}`;
}

/** The chunks of size chunkSize (the last may be shorter) that hold at least one of seqs, in order. */
export function chunksOf(jobId: string, total: number, chunkSize: number, seqs: Iterable<number>): Chunk[] {
  const starts = new Set<number>();
  for (const seq of seqs) starts.add(seq - (seq % chunkSize));
  return [...starts].sort((a, b) => a - b).map((first) => ({ jobId, first, last: Math.min(total, first + chunkSize) - 1 }));
}
