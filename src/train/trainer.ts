// The training loop as an async generator: it yields after every optimizer update, evaluation and
// checkpoint, and knows nothing of terminals (the CLI's progress bar and the service consume the
// events). It does what transformers' Trainer does by default: AdamW with decoupled weight decay,
// a linear schedule with warm-up, clipping, gradient accumulation, evaluation and a checkpoint per
// epoch, the best checkpoint kept at the end, early stopping, stopping on request (settings.stop)
// with a checkpoint of the last step, and resuming after a crash or a stop with the same data order
// and the same final parameters. The --out folder's rules (one run per folder) are run-folder.ts's.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../errors.js";
import { writeFileAtomic } from "../io/files.js";
import { Architecture } from "../model/architecture.js";
import { readSafetensors } from "../model/checkpoint/safetensors.js";
import { Tokenizer } from "../text/tokenizers/index.js";
import { EvaluationReport } from "../metrics/seqeval.js";
import { collate, epochOrder, labelledTokens } from "./batches.js";
import { CheckpointContent, TrainerState, latestCheckpoint, readTrainerState, saveCheckpoint, saveModelFiles, trainedConfig } from "./checkpoint-io.js";
import { Example, LabelledSentence } from "./examples.js";
import { evaluateSentences } from "./evaluate-model.js";
import { ShapingSettings, checkSameRun, runFingerprint } from "./run-fingerprint.js";
import { openRunFolder } from "./run-folder.js";
import { SeededRandom } from "./random.js";
import { linearScheduleLr, warmupSteps } from "./schedule.js";
import { AdamWSettings, StepRunner } from "./step-runner.js";
import { firstMomentName, secondMomentName } from "./graph/optimizer-graph.js";

/** The settings of a run: those that shape it (recorded in its fingerprint, run-fingerprint.ts), and those that do not. */
export interface TrainSettings extends ShapingSettings {
  metric: "f1" | "precision" | "recall" | "accuracy";
  saveEvery: "epoch" | number;
  resume: boolean;
  /** Replace the run that --out holds (only nerkit's own files; see run-folder.ts). */
  overwrite?: boolean;
  threads?: number;
  /** When aborted (Ctrl-C), the run saves a checkpoint after the step in progress and ends with a "stopped" event. */
  stop?: AbortSignal;
}

export interface TrainInputs {
  arch: Architecture;
  weights: Map<string, Float32Array>;
  baseConfig: Record<string, unknown>;
  tokenizer: Tokenizer;
  tokenizerDir: string;
  train: Example[];
  /** Scored after every evaluation interval, whole sentences (long ones windowed, never split). */
  dev?: LabelledSentence[];
  /** Tokens per example and per evaluation window, special tokens included. */
  maxLength: number;
  outDir: string;
}

