// What a model folder must hold for transformers.js (@huggingface/transformers v3) to load it as a
// local model: the ONNX graph under onnx/, named for its dtype, and config.json and the tokenizer
// files at the top. Read from transformers.js 3.8.1's source: models.js `getSession` loads
// `${subfolder}/${fileName}${suffix}.onnx` with subfolder "onnx", fileName "model" and the suffix of
// utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING (fp32 "", q8 "_quantized"); the dtype is the caller's,
// else config.json's `transformers.js_config.dtype`, else the device's default (q8 on wasm, which
// is what a browser gets, fp32 elsewhere). The tokenizer is read from tokenizer.json and
// tokenizer_config.json only. Graph inputs are matched by name (input_ids, attention_mask,
// token_type_ids, zeros when the tokenizer gives none) and the pipeline reads `logits`.
// Left out: the other dtypes (fp16, q4, bnb4) and external-data files (graphs over 2 GB).

import { TOKENIZER_FILES } from "../../text/tokenizers/tokenizer-files.js";

export type ExportDtype = "fp32" | "q8";

/** The graph's path inside the exported folder. */
export function onnxFileName(dtype: ExportDtype): string {
  return dtype === "q8" ? "onnx/model_quantized.onnx" : "onnx/model.onnx";
}

/** Tokenizer files copied when the model folder has them; tokenizer.json is required. */
export { TOKENIZER_FILES };

export const REQUIRED_TOKENIZER_FILE = "tokenizer.json";

/**
 * config.json for the exported folder: the model's own, with `transformers.js_config.dtype` naming
 * the graph written, so that transformers.js picks that file without being told (and a browser,
 * whose default is q8, does not look for a file that is not there after an fp32 export).
 */
export function exportedConfig(config: Record<string, unknown>, dtype: ExportDtype): Record<string, unknown> {
  const previous = config["transformers.js_config"];
  const custom = typeof previous === "object" && previous !== null && !Array.isArray(previous) ? previous : {};
  return { ...config, "transformers.js_config": { ...custom, dtype } };
}

/**
 * The quantization an exported folder's graph has, read back from config.json's
 * `transformers.js_config.dtype`: "int8" for q8 (`nerkit export --quantize int8`), else none. nerkit
 * builds its graph from the safetensors weights, quantizing the same Linear layers the same way
 * (./int8-linear.ts), so a loader that honours this runs the model the export wrote.
 */
export function exportedQuantization(config: Readonly<Record<string, unknown>>): "int8" | undefined {
  const custom = config["transformers.js_config"];
  if (typeof custom !== "object" || custom === null || Array.isArray(custom)) return undefined;
  return (custom as Record<string, unknown>).dtype === "q8" ? "int8" : undefined;
}
