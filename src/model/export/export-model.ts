// Exports a checkpoint folder as a folder that transformers.js and ONNX Runtime load
// (./transformers-js.ts says what goes where): the ONNX graph, float32 (onnx/model.onnx) or with
// int8 Linear layers (onnx/model_quantized.onnx, ./int8-linear.ts); config.json naming that dtype;
// the tokenizer files; and, unless asked not to, the safetensors weights. nerkit builds its own
// graph from safetensors and does not read ONNX files, so the weights are what keeps
// `nerkit predict --model OUT` (and Python's transformers) working on the exported folder; leave them
// out for a folder that only transformers.js or ONNX Runtime will read. A calibration.json (nerkit
// calibrate) is checked and copied along, so that the exported model scores as the original does
// (nerkit reads it from the exported folder; transformers.js ignores it). Each file is written
// atomically (a temporary file, then rename); the folder as a whole is not: a failed export can
// leave the files written before the failure.

import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { NerkitError } from "../../errors.js";
import { ioReason, writeFileAtomic } from "../../io/files.js";
import { Architecture, architectureOf } from "../architecture.js";
import { loadCheckpoint } from "../checkpoint/load-checkpoint.js";
import { calibrationPath, readModelCalibration } from "../checkpoint/calibration.js";
import { Tensor, buildTokenClassifier } from "../graph/encoder.js";
import { WeightBytes, int8Linear } from "./int8-linear.js";
import { ExportDtype, REQUIRED_TOKENIZER_FILE, TOKENIZER_FILES, exportedConfig, onnxFileName } from "./transformers-js.js";

export type Quantization = "int8";
export const QUANTIZATIONS: readonly Quantization[] = ["int8"];

export interface ExportOptions {
  /** Quantize the encoder's Linear layers; float32 when absent. */
  quantize?: Quantization;
  /** Copy the safetensors weights along (default true). */
  safetensors?: boolean;
  /**
   * Standard ONNX operators only, for runtimes other than ONNX Runtime; by default the float graph
   * uses ONNX Runtime's fused kernels (com.microsoft Attention, SkipLayerNormalization, BiasGelu).
   * The int8 graph is always standard operators.
   */
  standardOps?: boolean;
}

export interface ExportResult {
  dir: string;
  /** Every file written, relative to `dir`, the graph first. */
  files: string[];
  /** Size of the ONNX file in bytes. */
  modelBytes: number;
  /** With int8: what the quantized Linear weights take in float32 and quantized. */
  linearWeights?: WeightBytes;
}

/** The serialized graph an export writes, and with int8 the Linear weights' sizes. */
export function buildExportGraph(arch: Architecture, weights: (name: string) => Tensor, quantize?: Quantization, standardOps = false): { model: Uint8Array; linearWeights?: WeightBytes } {
  if (quantize === undefined) return { model: buildTokenClassifier(arch, weights, { fused: !standardOps }) };
  const linearWeights: WeightBytes = { float: 0, quantized: 0 };
  const model = buildTokenClassifier(arch, weights, {
    linear: (tensor, weight) => int8Linear(tensor, weight, linearWeights),
    note: "encoder Linear layers dynamically quantized (uint8 weights per output channel, DynamicQuantizeLinear + MatMulInteger)",
  });
  return { model, linearWeights };
}

function ioError(error: unknown, file: string, what: string): NerkitError {
  return new NerkitError("E_IO", `${what}: ${ioReason(error)}`, { file });
}

/**
 * Copies a file the way writeFileAtomic writes one: to a temporary name in the target folder, then
 * rename. The copy is made writable by its owner (model folders are often read-only, as the
 * fixtures and some caches are), so that it can be edited and exported over again.
 */
function copyFileAtomic(source: string, target: string): void {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    copyFileSync(source, temp);
    chmodSync(temp, statSync(source).mode | 0o200);
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temporary file was never created
    }
    throw ioError(error, target, "cannot write");
  }
}

function makeFolder(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw ioError(error, path, "cannot create the output folder");
  }
}

/** Writes the export of the checkpoint in `modelDir` into `outDir` (created if needed). */
export function exportModel(modelDir: string, outDir: string, options: ExportOptions = {}): ExportResult {
  const checkpoint = loadCheckpoint(modelDir);
  const arch = architectureOf(checkpoint.config, join(checkpoint.dir, "config.json"));
  if (!existsSync(join(checkpoint.dir, REQUIRED_TOKENIZER_FILE))) {
    throw new NerkitError("E_IO", `no ${REQUIRED_TOKENIZER_FILE} in the model folder: transformers.js reads only the fast tokenizer's file (save the tokenizer with transformers' AutoTokenizer)`, {
      file: checkpoint.dir,
    });
  }
  // A broken calibration.json fails the export here, naming its field, rather than every later load of the export.
  const calibrated = readModelCalibration(checkpoint.dir) !== undefined;
  const dtype: ExportDtype = options.quantize ? "q8" : "fp32";
  const { model, linearWeights } = buildExportGraph(arch, (name) => checkpoint.weights.tensor(name), options.quantize, options.standardOps);

  const dir = resolve(outDir);
  const modelFile = onnxFileName(dtype);
  makeFolder(dirname(join(dir, modelFile)));
  const files: string[] = [];
  const write = (name: string, content: string | Uint8Array) => {
    writeFileAtomic(join(dir, name), content);
    files.push(name);
  };
  const copy = (source: string) => {
    const name = relative(checkpoint.dir, source);
    makeFolder(dirname(join(dir, name)));
    copyFileAtomic(source, join(dir, name));
    files.push(name);
  };

  write(modelFile, model);
  write("config.json", JSON.stringify(exportedConfig({ ...checkpoint.config.raw }, dtype), null, 2) + "\n");
  for (const name of TOKENIZER_FILES) if (existsSync(join(checkpoint.dir, name))) copy(join(checkpoint.dir, name));
  if (options.safetensors ?? true) for (const file of checkpoint.weightFiles) copy(file);
  if (calibrated) copy(calibrationPath(checkpoint.dir));
  return { dir, files, modelBytes: model.length, linearWeights };
}
