// The held-out share of reviewed documents: a document is held out when a hash of its id (job id and
// seq) falls below the share, so the split depends on nothing but the document: it never moves
// between training and holdout as reviews accumulate, a retrain never trains on a document an
// earlier one judged on, and a larger share only adds documents to the holdout.
// What it leaves out: stratifying by entity type (a few hundred documents make the shares even enough).

import { createHash } from "node:crypto";

/** A number in [0, 1) fixed by the document's id. */
export function holdoutPosition(jobId: string, seq: number): number {
  const digest = createHash("sha256").update(`${jobId}\u0000${seq}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** Whether the document belongs to the held-out share (0: none, 1: all). */
export function isHeldOut(jobId: string, seq: number, share: number): boolean {
  return holdoutPosition(jobId, seq) < share;
}
