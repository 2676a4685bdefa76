// The two ways a server gets its jobs annotated, as factories that app.ts picks from: the
// in-process JobRunner (the default) and the BullMQ queue that `nerkit worker` processes read
// (`serve --queue`). The interface both implement lives in job-dispatcher.ts, so that runner.ts and
// queue-dispatcher.ts never import this file, which imports them.

import { RoutingOptions } from "../../postprocess/routing.js";
import type { PrecisionAsk } from "../precision-routing.js";
import { assertRedisClient, redisConnection } from "./chunks.js";
import { DispatcherFactory } from "./job-dispatcher.js";
import { Annotate, JobRunner, JobRunnerOptions } from "./runner.js";

/** Jobs annotated in this process, in the background. */
export function localDispatcher(annotate: Annotate, options: JobRunnerOptions): DispatcherFactory {
  return (repository) => new JobRunner(repository, annotate, options);
}

/** Jobs cut into chunks on the BullMQ queue at url, for `nerkit worker`s. The URL and the Redis client are checked now. */
export function queueDispatcher(url: string, options: { chunkSize: number; routing?: RoutingOptions; precision?: PrecisionAsk; onError?: (line: string) => void }): DispatcherFactory {
  assertRedisClient();
  const connection = redisConnection(url);
  // BullMQ (and ioredis) are loaded only by a server that uses a queue.
  return async (repository) => new (await import("./queue-dispatcher.js")).QueueDispatcher(repository, connection, options.chunkSize, options.routing && { routing: options.routing, ...(options.precision ? { precision: options.precision } : {}) }, options.onError);
}
