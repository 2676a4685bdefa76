// The audit sample: of a batch job's documents that routing auto-accepted, each also goes to the
// review queue, marked audit, with probability `rate`, so that reviews of them estimate the precision
// of what nobody would otherwise look at (review/audit-precision.ts). The draw is a function of
// (seed, job id, document index) alone: sha256 of the three, its first 52 bits read as a uniform
// number in [0, 1). So the server and every `nerkit worker`, a restarted process and a chunk
// annotated twice all draw the same documents, and a run is reproduced from its seed (recorded with
// the job). Drawing each document independently, rather than exactly rate × n of them, keeps the
// draw of one document from depending on any other's decision.
// What it leaves out: /v1/entities, which stores nothing and so has nothing to audit.

import { createHash } from "node:crypto";
import { AuditSettings } from "../storage/repository.js";

/** A uniform number in [0, 1) determined by (seed, job id, document index). */
export function auditDraw(seed: number, jobId: string, seq: number): number {
  const digest = createHash("sha256").update(`nerkit-audit\0${seed}\0${jobId}\0${seq}`).digest();
  // 52 bits: every value is an exact double, and 2^52 of them spread evenly over [0, 1).
  const high = digest.readUInt32BE(0) >>> 12; // 20 bits
  const low = digest.readUInt32BE(4); // 32 bits
  return (high * 2 ** 32 + low) / 2 ** 52;
}

/** Whether a document enters the audit sample: auto-accepted, and drawn. A job without settings (stored before audits existed) audits nothing. */
export function isAudited(settings: AuditSettings | undefined, jobId: string, seq: number, decision: string): boolean {
  if (!settings || settings.rate <= 0 || decision !== "accept") return false;
  return auditDraw(settings.seed, jobId, seq) < settings.rate;
}
