// The peak memory of a training run, estimated before it starts from the model's shape, the largest
// batch and the size of the data, as a sum of named parts so that each can be checked alone. What it
// leaves out: the memory itself (bench/train/memory.mjs and bench/train/run.mjs measure the peak,
// process.resourceUsage().maxRSS; bench/RESULTS.md has the fit, "Training memory" sections).

import { Architecture } from "../model/architecture.js";
import { parameterCount, parameterTable } from "../model/parameters.js";

const MiB = 2 ** 20;

/** Float32 copies of the parameters alive at a step's peak (see memoryParts). */
export const PARAMETER_COPIES = 6;

export interface MemoryParts {
  /** Node.js, ONNX Runtime and its sessions, whatever the model. */
  runtime: number;
  /** PARAMETER_COPIES float32 copies of the parameters. */
  parameters: number;
  /** Graph and session structures, per encoder layer. */
  layers: number;
  /** What the backward pass keeps of the forward pass, for the largest batch. */
  activations: number;
  /** The examples in JavaScript, with the heap's garbage over a long run. */
  data: number;
}

/**
 * The parts, in bytes, for batches of `batchSize` × `length` tokens and `exampleTokens` tokens of
 * data. Coefficients fitted by least squares to measured peak RSS (bench/RESULTS.md, "Training memory:
 * the estimate refitted"): bert-tiny, bert-mini and bert-small at batches 8 and 32 (3 steps, longest
 * batch first, `bench/train/memory.mjs`) and BERT-base 8 × 128; every row within 7%:
 * - runtime: 120 MiB (a 3-step run of a 2-layer, hidden-32 model on 20 sentences peaks at 0.17 GiB);
 * - parameters: 6 copies: the parameters and both AdamW moments (updated in place), the gradients,
 *   the copy of the gradients that onnxruntime-node makes when it returns them (garbage after each
 *   step), and the starting weights, which the caller of the trainer keeps;
 * - layers: 8.5 MiB per encoder layer (graph and session structures);
 * - activations: 1.1 × 4 bytes × (16 H + 2 I + 3 A T) per token and layer, and 9.5 KiB per token
 *   outside the layers (embeddings, head, loss, inputs): with ONNX Runtime's memory pattern off
 *   (step-runner.ts) the fit leaves no room for the 17% of arena growth the previous code needed;
 * - data: about 260 bytes per token (live examples and the heap's garbage between major collections).
 */
export function memoryParts(arch: Architecture, batchSize: number, length: number, exampleTokens = 0): MemoryParts {
  const params = parameterCount(parameterTable(arch));
  const batchTokens = batchSize * length;
  const perLayerToken = 1.1 * 4 * (16 * arch.hidden + 2 * arch.intermediate + 3 * arch.heads * length);
  return {
    runtime: 120 * MiB,
    parameters: PARAMETER_COPIES * 4 * params,
    layers: arch.layers * 8.5 * MiB,
    activations: batchTokens * (arch.layers * perLayerToken + 9.5 * 1024),
    data: 260 * exampleTokens,
  };
}

/** Peak memory of a run, in bytes: the sum of memoryParts. */
export function estimateMemory(arch: Architecture, batchSize: number, length: number, exampleTokens = 0): number {
  const parts = memoryParts(arch, batchSize, length, exampleTokens);
  return parts.runtime + parts.parameters + parts.layers + parts.activations + parts.data;
}
