// A protobuf writer for the part of onnx.proto that nerkit emits (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto). Hand-written because it is ~150 lines
// and the npm packages that carry onnx.proto pull in a protobuf runtime and generated code for the
// whole schema. Messages are kept as lists of byte chunks and joined once at the end, so a
// 400 MB weight tensor is copied once, not once per level of nesting. Field numbers are those of
// https://github.com/onnx/onnx/blob/main/onnx/onnx.proto.

/** TensorProto.DataType values nerkit uses. */
export const DataType = { FLOAT: 1, UINT8: 2, UINT16: 4, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

const textEncoder = new TextEncoder();

/**
 * Bytes written only when the model is joined: a weight computed from the checkpoint (transposed,
 * packed) goes straight into the model's buffer, so building a model allocates no second copy.
 */
export interface DeferredBytes {
  readonly byteLength: number;
  fill(target: Uint8Array): void;
  /** The bytes as an array of their own (a weight read from the checkpoint), when that is cheaper than filling a target. */
  read?(): Uint8Array;
}

function deferredBytes(chunk: DeferredBytes, target: () => Uint8Array): Uint8Array {
  if (chunk.read) {
    const bytes = chunk.read();
    if (bytes.byteLength !== chunk.byteLength) throw new Error(`deferred chunk of ${bytes.byteLength} bytes, ${chunk.byteLength} announced`);
    return bytes;
  }
  const out = target();
  chunk.fill(out);
  return out;
}

export type Bytes = Uint8Array | DeferredBytes;

/** A message under construction: chunks of bytes and their total length. */
export class Message {
  readonly chunks: Bytes[] = [];
  length = 0;
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  private push(bytes: Bytes): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  private varint(value: bigint | number): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.scratch.push(...bytes);
    return this;
  }

  bytes(field: number, value: Bytes): this {
    this.tag(field, 2);
    this.varint(value.byteLength);
    this.flushScratch();
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, value: Message): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.flushScratch();
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }

  packedInts(field: number, values: readonly number[]): this {
    const inner = new Message();
    for (const v of values) inner.varint(v);
    inner.flushScratch();
    return this.message(field, inner);
  }

  packedFloats(field: number, values: readonly number[]): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, bytes);
  }

  /** Joins the chunks into one buffer. */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      if (chunk instanceof Uint8Array) out.set(chunk, offset);
      // A chunk that reads its own bytes never asks for the target: they are copied into place.
      else if (chunk.read) out.set(deferredBytes(chunk, () => out), offset);
      else chunk.fill(out.subarray(offset, offset + chunk.byteLength));
      offset += chunk.byteLength;
    }
    return out;
  }

  /**
   * Hands the message's bytes to `emit` in order, without joining them: deferred chunks are filled
   * into one scratch buffer, reused, so the whole message never exists in memory at once. `emit`
   * must be done with each array before it returns.
   */
  emitChunks(emit: (bytes: Uint8Array) => void): void {
    this.flushScratch();
    let scratch = new Uint8Array(0);
    for (const chunk of this.chunks) {
      if (chunk instanceof Uint8Array) {
        emit(chunk);
        continue;
      }
      emit(
        deferredBytes(chunk, () => {
          if (scratch.length < chunk.byteLength) scratch = new Uint8Array(chunk.byteLength);
          return scratch.subarray(0, chunk.byteLength);
        }),
      );
    }
  }

  /** Makes pending scalar bytes part of `chunks` before the message is nested. */
  seal(): this {
    this.flushScratch();
    return this;
  }
}

export interface TensorData {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian element bytes, or their writer. */
  raw: Bytes;
}

export function tensorProto(t: TensorData): Message {
  const m = new Message();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
  return m.seal();
}

export type AttributeValue = number | string | readonly number[] | { tensor: TensorData } | { float: number } | { floats: readonly number[] };

function isNumberList(value: AttributeValue): value is readonly number[] {
  return Array.isArray(value);
}

export function attributeProto(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    m.int(3, value).int(20, AttributeType.INT);
  } else if (typeof value === "string") {
    m.string(4, value).int(20, AttributeType.STRING);
  } else if (isNumberList(value)) {
    m.packedInts(8, value).int(20, AttributeType.INTS);
  } else if ("tensor" in value) {
    m.message(5, tensorProto(value.tensor)).int(20, AttributeType.TENSOR);
  } else if ("float" in value) {
    m.float(2, value.float).int(20, AttributeType.FLOAT);
  } else {
    m.packedFloats(7, value.floats).int(20, AttributeType.FLOATS);
  }
  return m.seal();
}

export interface NodeData {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export function nodeProto(n: NodeData): Message {
  const m = new Message();
  for (const input of n.inputs) m.string(1, input);
  for (const output of n.outputs) m.string(2, output);
  m.string(3, n.name).string(4, n.opType);
  if (n.domain) m.string(7, n.domain);
  for (const [name, value] of Object.entries(n.attributes ?? {})) m.message(5, attributeProto(name, value));
  return m.seal();
}

/** A dimension is a fixed size or a symbolic name ("batch", "tokens"). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dataType: DataTypeCode;
  dims: readonly Dim[];
}

export function valueInfoProto(v: ValueInfo): Message {
  const shape = new Message();
  for (const d of v.dims) shape.message(1, typeof d === "number" ? new Message().int(1, d).seal() : new Message().string(2, d).seal());
  const tensorType = new Message().int(1, v.dataType).message(2, shape.seal()).seal();
  const type = new Message().message(1, tensorType).seal();
  return new Message().string(1, v.name).message(2, type).seal();
}

export interface ModelData {
  graphName: string;
  nodes: readonly NodeData[];
  initializers: readonly TensorData[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  opsetVersion: number;
  extraOpsets?: readonly { domain: string; version: number }[];
  producerVersion: string;
  docString?: string;
}

/** A serialized ONNX ModelProto. */
export function modelProto(model: ModelData): Uint8Array {
  return modelMessage(model).finish();
}

/** The ModelProto as chunks, to be joined (finish) or written out piece by piece (emitChunks). */
export function modelMessage(model: ModelData): Message {
  const graph = new Message();
  for (const n of model.nodes) graph.message(1, nodeProto(n));
  graph.string(2, model.graphName);
  for (const t of model.initializers) graph.message(5, tensorProto(t));
  for (const i of model.inputs) graph.message(11, valueInfoProto(i));
  for (const o of model.outputs) graph.message(12, valueInfoProto(o));
  graph.seal();
  const m = new Message().int(1, 8); // IR version 8 goes with opset 17
  m.string(2, "nerkit").string(3, model.producerVersion);
  if (model.docString) m.string(6, model.docString);
  m.message(7, graph);
  m.message(8, new Message().string(1, "").int(2, model.opsetVersion).seal());
  for (const extra of model.extraOpsets ?? []) m.message(8, new Message().string(1, extra.domain).int(2, extra.version).seal());
  return m.seal();
}
