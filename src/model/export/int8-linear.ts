// Dynamic 8-bit quantization of the encoder's Linear layers, laid out as ONNX Runtime's
// quantize_dynamic lays out a MatMul: weights stored as 8-bit integers with a scale and a zero point
// per output channel; activations quantized when the model runs, by DynamicQuantizeLinear (one scale
// and zero point for the whole tensor); an integer MatMulInteger; its int32 result cast to float and
// multiplied by both scales; the bias added in float. Beside the graph builder, the same arithmetic
// as plain loops: the oracle the graph is tested against.
//
// Choices, and why:
// - uint8 weights (ORT's QUInt8), not int8: ORT's uint8 × int8 kernel on x86 CPUs with AVX2 but no
//   VNNI multiplies with vpmaddubsw, which saturates each pair of products at 32767
//   (255 · 127 · 2 = 64770); uint8 × uint8 widens to 16 bits first and is exact on every CPU (the
//   test "uint8 weights: MatMulInteger is exact where int8 weights saturate" shows both).
// - one scale and zero point per output channel: the rows of a Linear weight have ranges that differ
//   several-fold, and per channel each row spends the 256 levels on its own range. The scales are
//   applied after the integer product, so per channel costs one (out) vector instead of a scalar.
// - asymmetric (the range [min(0, w), max(0, w)] with a zero point): a row need not be centred on 0.
// Left out (kept in float32): embeddings and LayerNorm, attention's activation × activation MatMuls
// (nothing constant to quantize), and the classifier (H × L values, and its error would land on the
// logits unfiltered).
//
// Shapes: M rows of activations (B · T), K = in features, N = out features.
// Formulas: DynamicQuantizeLinear and MatMulInteger in the ONNX operator spec,
// https://onnx.ai/onnx/operators/onnx__DynamicQuantizeLinear.html and onnx__MatMulInteger.html.

import { DataType } from "../onnx/proto.js";
import { Tensor } from "../graph/encoder.js";
import { LinearLayer, WeightInput } from "../graph/linear.js";

/** A uint8 grid: real value = (q - zeroPoint) · scale. */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** A Linear weight (N, K) quantized per output channel, stored transposed as MatMulInteger's B. */
export interface QuantizedWeight {
  values: Uint8Array; // (K, N)
  scales: Float32Array; // (N)
  zeroPoints: Uint8Array; // (N)
}

/** Bytes a weight takes stored in float32, and quantized: values, scales and zero points. */
export interface WeightBytes {
  float: number;
  quantized: number;
}

/** numpy's rint: halves go to the even neighbour (ONNX's rounding for quantization). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clampByte(q: number): number {
  return q < 0 ? 0 : q > 255 ? 255 : q;
}

/** DynamicQuantizeLinear's grid for values in [min, max]: the range widened to hold 0, in 255 steps. */
export function uint8Params(min: number, max: number): QuantParams {
  const low = Math.min(0, min);
  const high = Math.max(0, max);
  const scale = Math.fround((high - low) / 255);
  // An all-zero row: any scale represents it; 1 keeps the division below finite.
  if (scale === 0) return { scale: 1, zeroPoint: 0 };
  return { scale, zeroPoint: clampByte(roundHalfEven(Math.fround(-low / scale))) };
}

export function quantize(x: number, p: QuantParams): number {
  return clampByte(roundHalfEven(Math.fround(x / p.scale)) + p.zeroPoint);
}

/** The uint8 grid spanning the values' range. */
function gridOf(values: Iterable<number>): QuantParams {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return uint8Params(min, max);
}

/** Quantizes a PyTorch-layout weight (N, K), one grid per output row, into (K, N) values. */
export function quantizeWeight(w: Float32Array, N: number, K: number): QuantizedWeight {
  const values = new Uint8Array(K * N);
  const scales = new Float32Array(N);
  const zeroPoints = new Uint8Array(N);
  for (let n = 0; n < N; n++) {
    const row = w.subarray(n * K, (n + 1) * K); // (K)
    const p = gridOf(row);
    scales[n] = p.scale;
    zeroPoints[n] = p.zeroPoint;
    for (let k = 0; k < K; k++) values[k * N + n] = quantize(row[k], p);
  }
  return { values, scales, zeroPoints };
}

export function weightBytes(N: number, K: number): WeightBytes {
  return { float: 4 * N * K, quantized: N * K + 4 * N + N };
}

/**
 * The int8 Linear's builder for buildTokenClassifier: y = dequantize(q(x) ⊗ q(W)) + b for x (…, K).
 * Adds each weight's float and quantized sizes to `sizes` when given.
 */
export function int8Linear(tensor: (name: string) => Tensor, weight: WeightInput, sizes?: WeightBytes): LinearLayer {
  return (g, x, name) => {
    const w = tensor(`${name}.weight`); // (N, K)
    const [N, K] = w.shape;
    const q = quantizeWeight(w.data, N, K);
    const values = g.initializer(`${name}.weight_quantized`, q.values, [K, N]);
    const zeroPoints = g.initializer(`${name}.weight_zero_point`, q.zeroPoints, [N]);
    const scales = g.initializer(`${name}.weight_scale`, q.scales, [N]);
    if (sizes) {
      const bytes = weightBytes(N, K);
      sizes.float += bytes.float;
      sizes.quantized += bytes.quantized;
    }
    const [xq, xScale, xZero] = g.ops("DynamicQuantizeLinear", [x], {}, 3); // (…, K) uint8, () float, () uint8
    const product = g.op("MatMulInteger", [xq, values, xZero, zeroPoints]); // (…, N) int32
    const scale = g.op("Mul", [xScale, scales]); // (N)
    const y = g.op("Mul", [g.op("Cast", [product], { to: DataType.FLOAT }), scale]); // (…, N)
    return g.op("Add", [y, weight(`${name}.bias`)]);
  };
}

/** The same computation as plain loops, in float32 where the graph is: x (M, K) → (M, N). */
export function int8LinearReference(x: Float32Array, M: number, q: QuantizedWeight, bias: Float32Array): Float32Array {
  const N = q.scales.length;
  const K = q.values.length / N;
  // DynamicQuantizeLinear: one grid for the whole activation tensor.
  const a = gridOf(x);
  const xq = x.map((v) => quantize(v, a)); // (M, K)
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      // MatMulInteger: exact integer sum of zero-point-shifted products.
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (xq[m * K + k] - a.zeroPoint) * (q.values[k * N + n] - q.zeroPoints[n]);
      const scale = Math.fround(a.scale * q.scales[n]);
      y[m * N + n] = Math.fround(Math.fround(acc * scale) + bias[n]);
    }
  }
  return y;
}
