// The safetensors header: the 8-byte little-endian length, the JSON that follows it, and every check
// the format asks for (https://huggingface.co/docs/safetensors/index, and the Rust crate's
// `Metadata::validate`): known dtypes, shapes and offsets that agree, offsets inside the data,
// tensors that neither overlap nor leave gaps, and a data area covered to its last byte.
// Pure functions on bytes; reading files and tensor values is safetensors.ts's job. Each error is a
// NerkitError naming the file and, where there is one, the tensor (its `field`).

import { NerkitError } from "../../errors.js";
import { DTYPES, Dtype, isDtype } from "./dtypes.js";

/** The Rust crate's limit; a longer header is taken as a sign of a file that is not safetensors. */
export const MAX_HEADER_BYTES = 100_000_000;

export const METADATA_KEY = "__metadata__";

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte offsets relative to the start of the data area, half-open [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Where the data area starts in the file: 8 + the header length. */
  dataStart: number;
  metadata: Record<string, string>;
  /** In data order (by offset). */
  tensors: TensorEntry[];
}

function formatError(message: string, file: string, tensor?: string): NerkitError {
  return new NerkitError("E_FORMAT", message, { file, field: tensor });
}

/** Reads the header length from the first 8 bytes and checks it against the file's size. */
export function readHeaderLength(first: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || first.length < 8) {
    throw formatError(`file is ${fileSize} bytes, shorter than the 8-byte header length: not a safetensors file`, file);
  }
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw formatError(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`, file);
  }
  const length = Number(n);
  if (length < 2) throw formatError(`header length ${length} is too small for a JSON object`, file);
  if (8 + length > fileSize) {
    throw formatError(`header length ${length} runs past the end of the file (${fileSize} bytes): truncated?`, file);
  }
  return length;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseEntry(name: string, raw: unknown, file: string): TensorEntry {
  if (!isPlainObject(raw)) throw formatError("header entry is not an object", file, name);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string" || !isDtype(dtype)) {
    throw formatError(`unknown dtype ${JSON.stringify(dtype)}; safetensors dtypes are ${Object.keys(DTYPES).join(", ")}`, file, name);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw formatError(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, file, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw formatError(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`, file, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw formatError(`data_offsets [${begin}, ${end}] end before they begin`, file, name);
  let elements = 1;
  for (const size of shape as number[]) {
    elements *= size;
    if (!Number.isSafeInteger(elements)) throw formatError(`shape ${JSON.stringify(shape)} is too large`, file, name);
  }
  const bytes = elements * DTYPES[dtype].bytes;
  if (end - begin !== bytes) {
    throw formatError(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${bytes}`,
      file,
      name,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function parseMetadata(raw: unknown, file: string): Record<string, string> {
  if (!isPlainObject(raw)) throw formatError(`${METADATA_KEY} is not an object of strings`, file);
  // No prototype: a key such as "__proto__" is the file's data and must stay a key.
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") throw formatError(`${METADATA_KEY}.${key} is not a string`, file);
    metadata[key] = value;
  }
  return metadata;
}

/**
 * Parses and validates the JSON header. `dataLength` is the size of the data area (file size minus
 * 8 minus the header length): the tensors must tile it exactly, as the format requires.
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw formatError("header is not valid UTF-8", file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw formatError(`header is not valid JSON: ${(error as Error).message}`, file);
  }
  if (!isPlainObject(json)) throw formatError("header is not a JSON object", file);

  let metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw, file);
    else tensors.push(parseEntry(name, raw, file));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkTiling(tensors, dataLength, file);
  return { dataStart: 8 + headerBytes.length, metadata, tensors };
}

/** Tensors sorted by offset must follow one another from byte 0 to the end of the data. */
function checkTiling(tensors: TensorEntry[], dataLength: number, file: string): void {
  let expected = 0;
  let previous: TensorEntry | undefined;
  for (const t of tensors) {
    if (t.end > dataLength) {
      throw formatError(
        `data_offsets [${t.begin}, ${t.end}] run past the end of the data (${dataLength} bytes): file truncated?`,
        file,
        t.name,
      );
    }
    if (t.begin < expected) {
      throw formatError(`data_offsets [${t.begin}, ${t.end}] overlap tensor ${previous?.name} [${previous?.begin}, ${previous?.end}]`, file, t.name);
    }
    if (t.begin > expected) {
      throw formatError(`bytes [${expected}, ${t.begin}) before this tensor belong to no tensor`, file, t.name);
    }
    expected = t.end;
    previous = t;
  }
  if (expected !== dataLength) {
    throw formatError(`the last ${dataLength - expected} bytes of the data belong to no tensor`, file);
  }
}
