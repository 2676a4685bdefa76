// What `nerkit train` and `nerkit distill` share: the options of a training run (schedule, batches,
// evaluation, checkpoints, resume; defined once here so both commands take the same), the trainer's
// settings made from them, the rendering of the trainer's events (progress bar, evaluations,
// Ctrl-C), and what follows a finished run (peak memory, the drift profile of --dev, the --test
// scores). Each command keeps its own options for the model and the data.

import { join } from "node:path";
import { Command } from "commander";
import { NerkitError } from "../errors.js";
import { TrainEvent, TrainSettings } from "../train/trainer.js";
import { Prepared } from "../train/prepare.js";
import { evaluateSentences } from "../train/evaluate-model.js";
import { finishSteps } from "../infer/word-tagger.js";
import { loadPipeline } from "../infer/pipeline.js";
import { readProfileTexts } from "../data/profile-texts.js";
import { classificationReport } from "../metrics/classification-report.js";
import { readSafetensors } from "../model/checkpoint/safetensors.js";
import { parameterTable } from "../model/parameters.js";
import { writeReferenceProfile } from "../serve/drift/profile-writer.js";
import { ProgressBar } from "./progress-bar.js";
import { Interruption } from "./interruption.js";
import { CommandIO } from "./io.js";
import { integer, oneOf } from "./options.js";

/** The run options as commander parses them. */
export interface RunCommandOptions extends Omit<TrainSettings, "evalEvery" | "saveEvery" | "resume" | "classWeights"> {
  maxLength?: number;
  classWeights: "none" | "auto";
  labelAllSubtokens?: boolean;
  evalEvery: string;
  saveEvery: string;
  resume?: boolean;
  overwrite?: boolean;
}

function number(name: string): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (value.trim() === "" || !Number.isFinite(x) || x < 0) throw new NerkitError("E_USAGE", `${name} expects a non-negative number, got '${value}'`);
    return x;
  };
}

function every(name: string, value: string): "epoch" | number {
  if (value === "epoch") return "epoch";
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new NerkitError("E_USAGE", `${name} expects 'epoch' or a positive number of steps, got '${value}'`);
  return n;
}

/** Adds the run options to `command`. */
export function addRunOptions(command: Command): Command {
  return command
    .option("--epochs <n>", "epochs", integer("--epochs"), 3)
    .option("--batch-size <n>", "sentences per batch", integer("--batch-size"), 32)
    .option("--lr <x>", "peak learning rate", number("--lr"), 2e-5)
    .option("--weight-decay <x>", "AdamW decoupled weight decay (not on biases and LayerNorm weights)", number("--weight-decay"), 0.01)
    .option("--warmup-steps <n>", "linear warm-up steps", integer("--warmup-steps"))
    .option("--warmup-ratio <x>", "warm-up as a fraction of all steps", number("--warmup-ratio"))
    .option("--max-grad-norm <x>", "gradient clipping norm (0: none)", number("--max-grad-norm"), 1)
    .option("--grad-accum <n>", "batches per optimizer step", integer("--grad-accum"), 1)
    .option("--max-steps <n>", "stop after n optimizer steps (overrides --epochs)", integer("--max-steps"))
    .option("--max-length <n>", "tokens per example; longer sentences are split, never cut", integer("--max-length"))
    .option("--seed <n>", "seed for the data order and new weights", integer("--seed"), 42)
    .option("--no-shuffle", "visit the training data in file order")
    .option("--group-by-length", "batches of sentences of like length (transformers' group_by_length): less padding, faster epochs")
    .option("--early-stopping <patience>", "stop after this many evaluations without improvement", integer("--early-stopping"))
    .option("--metric <name>", "metric for the best checkpoint: f1, precision, recall, accuracy", oneOf("--metric", ["f1", "precision", "recall", "accuracy"] as const), "f1")
    .option("--class-weights <mode>", "none, or auto (balanced weights for imbalanced labels)", oneOf("--class-weights", ["none", "auto"] as const), "none")
    .option("--label-all-subtokens", "label every sub-token of a word, not only the first")
    .option("--eval-every <epoch|n>", "evaluate every epoch or every n steps", "epoch")
    .option("--save-every <epoch|n>", "save a checkpoint every epoch or every n steps", "epoch")
    .option("--resume", "continue from the last checkpoint in --out (only of the same run: same data, model and settings)")
    .option("--overwrite", "replace the run that --out holds (refused if --out holds files nerkit did not write)")
    .option("--threads <n>", "CPU threads for ONNX Runtime", integer("--threads"));
}

/** Refuses settings no run can use, before anything is loaded. */
export function checkRunOptions(options: RunCommandOptions): void {
  if (options.gradAccum < 1 || options.batchSize < 1) throw new NerkitError("E_USAGE", "--batch-size and --grad-accum must be at least 1");
  if (options.groupByLength && !options.shuffle) throw new NerkitError("E_USAGE", "--group-by-length groups a shuffled order: drop --no-shuffle");
}

