// Loads a model folder on disk into a NerPipeline (./ner-pipeline.ts, re-exported here with its
// types) running on onnxruntime-node: the checkpoint's config.json and safetensors weights, its
// tokenizer files and calibration.json. Left out: the pipeline's steps (./ner-pipeline.ts) and
// what both loaders share (./pipeline-parts.ts); the browser's loader is ../web/.

import { loadCheckpoint } from "../model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../model/architecture.js";
import { SessionOptions, TokenClassifierSession } from "../model/session.js";
import { readTokenizerFiles } from "../text/tokenizers/load.js";
import { exportedQuantization } from "../model/export/transformers-js.js";
import { readModelCalibration } from "../model/checkpoint/calibration.js";
import { NerPipeline } from "./ner-pipeline.js";
import { pipelineParts } from "./pipeline-parts.js";

export * from "./ner-pipeline.js";

export interface LoadOptions extends SessionOptions {
  /** Apply the folder's calibration.json when it has one (default true); false: raw scores, as if it had none. */
  calibration?: boolean;
}

/**
 * Loads a checkpoint folder (config.json, model.safetensors, tokenizer files) into a pipeline. A
 * folder written by `nerkit export --quantize int8` runs the int8 model, as its onnx/model_quantized.onnx would.
 * The folder's calibration.json, when it has one, is applied to every score (unless `calibration: false`).
 */
export async function loadPipeline(dir: string, options: LoadOptions = {}): Promise<NerPipeline> {
  const checkpoint = loadCheckpoint(dir);
  // Read before the session is built: a bad calibration.json fails fast, naming the file and field.
  const calibration = options.calibration === false ? undefined : readModelCalibration(checkpoint.dir);
  options = { ...options, quantize: options.quantize ?? exportedQuantization(checkpoint.config.raw) };
  const arch = architectureOf(checkpoint.config, `${checkpoint.dir}/config.json`);
  const tokenizerFiles = readTokenizerFiles(checkpoint.dir, { flavor: "transformers" });
  const parts = pipelineParts(arch, tokenizerFiles, checkpoint.dir);
  const session = await TokenClassifierSession.create(arch, (name, into) => checkpoint.weights.tensor(name, into), options);
  return parts.build(session, options.quantize, calibration);
}
