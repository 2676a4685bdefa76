// Loads a folder written by `nerkit export` into a NerPipeline (../infer/ner-pipeline.ts, the very
// pipeline Node runs) on onnxruntime-web: config.json, tokenizer.json (with tokenizer_config.json
// and special_tokens_map.json when present), the graph config.json's dtype names
// (onnx/model.onnx, or onnx/model_quantized.onnx for an int8 export; a model.onnx at the top also
// loads) and calibration.json when the folder has one. Errors are NerkitErrors naming the file.
// Left out: checkpoints without an ONNX graph (export them first: the browser does not build graphs)
// and the runtime itself (./index.ts passes the WASM build it bundles).

import { NerkitError } from "../errors.js";
import { architectureOf } from "../model/architecture.js";
import { parseModelConfig } from "../model/checkpoint/model-config.js";
import { exportedQuantization, onnxFileName } from "../model/export/transformers-js.js";
import { CALIBRATION_FILE, CalibrationFile, parseCalibrationText } from "../metrics/calibration-file.js";
import { TOKENIZER_FILES } from "../text/tokenizers/tokenizer-files.js";
import { tokenizerFilesIn } from "../text/tokenizers/build.js";
import { pipelineParts } from "../infer/pipeline-parts.js";
import type { NerPipeline } from "../infer/ner-pipeline.js";
import { FetchLike, ModelFolder, ModelSource, modelFolder } from "./model-folder.js";
import { WebDevice, WebRuntime, createWebSession } from "./web-session.js";

export interface WebLoadOptions {
  /** Apply the folder's calibration.json when it has one (default true), as Node's loader does. */
  calibration?: boolean;
  /**
   * "wasm" (default). "webgpu": WebGPU where the runtime is built with it (`runtime: await
   * import("onnxruntime-web/webgpu")`) and the browser has it, else WASM. WebGPU itself is untested
   * here (the tests' headless Chromium has no GPU adapter); the fallback is tested
   * (test/web-parity.test.ts, test/web-webgpu-fallback.test.ts).
   */
  device?: WebDevice;
  /** Replaces the global fetch for a base URL (a service worker's cache, tests). */
  fetch?: FetchLike;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

async function readText(folder: ModelFolder, file: string): Promise<string | undefined> {
  const bytes = await folder.read(file);
  if (bytes === undefined) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    throw new NerkitError("E_ENCODING", "the file is not valid UTF-8", { file: folder.path(file) });
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `not valid JSON: ${(error as Error).message}`, { file });
  }
}

/** A pipeline on `runtime` from an exported model folder (a base URL or picked files). */
export async function loadWebPipeline(runtime: WebRuntime, source: ModelSource, options: WebLoadOptions = {}): Promise<NerPipeline> {
  const folder = modelFolder(source, options.fetch);
  const configText = await readText(folder, "config.json");
  if (configText === undefined) throw new NerkitError("E_IO", "no config.json in the model folder (a folder written by `nerkit export`)", { file: folder.path("config.json") });
  const configFile = folder.path("config.json");
  const config = parseModelConfig(parseJson(configText, configFile), configFile);
  const arch = architectureOf(config, configFile);

  // The tokenizer files, read ahead so that the shared (synchronous) builder can take them.
  const texts = new Map<string, string>();
  for (const file of TOKENIZER_FILES) {
    const text = await readText(folder, file);
    if (text !== undefined) texts.set(file, text);
  }
  if (!texts.has("tokenizer.json")) {
    throw new NerkitError("E_IO", "no tokenizer.json in the model folder: the browser reads the fast tokenizer's file, which `nerkit export` writes", {
      file: folder.path("tokenizer.json"),
    });
  }
  const tokenizerFiles = tokenizerFilesIn({ name: folder.name, path: folder.path, read: (file) => texts.get(file) }, { flavor: "transformers" });
  const parts = pipelineParts(arch, tokenizerFiles, folder.name);

  let calibration: CalibrationFile | undefined;
  if (options.calibration !== false) {
    const text = await readText(folder, CALIBRATION_FILE);
    if (text !== undefined) calibration = parseCalibrationText(text, folder.path(CALIBRATION_FILE));
  }

  const quantize = exportedQuantization(config.raw);
  const graphFile = onnxFileName(quantize === "int8" ? "q8" : "fp32");
  const [file, graph] = await firstPresent(folder, [graphFile, graphFile.replace(/^onnx\//, "")]);
  if (graph === undefined) throw new NerkitError("E_IO", `no ${graphFile} in the model folder (config.json's transformers.js_config.dtype names it)`, { file: folder.path(graphFile) });
  const session = await createWebSession(runtime, graph, folder.path(file), options.device);
  return parts.build(session, quantize, calibration);
}

async function firstPresent(folder: ModelFolder, files: string[]): Promise<[string, Uint8Array | undefined]> {
  for (const file of files) {
    const bytes = await folder.read(file);
    if (bytes !== undefined) return [file, bytes];
  }
  return [files[0], undefined];
}