export type TrainEvent =
  | { kind: "start"; totalUpdates: number; examples: number; resumedFrom?: string; updates: number }
  | { kind: "update"; update: number; totalUpdates: number; epoch: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; seconds: number }
  | { kind: "evaluation-progress"; update: number; batches: number; totalBatches: number; seconds: number }
  | { kind: "evaluation"; update: number; epoch: number; report: EvaluationReport; improved: boolean }
  | { kind: "checkpoint"; update: number; dir: string }
  | { kind: "early-stop"; update: number; patience: number }
  | { kind: "stopped"; update: number; totalUpdates: number; checkpoint: string }
  | { kind: "done"; updates: number; bestCheckpoint?: string; bestMetric?: number; outDir: string };

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export async function* train(inputs: TrainInputs, settings: TrainSettings): AsyncGenerator<TrainEvent> {
  const { arch, outDir } = inputs;
  if (inputs.train.length === 0) throw new NerkitError("E_FORMAT", "the training data has no sentences");
  const batchesPerEpoch = Math.ceil(inputs.train.length / settings.batchSize);
  const updatesPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / settings.gradAccum));
  const totalUpdates = settings.maxSteps && settings.maxSteps > 0 ? settings.maxSteps : updatesPerEpoch * settings.epochs;
  const warmup = warmupSteps(totalUpdates, settings.warmupSteps, settings.warmupRatio);
  const adamw: AdamWSettings = { ...ADAMW, weightDecay: settings.weightDecay, maxGradNorm: settings.maxGradNorm };

  openRunFolder(outDir, { resume: settings.resume, overwrite: settings.overwrite ?? false, reads: [inputs.tokenizerDir] });
  const config = trainedConfig(inputs.baseConfig, arch);
  const fingerprint = runFingerprint({ ...inputs, config }, settings);
  const resumeDir = settings.resume ? latestCheckpoint(outDir) : undefined;
  if (settings.resume && !resumeDir) throw new NerkitError("E_USAGE", `--resume: no checkpoint-N folder with trainer_state.json in ${outDir} (--overwrite starts the run again)`);
  const restored = resumeDir ? readTrainerState(resumeDir) : undefined;
  if (resumeDir) checkSameRun(resumeDir, restored?.state.run, fingerprint);
  let resumedWeights: ((name: string) => Float32Array) | undefined;
  if (resumeDir) {
    const file = readSafetensors(join(resumeDir, "model.safetensors"));
    // A parameter of training only (distillation's projections) is saved beside the moments.
    resumedWeights = (name) => {
      if (file.has(name)) return file.tensor(name).data;
      const saved = restored!.moments(name);
      if (!saved) throw new NerkitError("E_FORMAT", `--resume: the checkpoint holds no tensor ${name}`, { file: join(resumeDir, "optimizer.safetensors") });
      return saved;
    };
  }
  const runner = await StepRunner.create(arch, (name) => resumedWeights?.(name) ?? inputs.weights.get(name)!, {
    threads: settings.threads,
    classWeights: settings.classWeights,
    moments: restored?.moments,
    distillation: settings.distillation,
  });
  const state: TrainerState = restored?.state ?? {
    updates: 0,
    epoch: 0,
    batchInEpoch: 0,
    epochRandomState: settings.seed,
    dropoutRandomState: (settings.seed * 2654435761) >>> 0,
    evaluationsWithoutImprovement: 0,
    totalUpdates,
    run: fingerprint,
  };
  runner.updates = state.updates;
  runner.dropoutState = state.dropoutRandomState ?? 0;
  mkdirSync(outDir, { recursive: true });
  const logPath = join(outDir, "training_log.jsonl");
  if (!resumeDir) writeFileAtomic(logPath, "");
  if (resumeDir) truncateLog(logPath, state.updates);
  const log = (record: object) => appendFileSync(logPath, JSON.stringify(record) + "\n");
  const momentNames = runner.parameters.flatMap((p) => [firstMomentName(p.name), secondMomentName(p.name)]);
  const modelParameters = runner.parameters.filter((p) => !p.trainingOnly);
  const trainingParameters = runner.parameters.filter((p) => p.trainingOnly);
  const content = (withTraining: boolean): CheckpointContent => ({
    config,
    parameters: modelParameters,
    tensor: (name) => runner.tensor(name),
    tokenizerDir: inputs.tokenizerDir,
    training: withTraining ? { moments: (n) => runner.tensor(n), momentNames, state: { ...state }, parameters: trainingParameters } : undefined,
  });
  const shapes = new Map(modelParameters.map((p) => [p.name, p.shape]));

  yield { kind: "start", totalUpdates, examples: inputs.train.length, resumedFrom: resumeDir, updates: state.updates };
  const started = Date.now();
  let tokensSince = 0;
  let since = performance.now();
  try {
    while (state.updates < totalUpdates) {
      const random = settings.shuffle ? new SeededRandom(state.epochRandomState) : undefined;
      const order = epochOrder(inputs.train.length, random, settings.groupByLength ? { lengths: inputs.train.map((e) => e.inputIds.length), batchSize: settings.batchSize } : undefined);
      const nextEpochState = random ? random.state : state.epochRandomState;
      while (state.batchInEpoch < batchesPerEpoch && state.updates < totalUpdates) {
        const micro: Example[][] = [];
        while (micro.length < settings.gradAccum && state.batchInEpoch < batchesPerEpoch) {
          const start = state.batchInEpoch * settings.batchSize;
          micro.push(order.slice(start, start + settings.batchSize).map((i) => inputs.train[i]));
          state.batchInEpoch++;
        }
        const batches = micro.map((m) => collate(m, inputs.tokenizer.padTokenId));
        const lr = linearScheduleLr(settings.lr, state.updates, warmup, totalUpdates);
        let result;
        try {
          result = await runner.accumulatedStep(batches, lr, adamw);
        } catch (error) {
          if (!(error instanceof NerkitError) || error.code !== "E_DIVERGED") throw error;
          // The runner kept the last good parameters and moments: save them, so nothing is lost.
          const dir = join(outDir, `checkpoint-${state.updates}`);
          state.batchInEpoch -= micro.length;
          saveCheckpoint(dir, content(true));
          throw new NerkitError("E_DIVERGED", `${error.message}; training stopped. The last good state (step ${state.updates}) is in ${dir}: lower --lr or set --max-grad-norm, then --resume`);
        }
        state.updates = runner.updates;
        state.dropoutRandomState = runner.dropoutState;
        tokensSince += batches.reduce((n, b) => n + b.rows * b.length, 0);
        const seconds = (performance.now() - since) / 1000;
        const tokensPerSecond = tokensSince / Math.max(seconds, 1e-9);
        tokensSince = 0;
        since = performance.now();
        const epoch = state.epoch + state.batchInEpoch / batchesPerEpoch;
        log({ update: state.updates, epoch, loss: result.loss, learning_rate: lr, grad_norm: result.gradNorm, tokens_per_second: tokensPerSecond, labelled_tokens: batches.reduce((n, b) => n + labelledTokens(b), 0) });
        yield { kind: "update", update: state.updates, totalUpdates, epoch, loss: result.loss, lr, gradNorm: result.gradNorm, tokensPerSecond, seconds: (Date.now() - started) / 1000 };

        const endOfEpoch = state.batchInEpoch >= batchesPerEpoch;
        const last = state.updates >= totalUpdates;
        const evaluateNow = settings.evalEvery === "epoch" ? endOfEpoch || last : state.updates % settings.evalEvery === 0 || last;
        const saveNow = settings.saveEvery === "epoch" ? endOfEpoch || last : state.updates % settings.saveEvery === 0 || last;
        if (endOfEpoch) {
          state.epoch++;
          state.batchInEpoch = 0;
          state.epochRandomState = nextEpochState;
        }
        let stop = false;
        if (evaluateNow && inputs.dev && inputs.dev.length > 0) {
          const evaluation = evaluateSentences(arch, (n) => runner.tensor(n), shapes, inputs.dev, { tokenizer: inputs.tokenizer, maxLength: inputs.maxLength, batchSize: settings.batchSize, threads: settings.threads });
          const evaluationStart = performance.now();
          let next = await evaluation.next();
          for (; !next.done; next = await evaluation.next()) {
            yield { kind: "evaluation-progress", update: state.updates, ...next.value, seconds: (performance.now() - evaluationStart) / 1000 };
          }
          const { report } = next.value;
          const value = report.overall[settings.metric];
          const improved = state.bestMetric === undefined || value > state.bestMetric;
          if (improved) {
            state.bestMetric = value;
            state.bestCheckpoint = join(outDir, `checkpoint-${state.updates}`);
            state.evaluationsWithoutImprovement = 0;
          } else {
            state.evaluationsWithoutImprovement++;
          }
          log({ update: state.updates, epoch: state.epoch, eval: report.overall, eval_types: Object.fromEntries(report.types) });
          yield { kind: "evaluation", update: state.updates, epoch: state.epoch, report, improved };
          stop = settings.earlyStopping !== undefined && state.evaluationsWithoutImprovement >= settings.earlyStopping;
        }
        const saved = saveNow || state.bestCheckpoint === join(outDir, `checkpoint-${state.updates}`);
        if (saved) {
          const dir = join(outDir, `checkpoint-${state.updates}`);
          saveCheckpoint(dir, content(true));
          yield { kind: "checkpoint", update: state.updates, dir };
        }
        if (stop) {
          yield { kind: "early-stop", update: state.updates, patience: settings.earlyStopping! };
          state.updates = totalUpdates;
          break;
        }
        // Asked to stop: the state is whole here (the epoch's bookkeeping done), as for any
        // checkpoint, so one saved now resumes exactly where this run stopped.
        if (settings.stop?.aborted && state.updates < totalUpdates) {
          const dir = join(outDir, `checkpoint-${state.updates}`);
          if (!saved) saveCheckpoint(dir, content(true));
          yield { kind: "stopped", update: state.updates, totalUpdates, checkpoint: dir };
          return;
        }
        if (endOfEpoch) break;
      }
    }
    // The model in --out itself: the best checkpoint's weights when there was an evaluation, else the last.
    if (state.bestCheckpoint && existsSync(join(state.bestCheckpoint, "model.safetensors"))) {
      const best = readSafetensors(join(state.bestCheckpoint, "model.safetensors"));
      saveModelFiles(outDir, { ...content(false), tensor: (n) => best.tensor(n).data });
    } else {
      saveModelFiles(outDir, content(false));
    }
    writeFileAtomic(join(outDir, "trainer_state.json"), JSON.stringify(state, null, 2) + "\n");
    yield { kind: "done", updates: state.updates, bestCheckpoint: state.bestCheckpoint, bestMetric: state.bestMetric, outDir };
  } finally {
    await runner.release();
  }
}

/** After a crash the log may run past the checkpoint resumed from; drop those lines. */
function truncateLog(path: string, updates: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && (JSON.parse(line) as { update: number }).update <= updates);
  writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
}
