// The reference profile serve compares with: the model folder's reference-profile.json, or why
// there is none. A missing or unreadable profile turns drift monitoring off (one log line, and
// GET /v1/monitor says why) rather than refusing to serve: the service works without it.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { REFERENCE_PROFILE_FILE, ReferenceProfile, parseReferenceProfile } from "../../metrics/reference-profile.js";

export type ReferenceLookup = { profile: ReferenceProfile; file: string } | { reason: string };

export function loadReferenceProfile(modelDir: string): ReferenceLookup {
  const file = join(modelDir, REFERENCE_PROFILE_FILE);
  if (!existsSync(file)) {
    return { reason: `the model folder has no ${REFERENCE_PROFILE_FILE} (nerkit train writes one on its --dev data; or run nerkit profile --model ${modelDir} --data FILE on representative texts)` };
  }
  try {
    return { profile: parseReferenceProfile(readFileSync(file, "utf8"), file), file };
  } catch (error) {
    const message = error instanceof NerkitError ? error.describe() : `${file}: ${(error as Error).message}`;
    return { reason: `the reference profile cannot be read: ${message}` };
  }
}
