// The seam between storing a job and getting it annotated: JobService stores the job, then hands its
// id to a dispatcher. Two exist: the in-process JobRunner (the default) and the BullMQ queue that
// `nerkit worker` processes read (`serve --queue`). Both only ever annotate what is still pending and
// store results through the repository, whose saveResults is idempotent per (job, seq); that is
// what lets either one be asked twice for the same job without doubling a document.

import { RoutingOptions } from "../../postprocess/routing.js";
import { JobRepository } from "../storage/repository.js";
import { assertRedisClient, redisConnection } from "./chunks.js";
import { Annotate, JobRunner, JobRunnerOptions } from "./runner.js";

export interface JobDispatcher {
  /** Gets a stored job's pending documents annotated (in the background). */
  dispatch(jobId: string): Promise<void>;
  /** Dispatches again the jobs a crash or a shutdown left unfinished; answers their ids. */
  resumeJobs(): Promise<string[]>;
  /** Resolves once nothing this process runs is in progress. */
  idle(): Promise<void>;
  /** Takes no more work and releases what it holds. */
  stop(): Promise<void>;
}

/** Builds the dispatcher once the repository is open. */
export type DispatcherFactory = (repository: JobRepository) => JobDispatcher | Promise<JobDispatcher>;

/** Jobs annotated in this process, in the background. */
export function localDispatcher(annotate: Annotate, options: JobRunnerOptions): DispatcherFactory {
  return (repository) => new JobRunner(repository, annotate, options);
}

/** Jobs cut into chunks on the BullMQ queue at url, for `nerkit worker`s. The URL and the Redis client are checked now. */
export function queueDispatcher(url: string, options: { chunkSize: number; routing?: RoutingOptions }): DispatcherFactory {
  assertRedisClient();
  const connection = redisConnection(url);
  // BullMQ (and ioredis) are loaded only by a server that uses a queue.
  return async (repository) => new (await import("./queue-dispatcher.js")).QueueDispatcher(repository, connection, options.chunkSize, options.routing);
}
