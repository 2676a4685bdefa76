// Makes a model's reference profile (metrics/reference-profile.ts): the drift statistics of
// held-out texts read exactly as the service reads a document (reading.ts: the whole text,
// aggregation first, overlapping windows; entities cleaned as every route cleans them:
// jobs/annotate.ts modelEntities), so that serve's window and the reference differ only by the
// texts. Used by `nerkit train` (on --dev), `nerkit profile` and `nerkit calibrate`.
// What it leaves out: routing and thresholds (a profile counts every entity the model returns).

import { join } from "node:path";
import { PieceTokenizer, countPieces } from "../../infer/word-pieces.js";
import { DEFAULT_READING, Entity } from "../../infer/pipeline.js";
import { writeFileAtomic } from "../../io/files.js";
import { DriftCounts, ProfiledDocument, documentBins } from "../../metrics/drift.js";
import { REFERENCE_PROFILE_FILE, ReferenceProfileMeta, referenceProfileJson } from "../../metrics/reference-profile.js";
import { modelEntities, wellFormed } from "../jobs/annotate.js";
import { PipelineLike, SERVICE_WINDOWS, readTexts } from "../reading.js";

/** Texts per pipeline run while profiling. */
const PROFILE_BATCH = 32;

/** One annotated document as the drift statistics see it (serve's window uses the same). */
export function profiledDocument(pipeline: { readonly tokenizer?: PieceTokenizer }, text: string, entities: ProfiledDocument["entities"]): ProfiledDocument {
  return { chars: text.length, entities, pieces: pipeline.tokenizer ? countPieces(pipeline.tokenizer, text) : undefined };
}

/** The statistics of `texts` as the service would read them; `onProgress` hears the documents done. */
export async function profileTexts(pipeline: PipelineLike, texts: readonly string[], onProgress?: (done: number) => void): Promise<DriftCounts> {
  const counts = new DriftCounts();
  for (let i = 0; i < texts.length; i += PROFILE_BATCH) {
    const chunk = texts.slice(i, i + PROFILE_BATCH).map(wellFormed);
    const results = await readTexts(pipeline, chunk, DEFAULT_READING.aggregation);
    results.forEach((items, k) => counts.add(documentBins(profiledDocument(pipeline, chunk[k], modelEntities(items as Entity[], chunk[k])))));
    onProgress?.(Math.min(i + PROFILE_BATCH, texts.length));
  }
  return counts;
}

export interface ProfileSource {
  madeBy: string;
  /** The data file as the user named it, its SHA-256 and what one document is (data/profile-texts.ts). */
  path: string;
  sha256: string;
  unit: string;
}

/** Profiles `texts` with `pipeline` and writes reference-profile.json into `modelDir` (atomically); returns the file's path and the counts. */
export async function writeReferenceProfile(
  modelDir: string,
  pipeline: PipelineLike,
  texts: readonly string[],
  source: ProfileSource,
  onProgress?: (done: number) => void,
): Promise<{ file: string; counts: DriftCounts }> {
  const counts = await profileTexts(pipeline, texts, onProgress);
  const meta: ReferenceProfileMeta = {
    madeBy: source.madeBy,
    created: new Date().toISOString(),
    reading: { aggregation: DEFAULT_READING.aggregation, windows: SERVICE_WINDOWS, scores: "raw" },
    data: { path: source.path, sha256: source.sha256, documents: counts.documents, unit: source.unit },
  };
  const file = join(modelDir, REFERENCE_PROFILE_FILE);
  writeFileAtomic(file, referenceProfileJson({ meta, counts }));
  return { file, counts };
}
