// nerkit/web: the pipeline in a browser. `loadPipeline(folder)` loads a folder written by
// `nerkit export` (a base URL, or the files a person picked) and runs the same pipeline as Node's
// (tokenizers, the five aggregation strategies, windows, Viterbi, calibration) on onnxruntime-web's
// WASM build, which this entry imports and the bundle (scripts/build-web.mjs) carries; its .wasm
// file is fetched from beside the bundle. Post-processing (rules, merge, whole-word redaction)
// comes along. Imports no Node built-in (test/browser-imports.test.ts) and keeps no global state.
// Left out: training, evaluation and file formats (Node only).

import * as ort from "onnxruntime-web/wasm";
import type { NerPipeline } from "../infer/ner-pipeline.js";
import type { ModelSource } from "./model-folder.js";
import { type WebLoadOptions, loadWebPipeline } from "./load-pipeline.js";
import type { WebRuntime } from "./web-session.js";

export interface LoadOptions extends WebLoadOptions {
  /**
   * The onnxruntime-web module to run on; the WASM build bundled here by default. For WebGPU pass
   * `await import("onnxruntime-web/webgpu")` with `device: "webgpu"` (untested here).
   */
  runtime?: WebRuntime;
}

/** A pipeline from an exported model folder: `run(texts, options)` gives entities, as in Node. */
export function loadPipeline(source: ModelSource, options: LoadOptions = {}): Promise<NerPipeline> {
  return loadWebPipeline(options.runtime ?? (ort as unknown as WebRuntime), source, options);
}

export { NerPipeline, DEFAULT_READING, PIPELINE_PARITY, WINDOW_MODES } from "../infer/ner-pipeline.js";
export type { Entity, TokenItem, PredictOptions, WindowMode, DecodeMode } from "../infer/ner-pipeline.js";
export type { AggregationStrategy } from "../infer/aggregation.js";
export type { ModelSource, PickedFile, FetchLike } from "./model-folder.js";
export type { WebLoadOptions };
export type { WebRuntime, WebDevice } from "./web-session.js";
export { NerkitError } from "../errors.js";
export type { ErrorCode } from "../errors.js";
export { MASK_CHAR, REDACT_STYLES, redact, mergeEntities, applyRules, compileRules, postprocess, wholeWordRegions } from "../postprocess/index.js";
export type { RedactOptions, RedactStyle, Redacted, Replacement, Span } from "../postprocess/index.js";
