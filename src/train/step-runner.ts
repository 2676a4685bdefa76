// Runs training steps on ONNX Runtime with the parameters and AdamW moments held in JavaScript
// memory: each step feeds the current buffers and has ONNX Runtime write the updated values into
// a second set of preallocated buffers, then the two sets swap (double buffering: no allocation
// per step, and the previous values stay intact until the step has succeeded).

import * as ort from "onnxruntime-node";
import { NerkitError } from "../errors.js";
import { Architecture } from "../model/architecture.js";
import { ParameterSpec } from "../model/parameters.js";
import { GradientGraphOptions } from "./graph/gradient-graph.js";
import { OPTIMIZER_SCALARS, OptimizerScalar, firstMomentName, secondMomentName, updatedName } from "./graph/optimizer-graph.js";
import { buildTrainStepGraph } from "./graph/train-step-graph.js";

export interface TrainingBatch {
  rows: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
  labels: BigInt64Array;
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

  private constructor(
    readonly parameters: ParameterSpec[],
    private readonly batchInputs: string[],
    private readonly session: ort.InferenceSession,
    initial: TensorSet,
    private readonly classWeights?: Float32Array,
  ) {
    this.current = initial;
    this.next = new Map([...initial].map(([name, data]) => [name, new Float32Array(data.length)]));
  }

  static async create(
    arch: Architecture,
    weights: (name: string) => Float32Array,
    options: GradientGraphOptions & { threads?: number; classWeights?: Float32Array; moments?: (name: string) => Float32Array | undefined } = {},
  ): Promise<StepRunner> {
    const built = buildTrainStepGraph(arch, { classWeights: options.classWeights !== undefined });
    const session = await ort.InferenceSession.create(built.model, {
      graphOptimizationLevel: "all",
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
    });
    const initial: TensorSet = new Map();
    for (const p of built.parameters) {
      initial.set(p.name, Float32Array.from(weights(p.name)));
      for (const moment of [firstMomentName(p.name), secondMomentName(p.name)]) {
        const saved = options.moments?.(moment);
        initial.set(moment, saved ? Float32Array.from(saved) : new Float32Array(p.shape.reduce((a, b) => a * b, 1)));
      }
    }
    return new StepRunner(built.parameters, built.batchInputs, session, initial, options.classWeights);
  }

  /** The current value of a parameter or moment (a view: copy it to keep it). */
  tensor(name: string): Float32Array {
    const data = this.current.get(name);
    if (!data) throw new NerkitError("E_USAGE", `no training tensor named ${name}`);
    return data;
  }

  async step(batch: TrainingBatch, lr: number, settings: AdamWSettings): Promise<StepResult> {
    const t = this.updates + 1;
    const scalars: Record<OptimizerScalar, number> = {
      lr,
      beta1: settings.beta1,
      beta2: settings.beta2,
      eps: settings.eps,
      weight_decay: settings.weightDecay,
      bias_correction1: 1 - settings.beta1 ** t,
      bias_correction2: 1 - settings.beta2 ** t,
      max_grad_norm: settings.maxGradNorm > 0 ? settings.maxGradNorm : 3.4e38,
    };
    const dims = [batch.rows, batch.length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", batch.inputIds, dims),
      attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
      labels: new ort.Tensor("int64", batch.labels, dims),
    };
    if (this.batchInputs.includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", batch.tokenTypeIds ?? new BigInt64Array(batch.rows * batch.length), dims);
    if (this.classWeights) feeds.class_weights = new ort.Tensor("float32", this.classWeights, [this.classWeights.length]);
    for (const name of OPTIMIZER_SCALARS) feeds[name] = new ort.Tensor("float32", Float32Array.of(scalars[name]), []);
    const shapes = new Map(this.parameters.map((p) => [p.name, p.shape]));
    const fetches: Record<string, ort.Tensor> = {};
    for (const [name, data] of this.current) {
      const shape = shapes.get(name) ?? shapes.get(name.replace(/^adam_[mv]\./, ""))!;
      feeds[name] = new ort.Tensor("float32", data, shape);
      fetches[updatedName(name)] = new ort.Tensor("float32", this.next.get(name)!, shape);
    }
    const loss = new ort.Tensor("float32", new Float32Array(1), []);
    const gradNorm = new ort.Tensor("float32", new Float32Array(1), []);
    await this.session.run(feeds, { ...fetches, loss, grad_norm: gradNorm });
    const result = { loss: (loss.data as Float32Array)[0], gradNorm: (gradNorm.data as Float32Array)[0] };
    if (!Number.isFinite(result.loss) || !Number.isFinite(result.gradNorm)) {
      // The new values are discarded: `current` still holds the last good step.
      throw new NerkitError("E_FORMAT", `the loss became ${result.loss} (gradient norm ${result.gradNorm}) at update ${t}; the parameters of update ${t - 1} are kept`);
    }
    [this.current, this.next] = [this.next, this.current];
    this.updates = t;
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
