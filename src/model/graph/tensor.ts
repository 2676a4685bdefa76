// A checkpoint tensor as the graph builders read it: its shape and float32 values, row-major, and
// the reusable buffers that weights read while a model is serialized go into. Its own module so
// that encoder.ts and fused-encoder.ts, which encoder.ts imports, both name them without an import
// circle. Other dtypes are converted to float32 before they get here.

export interface Tensor {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * Reads a checkpoint tensor. `into`, when given, is a buffer the reader may fill and return as
 * `data` instead of a new array (a tensor read from disk goes straight there); a reader that
 * ignores it is correct too.
 */
export type TensorLookup = (name: string, into?: Float32Array) => Tensor;

/**
 * Numbered buffers, each grown to the largest size asked of it and then reused: the weights read
 * while a model is serialized, which live only until their bytes are written, go into these rather
 * than into a new array each (garbage that waited for the collector held 60-110 MiB at load).
 */
export function reusableBuffers(): (slot: number, count: number) => Float32Array {
  const buffers: Float32Array[] = [];
  return (slot, count) => {
    if ((buffers[slot]?.length ?? 0) < count) buffers[slot] = new Float32Array(count);
    return buffers[slot].subarray(0, count);
  };
}
