// nerkit predict: entities for each document of a text or JSON lines file (or stdin), written as
// JSON lines. The model is a checkpoint folder or a Hugging Face Hub id (downloaded once into the
// Hugging Face cache, with a progress bar). Defaults are the library's (DEFAULT_READING: aggregation
// first, the whole text read); --pipeline-parity takes transformers' pipeline defaults instead
// (aggregation none, windows hf), and a text left partly unread is then named on stderr.
// Pre-tokenized input (a CoNLL file, or JSON lines with "tokens") gets one tag per word instead
// (../../infer/pretokenized-io.ts). A model folder with a calibration.json (nerkit calibrate) gets
// calibrated scores ("score") beside the raw ones ("raw_score"); --no-calibration ignores it.

import { Command, Option } from "commander";
import { AGGREGATION_STRATEGIES, AggregationStrategy } from "../../infer/aggregation.js";
import { DEFAULT_READING, DecodeMode, NerPipeline, PIPELINE_PARITY, PredictOptions, WINDOW_MODES, WindowMode, loadPipeline } from "../../infer/pipeline.js";
import { InputKind, readInputChunks } from "../../infer/predict-io.js";
import { resolveModel } from "../../model/hub/resolve-model.js";
import { createProgressRenderer } from "../../model/hub/progress.js";
import { writeFileAtomic } from "../../io/files.js";
import { CommandIO } from "../io.js";
import { Quantization } from "../../model/export/export-model.js";
import { integer, oneOf, quantizeOption } from "../options.js";
import { NerkitError } from "../../errors.js";
import { conllWords, appendTagColumn } from "../../data/conll-columns.js";
import { readWholeInput, taggedRecord } from "../../infer/pretokenized-io.js";
import { finishSteps } from "../../infer/word-tagger.js";

interface PredictCommandOptions {
  model: string;
  input: string;
  format: InputKind | "auto" | "conll";
  aggregation?: AggregationStrategy;
  maxLength?: number;
  stride?: number;
  windows?: WindowMode;
  pipelineParity: boolean;
  batchSize: number;
  ignoreLabels: string;
  threshold: number;
  decode: DecodeMode;
  threads?: number;
  quantize?: Quantization;
  device: "cpu" | "cuda";
  revision?: string;
  out?: string;
  calibration: boolean;
}

function probability(value: string): number {
  const x = Number(value);
  if (!(x >= 0 && x <= 1)) throw new NerkitError("E_USAGE", `--threshold expects a number between 0 and 1, got '${value}'`);
  return x;
}

/** What opening a model may be asked: the Hub revision, the session's settings, and whether to apply its calibration.json (default yes). */
export interface OpenPipelineOptions {
  revision?: string;
  threads?: number;
  device?: "cpu" | "cuda";
  quantize?: Quantization;
  calibration?: boolean;
  /** Run the model in a worker thread (serve and worker: their event loop stays free during a batch). */
  offMainThread?: boolean;
}

/**
 * Opens the model named on the command line, downloading it from the Hub when it is an id; every
 * command that runs a model (predict, evaluate --model, serve, worker, quickstart's predict) opens
 * it here, so each applies its calibration.json alike and says so on stderr.
 */
export async function openPipeline(model: string, options: OpenPipelineOptions): Promise<NerPipeline> {
  const progress = createProgressRenderer(process.stderr);
  const dir = await resolveModel(model, { revision: options.revision, onProgress: (p) => progress.update(p) });
  progress.end();
  const pipeline = await loadPipeline(dir, { threads: options.threads, device: options.device, quantize: options.quantize, calibration: options.calibration, offMainThread: options.offMainThread });
  if (pipeline.quantize && !options.quantize) {
    process.stderr.write(`nerkit: ${model} is an int8 export (nerkit export --quantize int8): running the int8 model, its Linear layers quantized from the safetensors weights as in onnx/model_quantized.onnx\n`);
  }
  const calibration = pipeline.calibration;
  if (calibration) {
    const how = calibration.method === "temperature" ? `temperature ${calibration.temperature}` : "isotonic, per entity type";
    process.stderr.write(`nerkit: applying ${model}'s calibration.json (${how}, written ${calibration.created || "at an unknown time"})\n`);
  }
  return pipeline;
}

