// Reads safetensors files: the header is parsed and validated when the file is opened, tensor values
// are read one tensor at a time when asked for. From a path, each tensor is read from disk straight
// into the Float32Array it is returned in (one copy, no whole-file buffer; into the caller's buffer when
// it hands one, so that a model load reuses a few buffers); from bytes in memory, an
// F32 tensor is a view on those bytes when aligned and a copy only when not. F16 and BF16 become
// Float32Array exactly; I64, I32, U8 and BOOL come back as integer arrays; other dtypes are refused
// when read. Left out: memory mapping (Node has none built in) and writing (safetensors-writer.ts).

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { NerkitError } from "../../errors.js";
import { DTYPES, Dtype, HOST_IS_LITTLE_ENDIAN, IntegerArray, READABLE_DTYPES, bf16ToF32, f16ToF32 } from "./dtypes.js";
import { SafetensorsHeader, TensorEntry, parseHeader, readHeaderLength } from "./safetensors-header.js";

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  byteLength: number;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export interface IntegerTensor {
  dtype: Dtype;
  shape: number[];
  data: IntegerArray;
}

/** What a single file and a sharded checkpoint both offer: names, shapes and values by name. */
export interface TensorStore {
  /** Tensor names, in the order of the data. */
  readonly names: readonly string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /**
   * An F32, F16 or BF16 tensor as Float32Array; other dtypes are an E_FORMAT error. With `into` of
   * exactly the tensor's length, an F32 tensor read from disk is read into it and `data` is `into`
   * (a buffer reused from tensor to tensor, for a caller that is done with each before the next).
   */
  tensor(name: string, into?: Float32Array): FloatTensor;
  /** An I64, I32, U8 or BOOL tensor as its integer array; other dtypes are an E_FORMAT error. */
  integerTensor(name: string): IntegerTensor;
}

export interface SafetensorsFile extends TensorStore {
  /** The path, or "<memory>" for bytes. */
  readonly source: string;
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Where tensor bytes come from: a byte array in memory or a file read with positioned reads. */
interface ByteSource {
  readonly size: number;
  /** `length` bytes at `position`: a view on memory (any alignment) or a fresh buffer read from disk. */
  bytes(position: number, length: number): Uint8Array;
  /** Reads `target.length` bytes at `position` into `target`; false when the source is memory (use `bytes`, a view). */
  readInto(target: Uint8Array, position: number): boolean;
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    bytes: (position, length) => bytes.subarray(position, position + length),
    readInto: () => false,
  };
}

// readSync takes at most 2 GiB at once; larger tensors are read in pieces.
const READ_CHUNK = 1 << 30;

function fileSource(path: string): ByteSource {
  const withFile = <T>(fn: (fd: number) => T): T => {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
      throw new NerkitError("E_IO", `cannot read: ${reason}`, { file: path });
    }
    try {
      return fn(fd);
    } finally {
      closeSync(fd);
    }
  };
  const readInto = (target: Uint8Array, position: number): void =>
    withFile((fd) => {
      let done = 0;
      while (done < target.length) {
        const length = Math.min(READ_CHUNK, target.length - done);
        let n: number;
        try {
          n = readSync(fd, target, done, length, position + done);
        } catch (error) {
          throw new NerkitError("E_IO", `cannot read: ${(error as Error).message}`, { file: path });
        }
        if (n === 0) throw new NerkitError("E_IO", "file became shorter while it was read", { file: path });
        done += n;
      }
    });
  const size = withFile((fd) => fstatSync(fd).size);
  return {
    size,
    bytes: (position, length) => {
      const out = new Uint8Array(length);
      readInto(out, position);
      return out;
    },
    readInto: (target, position) => {
      readInto(target, position);
      return true;
    },
  };
}

class SafetensorsReader implements SafetensorsFile {
  readonly names: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  private readonly entries: Map<string, TensorEntry>;

