// The safetensors element types as a table (name, bytes per element, how nerkit reads it) and the
// exact bit-level conversions F16 -> F32 and BF16 -> F32. Pure functions on typed arrays: no file
// access here. Left out: F64, the 8-bit floats and the unsigned/short integer types are known (so a
// file holding them can be validated and its other tensors read) but reading them is refused.

/** Every dtype the safetensors format defines, with its size in bytes; `read` says what nerkit does. */
export const DTYPES = {
  BOOL: { bytes: 1, read: "int" },
  U8: { bytes: 1, read: "int" },
  I8: { bytes: 1, read: null },
  F8_E5M2: { bytes: 1, read: null },
  F8_E4M3: { bytes: 1, read: null },
  I16: { bytes: 2, read: null },
  U16: { bytes: 2, read: null },
  F16: { bytes: 2, read: "float" },
  BF16: { bytes: 2, read: "float" },
  I32: { bytes: 4, read: "int" },
  U32: { bytes: 4, read: null },
  F32: { bytes: 4, read: "float" },
  F64: { bytes: 8, read: null },
  I64: { bytes: 8, read: "int" },
  U64: { bytes: 8, read: null },
} as const satisfies Record<string, { bytes: number; read: "float" | "int" | null }>;

export type Dtype = keyof typeof DTYPES;

/** Integer tensors come back in the array type that holds their values exactly. */
export type IntegerArray = BigInt64Array | Int32Array | Uint8Array;

export function isDtype(name: string): name is Dtype {
  return Object.prototype.hasOwnProperty.call(DTYPES, name);
}

/** The dtypes nerkit reads, for error messages. */
export const READABLE_DTYPES = (Object.keys(DTYPES) as Dtype[]).filter((d) => DTYPES[d].read !== null);

// Reading a little-endian file into typed arrays by reinterpreting bytes is only right on a
// little-endian host; every platform Node 20 ships binaries for is one.
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * IEEE 754 binary16 bits -> binary32 bits, exactly (every half value is a float value).
 * Subnormal halves become normal floats; NaN payloads are kept (shifted into the float mantissa).
 */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal: value = mantissa * 2^-24. Shift the leading 1 into the hidden-bit position.
  let e = 113; // biased float exponent of 2^-14, the smallest normal half
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;

/** All 65,536 conversions, built once on first use (256 KB). */
function halfTable(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Half-precision values (raw bits) -> Float32Array, exactly. */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer); // writing bits keeps NaN payloads
  const table = halfTable();
  for (let i = 0; i < bits.length; i++) outBits[i] = table[bits[i]];
  return out;
}

/** bfloat16 values (raw bits) -> Float32Array, exactly: a bfloat16 is the top half of a float. */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/**
 * binary32 -> binary16 bits, rounded to nearest, ties to even (as numpy's astype(float16) and
 * torch's .half()); beyond the half range → ±Infinity, below half a subnormal step → ±0, NaN stays NaN.
 */
export function f32ToF16Bits(value: number): number {
  scratchFloat[0] = value;
  const x = scratchBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 112; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  // Keep the top bits of the mantissa (hidden bit included for a subnormal half), round the rest.
  const [kept, dropped] = e > 0 ? [(e << 10) | (mantissa >>> 13), 13] : [0, 14 - e];
  if (dropped > 24) return sign;
  const full = e > 0 ? mantissa : mantissa | 0x800000;
  const half = e > 0 ? kept : full >>> dropped;
  const rest = full & ((1 << dropped) - 1);
  const midpoint = 1 << (dropped - 1);
  // A carry out of the mantissa moves into the exponent, which is right (up to Infinity).
  return sign | (rest > midpoint || (rest === midpoint && (half & 1) === 1) ? half + 1 : half);
}

/** Float32Array -> half-precision bits, each value rounded as f32ToF16Bits does. */
export function f32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}
