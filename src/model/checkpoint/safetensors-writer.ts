// Writes F32 safetensors files laid out as the reference `safetensors` library lays them out
// (safetensors/src/tensor.rs, `prepare`): tensors sorted by descending dtype alignment, then by name
// (byte order of UTF-8, as Rust compares strings); `__metadata__` first in the header; compact
// JSON; the header padded with spaces to a multiple of 8 bytes. So a file of F32 tensors written here
// is byte-identical to the one Python writes. The file is written atomically (temporary file in the
// same folder, then rename), streaming each tensor's bytes instead of building the file in memory.
// Left out: dtypes other than F32 (nerkit trains and saves in F32).

import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { ioReason } from "../../io/files.js";
import { NerkitError } from "../../errors.js";
import { HOST_IS_LITTLE_ENDIAN } from "./dtypes.js";
import { METADATA_KEY } from "./safetensors-header.js";

export interface WritableTensor {
  shape: readonly number[];
  data: Float32Array;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

function usage(message: string, field?: string): NerkitError {
  return new NerkitError("E_USAGE", message, { field });
}

/** Names in the order the reference writer uses: all tensors are F32, so by name, as UTF-8 bytes. */
function sortedNames(tensors: Record<string, WritableTensor>): string[] {
  const names = Object.keys(tensors);
  const keys = new Map(names.map((n) => [n, Buffer.from(n, "utf8")]));
  return names.sort((a, b) => Buffer.compare(keys.get(a)!, keys.get(b)!));
}

function checkTensor(name: string, tensor: WritableTensor): void {
  if (name === METADATA_KEY || name === "") throw usage("is not a valid tensor name", name || '""');
  if (LONE_SURROGATE.test(name)) throw usage("tensor name is not valid Unicode (lone surrogate)", name);
  if (!(tensor.data instanceof Float32Array)) throw usage("data is not a Float32Array", name);
  let elements = 1;
  for (const size of tensor.shape) {
    if (!Number.isSafeInteger(size) || size < 0) throw usage(`shape ${JSON.stringify(tensor.shape)} is not a list of non-negative integers`, name);
    elements *= size;
  }
  if (elements !== tensor.data.length) {
    throw usage(`shape ${JSON.stringify(tensor.shape)} holds ${elements} values but data has ${tensor.data.length}`, name);
  }
}

/** The 8-byte length and the padded JSON header, and the tensor names in data order. */
export function encodeHeader(
  tensors: Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): { header: Uint8Array; order: string[] } {
  const order = sortedNames(tensors);
  const entries: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort();
    for (const key of keys) {
      if (typeof metadata[key] !== "string") throw usage(`metadata value for ${JSON.stringify(key)} is not a string`);
      if (LONE_SURROGATE.test(key + metadata[key])) throw usage(`metadata ${JSON.stringify(key)} is not valid Unicode`);
    }
    // Rust keeps metadata in a HashMap (no defined order); sorted keys make our files reproducible.
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`);
  }
  let offset = 0;
  for (const name of order) {
    const tensor = tensors[name];
    checkTensor(name, tensor);
    const end = offset + tensor.data.byteLength;
    entries.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${tensor.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${entries.join(",")}}`, "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, order };
}

function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The whole file in memory (for small files and tests; writeSafetensors streams instead). */
export function encodeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Uint8Array {
  if (!HOST_IS_LITTLE_ENDIAN) throw usage("writing safetensors needs a little-endian host");
  const { header, order } = encodeHeader(tensors, metadata);
  const total = header.length + order.reduce((sum, name) => sum + tensors[name].data.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let position = header.length;
  for (const name of order) {
    out.set(bytesOf(tensors[name].data), position);
    position += tensors[name].data.byteLength;
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
}

/** Writes F32 tensors to `path` atomically: the old file stays until the new one is complete. */
export function writeSafetensors(path: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw usage("writing safetensors needs a little-endian host");
  const { header, order } = encodeHeader(tensors, metadata);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "w");
    writeAll(fd, header);
    for (const name of order) writeAll(fd, bytesOf(tensors[name].data));
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // the temporary file was never created
    }
    throw new NerkitError("E_IO", `cannot write: ${ioReason(error)}`, { file: path });
  }
}
