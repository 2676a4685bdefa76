// What `serve --queue` and `nerkit worker --retrain` agree on about retrains on the queue: the BullMQ
// queue's name (its own, beside the annotation chunks', so that only workers started with --retrain
// take a retrain), a job's data (the retrain's id and the server's retrain settings, so that a worker
// trains and judges as the server was told to), and the job's BullMQ id. The id carries the row's
// start time: a new database starts again at r1, and a Redis that kept an old failed "r1" would
// otherwise make adding the new one a no-op.
// What it leaves out: the Queue and the Worker (retrain-queue.ts, retrain-worker.ts).

import type { RetrainRecord } from "../storage/retrains.js";
import type { RetrainSettings } from "./run.js";

export const RETRAIN_QUEUE_NAME = "nerkit-retrains";

export interface RetrainJob {
  retrainId: string;
  /** The server's settings; the worker's --threads replaces their threads. Paths in them (--train,
   * --gold) must name the same files on the worker's machine (a shared filesystem, as --models). */
  settings: RetrainSettings;
}

/** The BullMQ id of a retrain's job. */
export function retrainJobId(retrain: Pick<RetrainRecord, "id" | "createdAt">): string {
  return `retrain-${retrain.id}-${Date.parse(retrain.createdAt)}`;
}
