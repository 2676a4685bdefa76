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
