// Whether the Redis of --queue answers now, asked once at start-up by `serve --queue` and `nerkit
// worker`: BullMQ (through ioredis) would otherwise wait for an unreachable Redis for ever, behind a
// server that says it is ready, or a worker that never says so. One connection, no reconnect, a
// PING within a short timeout; the answer is a usage-level error naming the queue without its
// password. What it leaves out: Redis going away later (the dispatcher and the worker log that,
// rate-limited, and reconnect).

import { NerkitError } from "../../errors.js";
import { RedisConnection } from "./chunks.js";

/** How long start-up waits for Redis: a loopback or LAN Redis answers in milliseconds; a host that
 * drops packets would otherwise hold the start for ioredis's 10 s default per attempt. */
export const REDIS_START_TIMEOUT_MS = 3000;

/** redis://host:port/db, never the user or password (the line ends up in logs). */
export function describeQueue(connection: RedisConnection): string {
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  return `${connection.tls ? "rediss" : "redis"}://${host}:${connection.port}/${connection.db}`;
}

/** Resolves once Redis answered a PING; else NerkitError E_IO saying which queue and why, within about timeoutMs. */
export async function checkRedis(connection: RedisConnection, timeoutMs = REDIS_START_TIMEOUT_MS): Promise<void> {
  const { Redis } = await import("ioredis");
  let lastError: Error | undefined;
  const client = new Redis({ ...connection, lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  // ioredis emits each socket error; without a listener it would print them.
  client.on("error", (error: Error) => (lastError ??= error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = client.connect().then(() => client.ping());
    await Promise.race([answer, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)))]);
  } catch (error) {
    const cause = lastError ?? (error as Error);
    const code = (cause as NodeJS.ErrnoException).code;
    throw new NerkitError("E_IO", `--queue ${describeQueue(connection)}: cannot reach Redis: ${code && !cause.message.includes(code) ? `${code} ` : ""}${cause.message}`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
