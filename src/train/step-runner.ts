// Runs training steps on ONNX Runtime with the parameters and AdamW moments held in JavaScript
// memory: each step feeds the current buffers and has ONNX Runtime write the updated values into
// a second set of preallocated buffers, then the two sets swap (double buffering: no allocation
// per step, and the previous values stay intact until the step has succeeded).

import { ort } from "../model/onnx-runtime.js";
import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import { ParameterSpec } from "../model/parameters.js";
import { OPTIMIZER_SCALARS, OptimizerScalar, firstMomentName, secondMomentName, updatedName } from "./graph/optimizer-graph.js";
import { buildGradientGraph, gradName, teacherHiddenName } from "./graph/gradient-graph.js";
import { biasCorrection } from "./schedule.js";
import { DropoutSite } from "../model/graph/dropout.js";
import { DistillationSettings } from "../model/graph/distillation-loss.js";

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
import { buildOptimizerGraph, buildTrainStepGraph } from "./graph/train-step-graph.js";

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

/** Every tensor the step updates: parameters and both moments, by graph name. */
type TensorSet = Map<string, Float32Array>;

export class StepRunner {
  private current: TensorSet;
  private next: TensorSet;
  /** Number of optimizer updates done so far (AdamW's t). */
  updates = 0;
  /** State of the generator of dropout noise (saved in checkpoints, so a resumed run drops the same units). */
  dropoutState = 0;

  /** Sessions for gradient accumulation (forward-backward alone, then the optimizer alone), made on first use. */
  private split?: { gradients: ort.InferenceSession; optimizer: ort.InferenceSession; sums: Map<string, Float32Array> };

  private constructor(
    readonly arch: Architecture,
    readonly parameters: ParameterSpec[],
    private readonly batchInputs: string[],
    private readonly dropoutSites: DropoutSite[],
    private readonly session: ort.InferenceSession,
    initial: TensorSet,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
    private readonly classWeights?: Float32Array,
    private readonly distillation?: DistillationSettings,
  ) {
    this.current = initial;
    this.next = new Map([...initial].map(([name, data]) => [name, new Float32Array(data.length)]));
  }

  static async create(
    arch: Architecture,
    weights: (name: string) => Float32Array,
    options: { threads?: number; classWeights?: Float32Array; moments?: (name: string) => Float32Array | undefined; distillation?: DistillationSettings } = {},
  ): Promise<StepRunner> {
    const built = buildTrainStepGraph(arch, { classWeights: options.classWeights !== undefined, distillation: options.distillation });
    const sessionOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", interOpNumThreads: 1 };
    if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
    const session = await ort.InferenceSession.create(built.model, sessionOptions);
    const initial: TensorSet = new Map();
    for (const p of built.parameters) {
      initial.set(p.name, Float32Array.from(weights(p.name)));
      for (const moment of [firstMomentName(p.name), secondMomentName(p.name)]) {
        const saved = options.moments?.(moment);
        initial.set(moment, saved ? Float32Array.from(saved) : new Float32Array(p.shape.reduce((a, b) => a * b, 1)));
      }
    }
    return new StepRunner(arch, built.parameters, built.batchInputs, built.dropoutSites, session, initial, sessionOptions, options.classWeights, options.distillation);
  }

  /** The current value of a parameter or moment (a view: copy it to keep it). */
  tensor(name: string): Float32Array {
    const data = this.current.get(name);
    if (!data) throw new NerkitError("E_USAGE", `no training tensor named ${name}`);
    return data;
  }

