// Shared pieces of the backward builders: where parameter gradients are collected, and the
// reshapes that turn (…, n) activations into (N, n) matrices for weight gradients.

import { GraphBuilder } from "../onnx/graph-builder.js";

/** Collects each parameter's gradient tensor (summed if a parameter is used twice). */
export class GradientSink {
  readonly grads = new Map<string, string>();

  constructor(private readonly g: GraphBuilder) {}

  add(parameter: string, gradient: string): void {
    const previous = this.grads.get(parameter);
    this.grads.set(parameter, previous === undefined ? gradient : this.g.op("Add", [previous, gradient]));
  }
}

/** Flattens every axis but the last: (…, n) -> (N, n). */
export function rows(g: GraphBuilder, x: string, n: number): string {
  return g.op("Reshape", [x, g.int64([-1, n])]);
}
