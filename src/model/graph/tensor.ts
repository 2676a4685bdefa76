// A checkpoint tensor as the graph builders read it: its shape and float32 values, row-major.
// Its own module so that encoder.ts and fused-encoder.ts, which encoder.ts imports, both name it
// without an import circle. Other dtypes are converted to float32 before they get here.

export interface Tensor {
  shape: readonly number[];
  data: Float32Array;
}
