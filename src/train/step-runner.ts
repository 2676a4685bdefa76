// Runs training steps on ONNX Runtime with the parameters, the AdamW moments and the gradients
// held in JavaScript memory, each kind in one flat array (flat-layout.ts). A step is one run of the
// gradient graph (forward, backward, gradient norm; the gradients written into the flat gradient
// array) and then, if the loss and the norm are finite, the update graph run slice by slice with
// each slice's outputs written back into the buffers it read (in place: one copy of the state).
// A step that diverges stops before the update, so the last good state stays. Why the update is
// a graph of its own, run in slices: graph/optimizer-graph.ts.

import { ort } from "../model/onnx-runtime.js";
import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import { ParameterSpec } from "../model/parameters.js";
import { OPTIMIZER_SCALARS, OPTIMIZER_SLICES, OptimizerScalar, buildGradNormGraph, buildOptimizerGraph, firstMomentName, secondMomentName, updatedName } from "./graph/optimizer-graph.js";
import { buildGradientGraph, gradName, teacherHiddenName } from "./graph/gradient-graph.js";
import { biasCorrection } from "./schedule.js";
import { DropoutSite } from "../model/graph/dropout.js";
import { DistillationSettings } from "../model/graph/distillation-loss.js";
import { FlatLayout } from "./flat-layout.js";

/**
 * Elements per update run: onnxruntime-node copies each run's outputs into new JavaScript
 * buffers (3 × 4 MiB here) and ONNX Runtime keeps a few temporaries of this size; 2^20 costs
 * about 100 runs per step for BERT-base, a few milliseconds in all.
 */
const SLICE_ELEMENTS = 2 ** 20;

/** Fills `out` with pseudo-random 16-bit values (mulberry32, two values per draw); returns the new state. */
export function fillNoise(out: Uint16Array, state: number): number {
  let s = state >>> 0;
  for (let i = 0; i < out.length; i += 2) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    out[i] = t & 0xffff;
    if (i + 1 < out.length) out[i + 1] = t >>> 16;
  }
  return s;
}

export interface TrainingBatch {
  rows: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
  labels: BigInt64Array;
  /** Distillation only: the teacher's logits (B, T, L) and the tokens that get them (B, T), 0 or 1. */
  teacherLogits?: Float32Array;
  softMask?: Float32Array;
  /** Distillation with --match-hidden: the teacher's hidden states for each pair, (B, T, H) each. */
  teacherHidden?: Float32Array[];
}

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** The flat arrays of a run; `views` holds each parameter's and moment's view, by graph name. */
interface TrainingState {
  layout: FlatLayout;
  params: Float32Array;
  firstMoments: Float32Array;
  secondMoments: Float32Array;
  grads: Float32Array;
  views: Map<string, Float32Array>;
}

export class StepRunner {
  /** Number of optimizer updates done so far (AdamW's t). */
  updates = 0;
  /** State of the generator of dropout noise (saved in checkpoints, so a resumed run drops the same units). */
  dropoutState = 0;

  /** For gradient accumulation, made on first use: the norm of summed gradients, and their sum. */
  private accumulation?: { norm: ort.InferenceSession; sums: Float32Array };

  private constructor(
    readonly arch: Architecture,
    readonly parameters: ParameterSpec[],
    private readonly batchInputs: string[],
    private readonly dropoutSites: DropoutSite[],
    private readonly gradients: ort.InferenceSession,
    private readonly optimizer: ort.InferenceSession,
    private readonly state: TrainingState,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
    private readonly classWeights?: Float32Array,
    private readonly distillation?: DistillationSettings,
    private readonly sliceElements = SLICE_ELEMENTS,
  ) {}