  private scalarFeeds(lr: number, settings: AdamWSettings): Record<string, ort.Tensor> {
    const t = this.updates + 1;
    const scalars: Record<OptimizerScalar, number> = {
      lr,
      beta1: settings.beta1,
      beta2: settings.beta2,
      eps: settings.eps,
      weight_decay: settings.weightDecay,
      bias_correction1: biasCorrection(settings.beta1, t),
      bias_correction2: biasCorrection(settings.beta2, t),
      max_grad_norm: settings.maxGradNorm > 0 ? settings.maxGradNorm : 3.4e38,
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

  /** Shape of every parameter and moment, by graph name (looked up on every step). */
  private readonly shapes = new Map<string, number[]>();

  private shapeOf(name: string): number[] {
    if (this.shapes.size === 0) {
      for (const p of this.parameters) for (const n of [p.name, firstMomentName(p.name), secondMomentName(p.name)]) this.shapes.set(n, p.shape);
    }
    return this.shapes.get(name)!;
  }

  /** Feeds of every parameter and moment, and fetches writing their updates into the spare buffers. */
  private stateFeeds(): { feeds: Record<string, ort.Tensor>; fetches: Record<string, ort.Tensor> } {
    const feeds: Record<string, ort.Tensor> = {};
    const fetches: Record<string, ort.Tensor> = {};
    for (const [name, data] of this.current) {
      const shape = this.shapeOf(name);
      feeds[name] = new ort.Tensor("float32", data, shape);
      fetches[updatedName(name)] = new ort.Tensor("float32", this.next.get(name)!, shape);
    }
    return { feeds, fetches };
  }

  /** Keeps the update if loss and norm are finite; otherwise the last good values stay. */
  private commit(loss: number, gradNorm: number): StepResult {
    const t = this.updates + 1;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      throw new NerkitError("E_DIVERGED", `the loss became ${loss} (gradient norm ${gradNorm}) at update ${t}`);
    }
    [this.current, this.next] = [this.next, this.current];
    this.updates = t;
    return { loss, gradNorm };
  }

  /** One optimizer update on one batch: a single session run (forward, backward, clipping, AdamW). */
  async step(batch: TrainingBatch, lr: number, settings: AdamWSettings): Promise<StepResult> {
    const { feeds, fetches } = this.stateFeeds();
    const loss = new ort.Tensor("float32", new Float32Array(1), []);
    const gradNorm = new ort.Tensor("float32", new Float32Array(1), []);
    await this.session.run({ ...this.batchFeeds(batch), ...this.scalarFeeds(lr, settings), ...feeds }, { ...fetches, loss, grad_norm: gradNorm });
    return this.commit((loss.data as Float32Array)[0], (gradNorm.data as Float32Array)[0]);
  }

  /**
   * One optimizer update over several micro-batches (gradient accumulation, as transformers'
   * Trainer: each micro-batch's mean loss divided by their number, gradients summed).
   */
  async accumulatedStep(batches: readonly TrainingBatch[], lr: number, settings: AdamWSettings): Promise<StepResult> {
    if (batches.length === 1) return this.step(batches[0], lr, settings);
    if (!this.split) {
      const gradients = await ort.InferenceSession.create(buildGradientGraph(this.arch, { classWeights: this.classWeights !== undefined, distillation: this.distillation }).model, this.sessionOptions);
      const optimizer = await ort.InferenceSession.create(buildOptimizerGraph(this.parameters), this.sessionOptions);
      this.split = { gradients, optimizer, sums: new Map(this.parameters.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))])) };
    }
    const { gradients, optimizer, sums } = this.split;
    for (const sum of sums.values()) sum.fill(0);
    let loss = 0;
    const scale = 1 / batches.length;
    for (const batch of batches) {
      const params = Object.fromEntries(this.parameters.map((p) => [p.name, new ort.Tensor("float32", this.current.get(p.name)!, p.shape)]));
      const out = await gradients.run({ ...this.batchFeeds(batch), ...params });
      loss += (out.loss.data as Float32Array)[0] * scale;
      for (const p of this.parameters) {
        const g = out[gradName(p.name)].data as Float32Array;
        const sum = sums.get(p.name)!;
        for (let i = 0; i < g.length; i++) sum[i] += g[i] * scale;
      }
    }
    const { feeds, fetches } = this.stateFeeds();
    const grads = Object.fromEntries(this.parameters.map((p) => [gradName(p.name), new ort.Tensor("float32", sums.get(p.name)!, p.shape)]));
    const gradNorm = new ort.Tensor("float32", new Float32Array(1), []);
    await optimizer.run({ ...feeds, ...grads, ...this.scalarFeeds(lr, settings) }, { ...fetches, grad_norm: gradNorm });
    return this.commit(loss, (gradNorm.data as Float32Array)[0]);
  }

  /** Replaces a parameter or moment (when resuming from a checkpoint). */
  load(name: string, data: Float32Array): void {
    const target = this.current.get(name);
    if (!target || target.length !== data.length) throw new NerkitError("E_FORMAT", `cannot restore ${name}: wrong size`);
    target.set(data);
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.split?.gradients.release();
    await this.split?.optimizer.release();
  }
}