  constructor(
    readonly source: string,
    private readonly bytes: ByteSource,
    private readonly header: SafetensorsHeader,
  ) {
    this.metadata = header.metadata;
    this.entries = new Map(header.tensors.map((t) => [t.name, t]));
    this.names = header.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): TensorEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new NerkitError("E_FORMAT", "no tensor of that name in the file", { file: this.source, field: name });
    return entry;
  }

  info(name: string): TensorInfo {
    const { dtype, shape, begin, end } = this.entry(name);
    return { name, dtype, shape: [...shape], byteLength: end - begin };
  }

  /**
   * The tensor's bytes as an array of `T`. From disk they are read once into a fresh buffer that the
   * array wraps; from memory the array is a view when aligned and a copy only when not.
   */
  private typed<T>(entry: TensorEntry, make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => T): T {
    const size = DTYPES[entry.dtype].bytes;
    const length = (entry.end - entry.begin) / size;
    const position = this.header.dataStart + entry.begin;
    const view = this.bytes.bytes(position, entry.end - entry.begin);
    if (view.byteOffset % size === 0) return make(view.buffer, view.byteOffset, length);
    const copy = new Uint8Array(entry.end - entry.begin);
    copy.set(view);
    return make(copy.buffer, 0, length);
  }

  private refuse(entry: TensorEntry, wanted: "float" | "int"): never {
    const kinds = READABLE_DTYPES.filter((d) => DTYPES[d].read === wanted).join(", ");
    const other = DTYPES[entry.dtype].read;
    const hint = other === null ? `nerkit reads ${READABLE_DTYPES.join(", ")}` : `read it as ${other === "int" ? "integers" : "floats"}`;
    throw new NerkitError("E_FORMAT", `tensor is ${entry.dtype}, not one of ${kinds}; ${hint}`, { file: this.source, field: entry.name });
  }

  tensor(name: string, into?: Float32Array): FloatTensor {
    const entry = this.entry(name);
    if (DTYPES[entry.dtype].read !== "float") this.refuse(entry, "float");
    checkHost(this.source);
    const shape = [...entry.shape];
    if (entry.dtype === "F32" && into && into.byteLength === entry.end - entry.begin) {
      const target = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
      if (this.bytes.readInto(target, this.header.dataStart + entry.begin)) return { shape, data: into };
    }
    if (entry.dtype === "F32") return { shape, data: this.typed(entry, (b, o, n) => new Float32Array(b, o, n)) };
    const bits = this.typed(entry, (buffer, offset, length) => new Uint16Array(buffer, offset, length));
    return { shape, data: entry.dtype === "F16" ? f16ToF32(bits) : bf16ToF32(bits) };
  }

  integerTensor(name: string): IntegerTensor {
    const entry = this.entry(name);
    if (DTYPES[entry.dtype].read !== "int") this.refuse(entry, "int");
    checkHost(this.source);
    const shape = [...entry.shape];
    const dtype = entry.dtype;
    if (dtype === "I64") return { dtype, shape, data: this.typed(entry, (b, o, n) => new BigInt64Array(b, o, n)) };
    if (dtype === "I32") return { dtype, shape, data: this.typed(entry, (b, o, n) => new Int32Array(b, o, n)) };
    return { dtype, shape, data: this.typed(entry, (b, o, n) => new Uint8Array(b, o, n)) };
  }
}

function checkHost(file: string): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new NerkitError("E_FORMAT", "safetensors data is little-endian; this host is not", { file });
}

/**
 * Opens a safetensors file (a path) or parses one already in memory, validating the whole header.
 * Tensors read from bytes in memory may share those bytes: copy a tensor before changing it.
 */
export function readSafetensors(source: string | Uint8Array): SafetensorsFile {
  const bytes = typeof source === "string" ? fileSource(source) : memorySource(source);
  const name = typeof source === "string" ? source : "<memory>";
  const length = readHeaderLength(bytes.bytes(0, Math.min(8, bytes.size)), bytes.size, name);
  const header = parseHeader(bytes.bytes(8, length), bytes.size - 8 - length, name);
  return new SafetensorsReader(name, bytes, header);
}
