// A float tensor as the graph builders read checkpoint weights: a shape and row-major values.
// Its own module so that the inference graph (./encoder.ts) and the fused layers it calls
// (./fused-encoder.ts) share the type without importing each other.

export interface Tensor {
  shape: readonly number[];
  data: Float32Array;
}
