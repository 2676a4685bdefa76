// nerkit export: a checkpoint folder (or Hugging Face id) as a folder transformers.js and ONNX Runtime
// load: onnx/model.onnx, or onnx/model_quantized.onnx with --quantize int8, config.json, the
// tokenizer files and the safetensors weights (which nerkit predict reads); with --web, a static page
// around it (../web-folder.ts). Prints what it wrote.

import { Command } from "commander";
import { QUANTIZATIONS, Quantization, exportModel } from "../../model/export/export-model.js";
import { createProgressRenderer } from "../../model/hub/progress.js";
import { resolveModel } from "../../model/hub/resolve-model.js";
import { CommandIO } from "../io.js";
import { oneOf } from "../options.js";
import { writeWebFolder } from "../web-folder.js";

interface ExportCommandOptions {
  model: string;
  out: string;
  quantize?: Quantization;
  standardOps?: boolean;
  safetensors: boolean;
  revision?: string;
  web?: boolean;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

export function exportCommand(io: CommandIO): Command {
  return new Command("export")
    .description("write a model as ONNX for transformers.js and ONNX Runtime: OUT/onnx/model.onnx (or model_quantized.onnx), config.json, tokenizer files")
    .requiredOption("--model <dir|hub-id>", "checkpoint folder (config.json, model.safetensors, tokenizer.json) or Hugging Face id")
    .requiredOption("--out <dir>", "output folder (created if needed); load it in transformers.js with env.localModelPath set to its parent")
    .option("--quantize <kind>", "int8: dynamic quantization of the encoder's Linear layers (uint8 weights per output channel), written as onnx/model_quantized.onnx (transformers.js dtype q8)", oneOf("--quantize", QUANTIZATIONS))
    .option("--standard-ops", "standard ONNX operators only (for runtimes other than ONNX Runtime); by default the float graph uses ONNX Runtime's fused kernels")
    .option("--no-safetensors", "leave out the safetensors weights (nerkit predict needs them; transformers.js does not)")
    .option("--revision <rev>", "Hub revision (branch, tag or commit) for a Hub id")
    .option("--web", "write OUT as a static page that tags and redacts text in the browser, offline: index.html, the nerkit/web bundle, onnxruntime-web's wasm, the model in OUT/model (without safetensors)")
    .action(async (options: ExportCommandOptions) => {
      const progress = createProgressRenderer(process.stderr);
      const dir = await resolveModel(options.model, { revision: options.revision, onProgress: (p) => progress.update(p) });
      progress.end();
      const exportOptions = { quantize: options.quantize, standardOps: options.standardOps };
      const web = options.web ? writeWebFolder(dir, options.out, exportOptions) : undefined;
      const result = web?.model ?? exportModel(dir, options.out, { ...exportOptions, safetensors: options.safetensors });
      io.stdout(`wrote ${web?.dir ?? result.dir}\n`);
      for (const file of web?.files ?? result.files) io.stdout(`  ${file}\n`);
      io.stdout(`graph: ${megabytes(result.modelBytes)}`);
      const w = result.linearWeights;
      if (w) io.stdout(`; Linear weights ${megabytes(w.float)} in float32 -> ${megabytes(w.quantized)} quantized (${(w.float / w.quantized).toFixed(2)}x smaller)`);
      io.stdout("\n");
    });
}
