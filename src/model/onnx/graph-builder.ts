// Builds an ONNX graph node by node: named inputs, weights as initializers, ops with generated
// output names, and the serialized model at the end. Layer modules (../graph/*) call it; it knows
// nothing about transformers.

import { packageVersion } from "../../package-root.js";
import { DataType, DataTypeCode, Dim, ModelData, NodeData, TensorData, ValueInfo, AttributeValue, Message, modelMessage } from "./proto.js";

export const OPSET = 17;

/** ONNX Runtime's own operators (Attention, SkipLayerNormalization, BiasGelu, …). */
export const CONTRIB_DOMAIN = "com.microsoft";

function bytesOf(data: Float32Array | BigInt64Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class GraphBuilder {
  readonly nodes: NodeData[] = [];
  readonly initializers: TensorData[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private usesContrib = false;
  /** What deferredFloats' writers fill, grown to the largest such weight; serialization is synchronous. */
  private scratch = new Float32Array(0);
  private counter = 0;
  private prefix = "";

  /** Runs `build` with node names prefixed by `name/`, so graphs read like the model's modules. */
  scope<T>(name: string, build: () => T): T {
    const saved = this.prefix;
    this.prefix = `${saved}${name}/`;
    try {
      return build();
    } finally {
      this.prefix = saved;
    }
  }

  private fresh(base: string): string {
    let name = `${this.prefix}${base}`;
    while (this.used.has(name)) name = `${this.prefix}${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dataType: DataTypeCode, dims: readonly Dim[]): string {
    this.used.add(name);
    this.inputs.push({ name, dataType, dims });
    return name;
  }

  output(name: string, dataType: DataTypeCode, dims: readonly Dim[]): void {
    this.outputs.push({ name, dataType, dims });
  }

  /** A weight or constant stored in the model; `name` is kept as given (checkpoint names stay readable). */
  initializer(name: string, data: Float32Array | BigInt64Array | Int32Array | Uint8Array, dims: readonly number[]): string {
    const dataType =
      data instanceof Float32Array ? DataType.FLOAT : data instanceof BigInt64Array ? DataType.INT64 : data instanceof Int32Array ? DataType.INT32 : DataType.UINT8;
    this.used.add(name);
    this.initializers.push({ name, dataType, dims, raw: bytesOf(data) });
    return name;
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(this.fresh("const_i64"), BigInt64Array.from(values.map(BigInt)), dims);
  }

  float(values: readonly number[], dims: readonly number[] = []): string {
    return this.initializer(this.fresh("const_f32"), Float32Array.from(values), dims);
  }

  /**
   * A float32 weight whose values `fill` writes when the model is serialized, into a scratch array
   * of the tensor's size that all deferred weights share: a weight derived from the checkpoint
   * (transposed, packed) then costs no array of its own, and the process no heap that outlives it.
   */
  deferredFloats(name: string, dims: readonly number[], fill: (target: Float32Array) => void): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const raw = {
      byteLength: count * 4,
      fill: (target: Uint8Array) => {
        // Straight into the target when it is aligned for floats (a file write's buffer); through
        // the scratch array when not (a joined model, where the weight lands at any offset).
        if (target.byteOffset % 4 === 0) return fill(new Float32Array(target.buffer, target.byteOffset, count));
        if (this.scratch.length < count) this.scratch = new Float32Array(count);
        const values = this.scratch.subarray(0, count);
        fill(values);
        target.set(new Uint8Array(values.buffer, values.byteOffset, count * 4));
      },
    };
    this.used.add(name);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw });
    return name;
  }

  /**
   * A float32 weight of a known shape that `read` fetches (from the checkpoint) only when the model
   * is serialized, so the graph holds no copy of it meanwhile; `read` must return `dims`' count of values.
   */
  lazyFloats(name: string, dims: readonly number[], read: () => Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const raw = {
      byteLength: count * 4,
      fill: (target: Uint8Array) => target.set(bytesOf(read())),
      read: () => bytesOf(read()),
    };
    this.used.add(name);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw });
    return name;
  }

  /** A float32 tensor of zeros of a fixed shape, made at run time (not stored in the model). */
  zeros(dims: readonly number[]): string {
    const value = { tensor: { name: "value", dataType: DataType.FLOAT, dims: [1], raw: new Uint8Array(4) } };
    return this.op("ConstantOfShape", [this.int64([...dims])], { value });
  }

  /** Adds a node and returns its outputs' names; `outputs` names them or says how many. */
  ops(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs: number | readonly string[] = 1, domain?: string): string[] {
    const names =
      typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? opType : `${opType}_out${i}`)) : [...outputs];
    for (const name of names) this.used.add(name);
    this.nodes.push({ opType, inputs, outputs: names, name: this.fresh(`${opType}_node`), attributes, domain });
    return names;
  }

  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.ops(opType, inputs, attributes)[0];
  }

  /** A node of ONNX Runtime's contrib domain (the model then imports com.microsoft, version 1). */
  contrib(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    this.usesContrib = true;
    return this.ops(opType, inputs, attributes, 1, CONTRIB_DOMAIN)[0];
  }

  /** Renames the last node's first output (to give a graph output its public name). */
  nameLast(name: string): string {
    const node = this.nodes[this.nodes.length - 1];
    const old = node.outputs[0];
    (node.outputs as string[])[0] = name;
    this.used.add(name);
    for (const n of this.nodes) (n.inputs as string[]).forEach((input, i, list) => input === old && (list[i] = name));
    return name;
  }

  /**
   * Renames a node's output and every use of it: a graph output named this way is written by the
   * node itself, into the caller's preallocated buffer, where an Identity would copy it there.
   */
  rename(from: string, to: string): string {
    const node = this.nodes.find((n) => n.outputs.includes(from));
    if (!node) throw new Error(`no node outputs ${from}`);
    this.used.add(to);
    for (const n of this.nodes) {
      (n.outputs as string[]).forEach((output, i, list) => output === from && (list[i] = to));
      (n.inputs as string[]).forEach((input, i, list) => input === from && (list[i] = to));
    }
    return to;
  }

  build(docString?: string): Uint8Array {
    return this.message(docString).finish();
  }

  /** The serialized model as chunks (proto.ts's Message), for writing to a file without joining them. */
  message(docString?: string): Message {
    const model: ModelData = {
      graphName: "nerkit",
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      opsetVersion: OPSET,
      extraOpsets: this.usesContrib ? [{ domain: CONTRIB_DOMAIN, version: 1 }] : [],
      producerVersion: packageVersion,
      docString,
    };
    return modelMessage(model);
  }
}