/** The trainer's settings from the parsed run options. */
export function runSettings(options: RunCommandOptions, classWeights: Float32Array | undefined): TrainSettings {
  return {
    ...options,
    evalEvery: every("--eval-every", options.evalEvery),
    saveEvery: every("--save-every", options.saveEvery),
    resume: options.resume ?? false,
    overwrite: options.overwrite ?? false,
    classWeights,
  };
}

/**
 * Runs the trainer's events to the end, rendering them on stderr (the final model's folder on
 * stdout); Ctrl-C asks the trainer to stop and save, then this ends with E_INTERRUPTED.
 */
export async function renderTraining(io: CommandIO, run: (stop: AbortSignal) => AsyncGenerator<TrainEvent>, metric: string, madeBy = "trained model"): Promise<void> {
  const bar = new ProgressBar(process.stderr);
  let devBar: ProgressBar | undefined;
  const interruption = new Interruption(() => {
    bar.break();
    io.stderr("nerkit: stopping after the current step and saving a checkpoint (Ctrl-C again to quit at once)\n");
  });
  let stopped: string | undefined;
  for await (const event of interruption.watch(run(interruption.signal))) {
    if (event.kind === "stopped") stopped = `stopped at step ${event.update} of ${event.totalUpdates}; saved ${event.checkpoint}: run the same command with --resume to continue from step ${event.update}`;
    if (event.kind === "start" && event.resumedFrom) io.stderr(`nerkit: resuming from ${event.resumedFrom} (step ${event.updates} of ${event.totalUpdates})\n`);
    if (event.kind === "update") {
      bar.update(event.update, event.totalUpdates, event.seconds, { loss: event.loss.toFixed(4), lr: event.lr.toExponential(2), "tok/s": Math.round(event.tokensPerSecond).toString() });
    } else if (event.kind === "evaluation-progress") {
      if (!devBar) bar.break();
      devBar ??= new ProgressBar(process.stderr, 20, "dev batch");
      devBar.update(event.batches, event.totalBatches, event.seconds, {});
    } else if (event.kind === "evaluation") {
      if (devBar) devBar.break();
      else bar.break();
      devBar = undefined;
      io.stderr(`epoch ${event.epoch}, step ${event.update}: dev f1 ${event.report.overall.f1.toFixed(4)} (precision ${event.report.overall.precision.toFixed(4)}, recall ${event.report.overall.recall.toFixed(4)})${event.improved ? " - best so far" : ""}\n`);
    } else if (event.kind === "early-stop") {
      bar.break();
      io.stderr(`nerkit: no improvement in ${event.patience} evaluations: stopping early\n`);
    } else if (event.kind === "done") {
      bar.break();
      io.stdout(`${madeBy}: ${event.outDir}${event.bestCheckpoint ? ` (weights of ${event.bestCheckpoint}, dev ${metric} ${event.bestMetric?.toFixed(4)})` : ""}\n`);
    }
  }
  bar.break();
  if (stopped) throw new NerkitError("E_INTERRUPTED", stopped);
}

/** The trained model's reference profile on the --dev texts (serve's drift monitoring compares with it). */
async function writeDevProfile(io: CommandIO, out: string, dev: string, madeBy: string, threads?: number): Promise<void> {
  const data = readProfileTexts(dev);
  // Raw scores are profiled; a calibration.json left from before a --resume describes other weights.
  const pipeline = await loadPipeline(out, { threads, calibration: false });
  try {
    const { file, counts } = await writeReferenceProfile(out, pipeline, data.texts, { madeBy, path: dev, sha256: data.sha256, unit: data.unit });
    io.stderr(`nerkit: reference profile for drift monitoring: ${file} (${counts.documents} ${data.unit} of --dev)\n`);
  } finally {
    await pipeline.close();
  }
}

/** After a finished run: peak memory against the estimate, the --dev profile, the --test report. */
export async function afterTraining(io: CommandIO, options: { out: string; dev?: string; batchSize: number; threads?: number; madeBy: string }, prepared: Prepared): Promise<void> {
  const { inputs } = prepared;
  io.stderr(`nerkit: peak memory ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB (estimated ${(prepared.memoryBytes / 2 ** 30).toFixed(2)} GiB)\n`);
  if (options.dev) await writeDevProfile(io, options.out, options.dev, options.madeBy, options.threads);
  if (prepared.test && prepared.test.length > 0) {
    const weights = readSafetensors(join(options.out, "model.safetensors"));
    const shapes = new Map(parameterTable(inputs.arch).map((p) => [p.name, p.shape]));
    const evaluation = evaluateSentences(inputs.arch, (n) => weights.tensor(n).data, shapes, prepared.test, { tokenizer: inputs.tokenizer, maxLength: inputs.maxLength, batchSize: options.batchSize, threads: options.threads });
    const testBar = new ProgressBar(process.stderr, 20, "test batch");
    const started = performance.now();
    const { report } = await finishSteps(evaluation, (p) => testBar.update(p.batches, p.totalBatches, (performance.now() - started) / 1000, {}));
    testBar.break();
    io.stdout(`test:\n${classificationReport(report, 4)}`);
  }
}