  static async create(
    arch: Architecture,
    weights: (name: string) => Float32Array,
    options: { threads?: number; classWeights?: Float32Array; moments?: (name: string) => Float32Array | undefined; distillation?: DistillationSettings; sliceElements?: number } = {},
  ): Promise<StepRunner> {
    const built = buildGradientGraph(arch, { classWeights: options.classWeights !== undefined, distillation: options.distillation });
    // The memory pattern off: with it, ONNX Runtime's second run allocates one block for the whole
    // plan beside what the arena already holds from the first (BERT-base 8 × 128: 4,203 MiB
    // against 3,104 MiB without it, no slower; bench/RESULTS.md).
    const sessionOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", interOpNumThreads: 1, enableMemPattern: false };
    if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
    const gradients = await ort.InferenceSession.create(built.model, sessionOptions);
    const optimizer = await ort.InferenceSession.create(buildOptimizerGraph(), sessionOptions);
    const layout = new FlatLayout(built.parameters);
    const state: TrainingState = {
      layout,
      params: new Float32Array(layout.size),
      firstMoments: new Float32Array(layout.size),
      secondMoments: new Float32Array(layout.size),
      grads: new Float32Array(layout.size),
      views: new Map(),
    };
    for (const p of built.parameters) {
      for (const [name, flat] of [[p.name, state.params], [firstMomentName(p.name), state.firstMoments], [secondMomentName(p.name), state.secondMoments]] as const) {
        const view = layout.view(flat, p.name);
        const start = name === p.name ? weights(name) : options.moments?.(name);
        if (start) {
          if (start.length !== view.length) throw new NerkitError("E_FORMAT", `${name} has ${start.length} values where the model needs ${view.length}`);
          view.set(start);
        }
        state.views.set(name, view);
      }
    }
    return new StepRunner(arch, built.parameters, built.batchInputs, built.dropoutSites, gradients, optimizer, state, sessionOptions, options.classWeights, options.distillation, options.sliceElements);
  }

  /** The current value of a parameter or moment (a view that the next step overwrites: copy it to keep it). */
  tensor(name: string): Float32Array {
    const data = this.state.views.get(name);
    if (!data) throw new NerkitError("E_USAGE", `no training tensor named ${name}`);
    return data;
  }

  private scalarFeeds(lr: number, settings: AdamWSettings, gradNorm: number, decay: boolean): Record<string, ort.Tensor> {
    const t = this.updates + 1;
    const scalars: Record<OptimizerScalar, number> = {
      lr,
      beta1: settings.beta1,
      beta2: settings.beta2,
      eps: settings.eps,
      weight_decay: decay ? settings.weightDecay : 0,
      bias_correction1: biasCorrection(settings.beta1, t),
      bias_correction2: biasCorrection(settings.beta2, t),
      max_grad_norm: settings.maxGradNorm > 0 ? settings.maxGradNorm : 3.4e38,
      grad_norm: gradNorm,
    };
    return Object.fromEntries(OPTIMIZER_SCALARS.map((name) => [name, new ort.Tensor("float32", Float32Array.of(scalars[name]), [])]));
  }

