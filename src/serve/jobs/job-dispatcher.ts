// The seam between storing a job and getting it annotated: JobService stores the job, then hands its
// id to a dispatcher. Two exist: the in-process JobRunner (the default, runner.ts) and the BullMQ
// queue that `nerkit worker` processes read (`serve --queue`, queue-dispatcher.ts). Both only ever
// annotate what is still pending and store results through the repository, whose saveResults is
// idempotent per (job, seq); that is what lets either one be asked twice for the same job without
// doubling a document. Only the interface lives here; dispatcher.ts builds one of the two.

import { JobRepository } from "../storage/repository.js";

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
