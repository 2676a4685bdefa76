// The seam between storing a job and getting it annotated: JobService stores the job, then hands its
// id to a dispatcher. Two exist: the in-process JobRunner (the default, runner.ts) and the BullMQ
// queue that `nerkit worker` processes read (`serve --queue`, queue-dispatcher.ts). Both only ever
// annotate what is still pending and store results through the repository, whose saveResults is
// idempotent per (job, seq); that is what lets either one be asked twice for the same job without
// doubling a document. Only the interface lives here; dispatcher.ts builds one of the two.
// The sweep: a job can be left `running` with nothing working on it (a write that failed while the
// database was locked, a Redis that restarted empty, a worker killed while marking the job failed).
// JobService calls sweep() periodically; each dispatcher finds such jobs among the unfinished ones
// and picks them up again, or completes their failure, and says in waiting() why a job is not moving.

import { JobRepository } from "../storage/repository.js";

/** Why an unfinished job is not moving, and since when (ISO 8601): GET /v1/jobs/:id shows it. */
export interface Waiting {
  reason: string;
  since: string;
}

export interface JobDispatcher {
  /** Gets a stored job's pending documents annotated (in the background). */
  dispatch(jobId: string): Promise<void>;
  /** Dispatches again the jobs a crash or a shutdown left unfinished; answers their ids. */
  resumeJobs(): Promise<string[]>;
  /** Picks up again the unfinished jobs that nothing is working on, or marks them failed (see above). */
  sweep(): Promise<void>;
  /** Why the job is not moving, as the last sweep (or run) found it; undefined when it is. */
  waiting(jobId: string): Waiting | undefined;
  /** Resolves once nothing this process runs is in progress. */
  idle(): Promise<void>;
  /** Takes no more work and releases what it holds. */
  stop(): Promise<void>;
}

/** Builds the dispatcher once the repository is open. */
export type DispatcherFactory = (repository: JobRepository) => JobDispatcher | Promise<JobDispatcher>;