  private batchFeeds(batch: TrainingBatch): Record<string, ort.Tensor> {
    const dims = [batch.rows, batch.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", batch.inputIds, dims),
      attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
      labels: new ort.Tensor("int64", batch.labels, dims),
    };
    if (this.batchInputs.includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", batch.tokenTypeIds ?? new BigInt64Array(batch.rows * batch.length), dims);
    if (this.classWeights) feeds.class_weights = new ort.Tensor("float32", this.classWeights, [this.classWeights.length]);
    if (this.distillation) {
      if (!batch.teacherLogits || !batch.softMask) throw new NerkitError("E_USAGE", "a distillation step needs the teacher's logits with every batch");
      feeds.teacher_logits = new ort.Tensor("float32", batch.teacherLogits, [...dims, this.arch.labels.length]);
      feeds.soft_mask = new ort.Tensor("float32", batch.softMask, dims);
      const hidden = this.distillation.hidden;
      if (hidden) {
        if (batch.teacherHidden?.length !== hidden.pairs.length) throw new NerkitError("E_USAGE", "a distillation step with --match-hidden needs the teacher's hidden states with every batch");
        batch.teacherHidden.forEach((states, k) => (feeds[teacherHiddenName(k)] = new ort.Tensor("float32", states, [...dims, hidden.teacherWidth])));
      }
    }
    for (const site of this.dropoutSites) {
      const dims = site.dims.map((d) => (d === "batch" ? batch.rows : d === "tokens" ? batch.length : (d as number)));
      const noise = new Uint16Array(dims.reduce((a, b) => a * b, 1));
      this.dropoutState = fillNoise(noise, this.dropoutState);
      feeds[site.input] = new ort.Tensor("uint16", noise, dims);
    }
    return feeds;
  }

  /** Feeds of every parameter, by checkpoint name. */
  private parameterFeeds(): Record<string, ort.Tensor> {
    return Object.fromEntries(this.parameters.map((p) => [p.name, new ort.Tensor("float32", this.state.views.get(p.name)!, p.shape)]));
  }

  /** Forward and backward on one batch: the gradients into the flat gradient array; the loss and the gradient norm. */
  private async computeGradients(batch: TrainingBatch): Promise<StepResult> {
    const { layout, grads } = this.state;
    const loss = new Float32Array(1);
    const gradNorm = new Float32Array(1);
    const fetches: Record<string, ort.Tensor> = { loss: new ort.Tensor("float32", loss, []), grad_norm: new ort.Tensor("float32", gradNorm, []) };
    for (const p of this.parameters) fetches[gradName(p.name)] = new ort.Tensor("float32", layout.view(grads, p.name), p.shape);
    await this.gradients.run({ ...this.batchFeeds(batch), ...this.parameterFeeds() }, fetches);
    return { loss: loss[0], gradNorm: gradNorm[0] };
  }

  /**
   * Clipping and AdamW with the gradients in `grads` (flat), slice by slice, each slice's outputs
   * written back into the buffers it read; nothing is touched unless the loss and the norm are finite.
   */
  private async update(grads: Float32Array, { loss, gradNorm }: StepResult, lr: number, settings: AdamWSettings): Promise<StepResult> {
    const t = this.updates + 1;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      throw new NerkitError("E_DIVERGED", `the loss became ${loss} (gradient norm ${gradNorm}) at update ${t}`);
    }
    const { params, firstMoments, secondMoments } = this.state;
    const flats = [params, firstMoments, secondMoments, grads];
    for (const slice of this.state.layout.slices(this.sliceElements)) {
      const dims = [slice.end - slice.start];
      const feeds = this.scalarFeeds(lr, settings, gradNorm, slice.decay);
      const fetches: Record<string, ort.Tensor> = {};
      OPTIMIZER_SLICES.forEach((name, i) => {
        const data = flats[i].subarray(slice.start, slice.end);
        feeds[name] = new ort.Tensor("float32", data, dims);
        if (name !== "grad") fetches[updatedName(name)] = new ort.Tensor("float32", data, dims);
      });
      await this.optimizer.run(feeds, fetches);
    }
    this.updates = t;
    return { loss, gradNorm };
  }

  /** One optimizer update on one batch: forward, backward, clipping, AdamW. */
  async step(batch: TrainingBatch, lr: number, settings: AdamWSettings): Promise<StepResult> {
    return this.update(this.state.grads, await this.computeGradients(batch), lr, settings);
  }

  /**
   * One optimizer update over several micro-batches (gradient accumulation, as transformers'
   * Trainer: each micro-batch's mean loss divided by their number, gradients summed).
   */
  async accumulatedStep(batches: readonly TrainingBatch[], lr: number, settings: AdamWSettings): Promise<StepResult> {
    if (batches.length === 1) return this.step(batches[0], lr, settings);
    if (!this.accumulation) {
      const norm = await ort.InferenceSession.create(buildGradNormGraph(this.parameters, gradName), this.sessionOptions);
      this.accumulation = { norm, sums: new Float32Array(this.state.layout.size) };
    }
    const { norm, sums } = this.accumulation;
    const grads = this.state.grads;
    sums.fill(0);
    let loss = 0;
    const scale = 1 / batches.length;
    for (const batch of batches) {
      loss += (await this.computeGradients(batch)).loss * scale;
      for (let i = 0; i < grads.length; i++) sums[i] += grads[i] * scale;
    }
    const gradNorm = new Float32Array(1);
    const feeds = Object.fromEntries(this.parameters.map((p) => [gradName(p.name), new ort.Tensor("float32", this.state.layout.view(sums, p.name), p.shape)]));
    await norm.run(feeds, { grad_norm: new ort.Tensor("float32", gradNorm, []) });
    return this.update(sums, { loss, gradNorm: gradNorm[0] }, lr, settings);
  }

  /** Replaces a parameter or moment (when resuming from a checkpoint). */
  load(name: string, data: Float32Array): void {
    const target = this.state.views.get(name);
    if (!target || target.length !== data.length) throw new NerkitError("E_FORMAT", `cannot restore ${name}: wrong size`);
    target.set(data);
  }

  async release(): Promise<void> {
    await this.gradients.release();
    await this.optimizer.release();
    await this.accumulation?.norm.release();
  }
}