export function predictCommand(io: CommandIO): Command {
  return new Command("predict")
    .description("find entities in text: one document per line, or JSON lines {\"id\"?, \"text\"}; writes JSON lines")
    .requiredOption("--model <dir|hub-id>", "checkpoint folder (config.json, model.safetensors, tokenizer) or Hugging Face id such as dslim/bert-base-NER")
    .argument("[input]", "input file; - or nothing for standard input", "-")
    .addOption(new Option("--format <kind>", "input kind: text, jsonl, conll (pre-tokenized: the first column is the word; writes the input with the predicted tag appended to each token line), or auto (JSON lines if the first line starts with '{'); a JSON line with \"tokens\" [{text, start, end}] gets one tag per token").choices(["auto", "text", "jsonl", "conll"]).default("auto"))
    .option("--aggregation <strategy>", "none (one item per token), simple, first, average or max, as transformers' pipeline does them (default first: a word takes its first sub-token's label, the one training labels; none with --pipeline-parity)", oneOf("--aggregation", AGGREGATION_STRATEGIES))
    .option("--max-length <n>", "tokens per window, special tokens included (default: what the model reads)", integer("--max-length"))
    .option("--stride <n>", "tokens shared by consecutive windows", integer("--stride"))
    .option("--windows <mode>", "long texts: overlap (default: the whole text in overlapping windows), sentences (windows end at sentence boundaries) or hf (transformers' behaviour, the default with --pipeline-parity: only the first window(s) are read, with a warning)", oneOf("--windows", WINDOW_MODES))
    .option("--pipeline-parity", "transformers' TokenClassificationPipeline defaults, to reproduce its output: --aggregation none --windows hf (either can still be given)", false)
    .option("--batch-size <n>", "windows per model run; windows are sorted by length and padded per batch", integer("--batch-size"), 8)
    .option("--ignore-labels <labels>", "comma-separated labels or types to leave out", "O")
    .option("--threshold <x>", "leave out entities scoring below x", probability, 0)
    .option("--decode <mode>", "argmax (transformers') or viterbi (best sequence the tagging scheme allows: no entity starts with I-)", oneOf("--decode", ["argmax", "viterbi"] as const), "argmax")
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .addOption(quantizeOption())
    .option("--device <device>", "cpu, or cuda with onnxruntime-node's CUDA build", oneOf("--device", ["cpu", "cuda"] as const), "cpu")
    .option("--revision <rev>", "Hub revision (branch, tag or commit) for a Hub id")
    .option("-o, --out <file>", "output file (default: standard output)")
    .option("--no-calibration", "ignore the model folder's calibration.json: raw scores only, no raw_score field")
    .action(async (input: string, options: PredictCommandOptions) => {
      const pipeline = await openPipeline(options.model, options);
      if (options.format === "conll") return predictConll(io, pipeline, input, options);
      const defaults = options.pipelineParity ? PIPELINE_PARITY : DEFAULT_READING;
      const predictOptions: PredictOptions = {
        aggregation: options.aggregation ?? defaults.aggregation,
        maxLength: options.maxLength,
        stride: options.stride,
        windows: options.windows ?? defaults.windows,
        batchSize: options.batchSize,
        ignoreLabels: options.ignoreLabels.split(",").map((l) => l.trim()).filter((l) => l !== ""),
        threshold: options.threshold,
        decode: options.decode,
      };
      const lines: string[] = [];
      const write = (line: string) => (options.out ? lines.push(line) : io.stdout(line));
      try {
        for await (const chunk of readInputChunks(input, options.format, 64, io.stdin)) {
          pipeline.onTruncate = (i, read, total) => {
            const doc = chunk[i];
            io.stderr(`nerkit: warning: line ${doc.line}${doc.id === undefined ? "" : ` (id ${JSON.stringify(doc.id)})`}: only the first ${read} of ${total} tokens were read (--windows hf, transformers' behaviour); entities in the rest are not found. Use --windows overlap to read it all.\n`);
          };
          // Pre-tokenized lines go to the word tagger; in run() they stand as empty texts (no windows, no work).
          const results = await pipeline.run(chunk.map((d) => (d.tokens ? "" : d.text)), predictOptions);
          const words = chunk.filter((d) => d.tokens).map((d) => d.tokens!.map((t) => t.text));
          const tagged = words.length > 0 ? await finishSteps(pipeline.tagWords(words, { batchSize: options.batchSize, maxLength: options.maxLength })) : [];
          chunk.forEach((doc, i) => {
            if (doc.tokens) return write(JSON.stringify(taggedRecord({ id: doc.id, text: doc.text, tokens: doc.tokens }, tagged.shift()!)) + "\n");
            const entities = results[i].map(({ word: _word, ...entity }) => entity);
            write(JSON.stringify(doc.id === undefined ? { text: doc.text, entities } : { id: doc.id, text: doc.text, entities }) + "\n");
          });
        }
      } finally {
        await pipeline.close();
      }
      if (options.out) writeFileAtomic(options.out, lines.join(""));
    });
}

/** --format conll: the input with each token line's predicted tag appended. */
async function predictConll(io: CommandIO, pipeline: NerPipeline, input: string, options: PredictCommandOptions): Promise<void> {
  const file = input === "-" ? "<stdin>" : input;
  try {
    const text = await readWholeInput(input, io.stdin ?? process.stdin);
    const tags = await finishSteps(pipeline.tagWords(conllWords(text), { batchSize: options.batchSize, maxLength: options.maxLength }));
    const output = appendTagColumn(text, tags, file);
    if (options.out) writeFileAtomic(options.out, output);
    else io.stdout(output);
  } finally {
    await pipeline.close();
  }
}
