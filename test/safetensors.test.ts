// safetensors and checkpoint loading: the four tiny fixture checkpoints (written by Python's
// transformers/safetensors) load with the tensor names and shapes their config.json implies; writing
// their tensors back gives byte-identical files; write -> read is bit-exact; F16/BF16 decode exactly
// (table rows plus all 65,536 halves against a formula); integer dtypes; every kind of corrupted
// file, and random mutations of small valid files, give a result or a NerkitError; sharded
// checkpoints; config.json checks (model_type, sizes, id2label/label2id).

import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import { DTYPES, Dtype, f16BitsToF32Bits } from "../src/model/checkpoint/dtypes.js";
import { SafetensorsFile, readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { WritableTensor, encodeSafetensors, writeSafetensors } from "../src/model/checkpoint/safetensors-writer.js";
import { readShardedSafetensors } from "../src/model/checkpoint/sharded.js";
import { ModelConfig, parseModelConfig } from "../src/model/checkpoint/config.js";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { fixturesDir, readJson, tempDir, nerkitError } from "./helpers.js";

const HF = join(fixturesDir, "hf");
const MODELS = ["bert", "distilbert", "roberta", "xlmr"] as const;
const FIXTURE_FILES = ["model", "expected_grads", "expected_after_3_steps"] as const;


/** A safetensors file built by hand: the length prefix (overridable), the header text, the data. */
function rawFile(header: string, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const json = Buffer.from(header, "utf8");
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

// ---- the parameter table each config implies (the oracle for names and shapes) ------------------

function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V, maxPositions: P, typeVocabSize: T, numLayers } = c;
  const L = c.labels.length;
  const shapes = new Map<string, number[]>();
  const linear = (name: string, out: number, inp: number) => {
    shapes.set(`${name}.weight`, [out, inp]);
    shapes.set(`${name}.bias`, [out]);
  };
  const norm = (name: string) => {
    shapes.set(`${name}.weight`, [H]);
    shapes.set(`${name}.bias`, [H]);
  };
  if (c.modelType === "distilbert") {
    shapes.set("distilbert.embeddings.word_embeddings.weight", [V, H]);
    shapes.set("distilbert.embeddings.position_embeddings.weight", [P, H]);
    norm("distilbert.embeddings.LayerNorm");
    for (let i = 0; i < numLayers; i++) {
      const l = `distilbert.transformer.layer.${i}`;
      for (const p of ["q_lin", "k_lin", "v_lin", "out_lin"]) linear(`${l}.attention.${p}`, H, H);
      norm(`${l}.sa_layer_norm`);
      linear(`${l}.ffn.lin1`, I, H);
      linear(`${l}.ffn.lin2`, H, I);
      norm(`${l}.output_layer_norm`);
    }
  } else {
    const p = c.modelType === "bert" ? "bert" : "roberta"; // XLM-R reuses RoBERTa's module names
    shapes.set(`${p}.embeddings.word_embeddings.weight`, [V, H]);
    shapes.set(`${p}.embeddings.position_embeddings.weight`, [P, H]);
    shapes.set(`${p}.embeddings.token_type_embeddings.weight`, [T, H]);
    norm(`${p}.embeddings.LayerNorm`);
    for (let i = 0; i < numLayers; i++) {
      const l = `${p}.encoder.layer.${i}`;
      for (const q of ["query", "key", "value"]) linear(`${l}.attention.self.${q}`, H, H);
      linear(`${l}.attention.output.dense`, H, H);
      norm(`${l}.attention.output.LayerNorm`);
      linear(`${l}.intermediate.dense`, I, H);
      linear(`${l}.output.dense`, H, I);
      norm(`${l}.output.LayerNorm`);
    }
  }
  linear("classifier", L, H);
  return shapes;
}

function shapesOf(file: { names: readonly string[]; info(n: string): { shape: number[] } }): Map<string, number[]> {
  return new Map(file.names.map((n) => [n, file.info(n).shape]));
}

for (const model of MODELS) {
  test(`${model}-tiny: checkpoint and expected gradients have the tensors config.json implies`, () => {
    const checkpoint = loadCheckpoint(join(HF, `${model}-tiny`));
    const expected = expectedShapes(checkpoint.config);
    assert.equal(checkpoint.config.labels.length, 9);
    assert.deepEqual(new Map([...shapesOf(checkpoint.weights)].sort()), new Map([...expected].sort()));
    const grads = readSafetensors(join(HF, `${model}-tiny`, "expected_grads.safetensors"));
    assert.deepEqual(new Map([...shapesOf(grads)].sort()), new Map([...expected].sort()));
    const fromMemory = readSafetensors(readFileSync(join(HF, `${model}-tiny`, "model.safetensors")));
    for (const name of checkpoint.weights.names) {
      const { shape, data } = checkpoint.weights.tensor(name);
      assert.equal(data.length, shape.reduce((a, b) => a * b, 1));
      assert.ok(data.every(Number.isFinite), name);
      assert.deepEqual(fromMemory.tensor(name).data, data, `${name}: file and memory reads differ`);
      assert.ok(grads.tensor(name).data.every(Number.isFinite), name);
    }
  });
}

test("writing the tensors of each F32 fixture file back gives the same bytes (safetensors' layout)", () => {
  for (const model of MODELS) {
    for (const name of FIXTURE_FILES) {
      const path = join(HF, `${model}-tiny`, `${name}.safetensors`);
      const file = readSafetensors(path);
      const tensors: Record<string, WritableTensor> = {};
      for (const n of file.names) tensors[n] = file.tensor(n);
      const metadata = Object.keys(file.metadata).length > 0 ? { ...file.metadata } : undefined;
      const out = join(tempDir(), "out.safetensors");
      writeSafetensors(out, tensors, metadata);
      assert.ok(Buffer.compare(readFileSync(out), readFileSync(path)) === 0, `${model}-tiny/${name}: bytes differ`);
      assert.ok(Buffer.compare(Buffer.from(encodeSafetensors(tensors, metadata)), readFileSync(path)) === 0);
    }
  }
});

// ---- round trips ----------------------------------------------------------------------------------

function bits(data: Float32Array): Uint32Array {
  return new Uint32Array(data.slice().buffer);
}

test("write -> read is bit-exact: NaN payloads, -0, infinities, subnormals, empty and scalar tensors", () => {
  const special = new Float32Array(new Uint32Array([0x7fc00001, 0xffbfffff, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff, 0x3f800000, 0x7f7fffff]).buffer);
  const tensors: Record<string, WritableTensor> = {
    "special": { shape: [3, 3], data: special },
    "empty": { shape: [0, 4], data: new Float32Array(0) },
    "scalar": { shape: [], data: new Float32Array([2.5]) },
    "layer.0.weight": { shape: [2, 2, 2], data: new Float32Array([1, -2, 3.25, 1e-30, -1e30, 0.1, 7, 8]) },
  };
  const dir = tempDir();
  const path = join(dir, "x.safetensors");
  writeSafetensors(path, tensors, { format: "pt", note: "é \u2028 \n" });
  assert.deepEqual(readdirSync(dir), ["x.safetensors"], "no temporary file left");
  for (const file of [readSafetensors(path), readSafetensors(readFileSync(path))]) {
    assert.deepEqual({ ...file.metadata }, { format: "pt", note: "é \u2028 \n" });
    for (const [name, t] of Object.entries(tensors)) {
      const read = file.tensor(name);
      assert.deepEqual(read.shape, t.shape);
      assert.deepEqual(bits(read.data), bits(t.data), name);
    }
  }
});

test("fast-check: random F32 tensors round-trip bit-exactly", () => {
  const tensorArb = fc.record({
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    seed: fc.array(fc.integer(), { minLength: 64, maxLength: 64 }),
  });
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6, unit: "grapheme" }), tensorArb, { maxKeys: 5 }), (spec) => {
      const tensors: Record<string, WritableTensor> = {};
      for (const [name, { shape, seed }] of Object.entries(spec)) {
        if (name === "__metadata__") continue;
        const n = shape.reduce((a, b) => a * b, 1);
        const raw = new Uint32Array(n).map((_, i) => seed[i % 64] ^ (i * 2654435761));
        tensors[name] = { shape, data: new Float32Array(raw.buffer) };
      }
      const file = readSafetensors(encodeSafetensors(tensors));
      assert.deepEqual([...file.names].sort(), Object.keys(tensors).sort());
      for (const [name, t] of Object.entries(tensors)) assert.deepEqual(bits(file.tensor(name).data), bits(t.data));
    }),
    { numRuns: 150, seed: 7 },
  );
});

test("tensors are laid out by name in UTF-8 byte order, as Rust orders strings", () => {
  const names = ["😀", "z", "\uFF01", "é", "a", "B"];
  const tensors = Object.fromEntries(names.map((n) => [n, { shape: [1], data: new Float32Array([1]) }]));
  const file = readSafetensors(encodeSafetensors(tensors));
  // UTF-16 order would put 😀 (D83D) before ！ (FF01); UTF-8 puts ！ (EF ..) before 😀 (F0 ..).
  assert.deepEqual(file.names, ["B", "a", "z", "é", "\uFF01", "😀"]);
  // The header is padded with spaces to a multiple of 8 bytes.
  const bytes = encodeSafetensors(tensors);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
});

// ---- dtypes -------------------------------------------------------------------------------------

const F16_ROWS: Array<[string, number, number]> = [
  ["+0", 0x0000, 0],
  ["-0", 0x8000, -0],
  ["smallest subnormal", 0x0001, 2 ** -24],
  ["largest subnormal", 0x03ff, 1023 * 2 ** -24],
  ["smallest normal", 0x0400, 2 ** -14],
  ["one", 0x3c00, 1],
  ["one third", 0x3555, 0.333251953125],
  ["-2", 0xc000, -2],
  ["max", 0x7bff, 65504],
  ["-max", 0xfbff, -65504],
  ["+inf", 0x7c00, Infinity],
  ["-inf", 0xfc00, -Infinity],
  ["NaN", 0x7e00, NaN],
  ["NaN with payload", 0x7c01, NaN],
];
const BF16_ROWS: Array<[string, number, number]> = [
  ["+0", 0x0000, 0],
  ["-0", 0x8000, -0],
  ["smallest subnormal", 0x0001, 2 ** -133],
  ["smallest normal", 0x0080, 2 ** -126],
  ["one", 0x3f80, 1],
  ["-1.5", 0xbfc0, -1.5],
  ["max", 0x7f7f, 3.3895313892515355e38],
  ["+inf", 0x7f80, Infinity],
  ["-inf", 0xff80, -Infinity],
  ["NaN", 0x7fc0, NaN],
];

function halfFile(dtype: "F16" | "BF16", values: number[]): Uint8Array {
  const data = new Uint8Array(new Uint16Array(values).buffer);
  return rawFile(JSON.stringify({ t: { dtype, shape: [values.length], data_offsets: [0, data.length] } }), data);
}

for (const [dtype, rows] of [["F16", F16_ROWS], ["BF16", BF16_ROWS]] as const) {
  test(`${dtype} decodes exactly`, () => {
    const { data } = readSafetensors(halfFile(dtype, rows.map((r) => r[1]))).tensor("t");
    rows.forEach(([what, , expected], i) => assert.ok(Object.is(data[i], expected), `${dtype} ${what}: got ${data[i]}, want ${expected}`));
  });
}

test("F16: all 65,536 values agree with the binary16 formula, NaN payloads kept", () => {
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    const expected = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m === 0 ? sign * Infinity : NaN) : sign * (1 + m / 1024) * 2 ** (e - 15);
    const got = new Float32Array(new Uint32Array([f16BitsToF32Bits(h)]).buffer)[0];
    assert.ok(Object.is(got, expected), `0x${h.toString(16)}: got ${got}, want ${expected}`);
    if (e === 31 && m !== 0) assert.equal(f16BitsToF32Bits(h) & 0x7fffff, m << 13, "payload");
  }
});

test("integer dtypes come back as integer arrays; other dtypes are refused clearly", () => {
  const i64 = new BigInt64Array([-1n, 2n ** 62n]);
  const i32 = new Int32Array([-7, 2147483647]);
  const u8 = new Uint8Array([0, 255, 3]);
  const bool = new Uint8Array([1, 0]);
  const f64 = new Float64Array([0.1]);
  const parts: Array<[string, Dtype, number[], Uint8Array]> = [
    ["i64", "I64", [2], new Uint8Array(i64.buffer)],
    ["f64", "F64", [1], new Uint8Array(f64.buffer)],
    ["i32", "I32", [2], new Uint8Array(i32.buffer)],
    ["u8", "U8", [3], u8],
    ["bool", "BOOL", [2], bool],
    ["f32", "F32", [1], new Uint8Array(new Float32Array([1.5]).buffer)],
  ];
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, dtype, shape, bytes] of parts) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const data = Buffer.concat(parts.map((p) => p[3]));
  // A header of odd length puts the data at an odd offset: reads must copy, not fail.
  for (const pad of ["", " ", "  ", "   "]) {
    const file = readSafetensors(rawFile(JSON.stringify(header) + pad, data));
    assert.deepEqual(file.integerTensor("i64").data, i64);
    assert.deepEqual(file.integerTensor("i32").data, i32);
    assert.deepEqual(file.integerTensor("u8").data, u8);
    assert.deepEqual(file.integerTensor("bool").data, bool);
    assert.deepEqual(file.tensor("f32").data, new Float32Array([1.5]));
    assert.match(nerkitError(() => file.tensor("f64"), "E_FORMAT").describe(), /f64: tensor is F64.*nerkit reads/);
    assert.match(nerkitError(() => file.tensor("i64"), "E_FORMAT").message, /read it as integers/);
    assert.match(nerkitError(() => file.integerTensor("f32"), "E_FORMAT").message, /read it as floats/);
    assert.equal(nerkitError(() => file.tensor("missing"), "E_FORMAT").field, "missing");
  }
});

// ---- corrupted files ----------------------------------------------------------------------------

const VALID = encodeSafetensors({
  "a.weight": { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  "b.bias": { shape: [4], data: new Float32Array([-1, -2, -3, -4]) },
});
const VALID_HEADER_END = 8 + Number(new DataView(VALID.buffer).getBigUint64(0, true));
const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

const CORRUPT: Array<{ name: string; bytes: Uint8Array; message: RegExp; field?: string }> = [
  ...[0, 3, 7, 8, 20, VALID_HEADER_END - 1, VALID_HEADER_END, VALID_HEADER_END + 10, VALID.length - 1].map((at) => ({
    name: `truncated at byte ${at}`,
    bytes: VALID.slice(0, at),
    message: /shorter than|runs past|not valid JSON|run past the end/,
  })),
  { name: "header length too large", bytes: rawFile("{}", 0, 1n << 40n), message: /over the 100000000-byte limit/ },
  { name: "header length past the end", bytes: rawFile("{}", 0, 1000n), message: /runs past the end of the file/ },
  { name: "header length 0", bytes: rawFile("", 0), message: /too small/ },
  { name: "bad JSON", bytes: rawFile('{"a": {', 0), message: /not valid JSON/ },
  { name: "header is an array", bytes: rawFile("[1, 2]", 0), message: /not a JSON object/ },
  { name: "header is not UTF-8", bytes: rawFile("{}\xff", 0), message: /not valid JSON|UTF-8/ },
  { name: "invalid UTF-8 bytes", bytes: (() => { const b = rawFile("{}  "); b[10] = 0xff; return b; })(), message: /not valid UTF-8/ },
  { name: "entry is not an object", bytes: rawFile('{"t": 3}'), message: /not an object/, field: "t" },
  { name: "size does not match shape", bytes: rawFile(JSON.stringify({ t: entry("F32", [2, 2], [0, 12]) }), 12), message: /hold 12 bytes, but F32 \[2,2\] needs 16/, field: "t" },
  { name: "offsets end before begin", bytes: rawFile(JSON.stringify({ t: entry("F32", [1], [8, 4]) }), 8), message: /end before they begin/, field: "t" },
  { name: "offsets past the data", bytes: rawFile(JSON.stringify({ t: entry("F32", [2], [0, 8]) }), 4), message: /run past the end of the data/, field: "t" },
  {
    name: "overlapping tensors",
    bytes: rawFile(JSON.stringify({ a: entry("F32", [2], [0, 8]), b: entry("F32", [2], [4, 12]) }), 12),
    message: /overlap tensor a/,
    field: "b",
  },
  {
    name: "gap between tensors",
    bytes: rawFile(JSON.stringify({ a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }), 12),
    message: /belong to no tensor/,
    field: "b",
  },
  { name: "trailing bytes", bytes: rawFile(JSON.stringify({ a: entry("F32", [1], [0, 4]) }), 8), message: /last 4 bytes of the data belong to no tensor/ },
  { name: "unknown dtype", bytes: rawFile(JSON.stringify({ t: entry("Q4", [1], [0, 1]) }), 1), message: /unknown dtype "Q4"/, field: "t" },
  { name: "negative dimension", bytes: rawFile(JSON.stringify({ t: entry("F32", [-1], [0, 0]) })), message: /not a list of non-negative integers/, field: "t" },
  { name: "fractional offset", bytes: rawFile(JSON.stringify({ t: entry("U8", [1], [0.5, 1.5]) }), 2), message: /not a pair/, field: "t" },
  { name: "offsets beyond 2^53", bytes: rawFile('{"t":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740993,9007199254740994]}}'), message: /not a pair/, field: "t" },
  { name: "shape overflows", bytes: rawFile(JSON.stringify({ t: entry("F32", [2 ** 30, 2 ** 30, 2 ** 30], [0, 4]) })), message: /too large/, field: "t" },
  { name: "metadata value not a string", bytes: rawFile('{"__metadata__": {"format": 1}}'), message: /__metadata__.format is not a string/ },
];

for (const row of CORRUPT) {
  test(`corrupted file: ${row.name} -> E_FORMAT`, () => {
    const error = nerkitError(() => readSafetensors(row.bytes), "E_FORMAT");
    assert.match(error.message, row.message);
    assert.equal(error.file, "<memory>");
    if (row.field) assert.equal(error.field, row.field);
  });
}

test("a corrupted file on disk names its path; a missing file is E_IO", () => {
  const path = join(tempDir(), "broken.safetensors");
  writeFileSync(path, VALID.slice(0, 30));
  const error = nerkitError(() => readSafetensors(path), "E_FORMAT");
  assert.equal(error.file, path);
  assert.match(error.describe(), /broken\.safetensors: header length \d+ runs past/);
  nerkitError(() => readSafetensors(join(tempDir(), "none.safetensors")), "E_IO");
});

/** Opens and reads every tensor; anything but a NerkitError fails the property. */
function readEverything(bytes: Uint8Array): void {
  let file: SafetensorsFile;
  try {
    file = readSafetensors(bytes);
  } catch (error) {
    if (error instanceof NerkitError) return;
    throw error;
  }
  for (const name of file.names) {
    const { dtype, shape } = file.info(name);
    try {
      const t = DTYPES[dtype].read === "int" ? file.integerTensor(name) : file.tensor(name);
      assert.equal(t.data.length, shape.reduce((a, b) => a * b, 1));
    } catch (error) {
      if (!(error instanceof NerkitError)) throw error;
    }
  }
}

const MIXED = rawFile(
  JSON.stringify({ __metadata__: { k: "v" }, h: entry("F16", [2], [0, 4]), b: entry("BF16", [2], [4, 8]), i: entry("I64", [1], [8, 16]), f: entry("F32", [2], [16, 24]) }),
  24,
);

test("fast-check: random byte mutations of small valid files give a result or a NerkitError", () => {
  const mutation = fc.record({
    base: fc.constantFrom(VALID, MIXED),
    edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    extra: fc.uint8Array({ maxLength: 16 }),
  });
  fc.assert(
    fc.property(mutation, ({ base, edits, cut, extra }) => {
      const bytes = Uint8Array.from(base);
      // Mutations aimed at the length prefix and header are the interesting ones: bias towards them.
      for (const { at, byte } of edits) bytes[at % Math.min(bytes.length, at % 2 ? bytes.length : 96)] = byte;
      const cutBytes = cut === undefined ? bytes : bytes.slice(0, cut % (bytes.length + 1));
      readEverything(cutBytes);
      readEverything(Buffer.concat([cutBytes, extra]));
    }),
    { numRuns: 2000, seed: 42 },
  );
});

test("fast-check: random headers give a result or a NerkitError", () => {
  const value = fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.string({ maxLength: 4 }), fc.constant(null), fc.constant(2 ** 60));
  const header = fc.dictionary(
    fc.oneof(fc.constantFrom("__metadata__", "a", "b"), fc.string({ maxLength: 3 })),
    fc.oneof(
      fc.record({ dtype: fc.constantFrom(...Object.keys(DTYPES), "X"), shape: fc.array(value, { maxLength: 3 }), data_offsets: fc.array(value, { maxLength: 3 }) }),
      fc.dictionary(fc.string({ maxLength: 3 }), value),
      value,
    ),
    { maxKeys: 4 },
  );
  fc.assert(fc.property(header, fc.nat({ max: 64 }), (h, size) => readEverything(rawFile(JSON.stringify(h), size))), { numRuns: 1000, seed: 3 });
});

// ---- sharded checkpoints ------------------------------------------------------------------------

/** Copies bert-tiny into `dir` as two shards plus an index, as transformers would shard it. */
function shardBertTiny(dir: string): Map<string, Float32Array> {
  const source = readSafetensors(join(HF, "bert-tiny", "model.safetensors"));
  const halves: Array<Record<string, WritableTensor>> = [{}, {}];
  const weightMap: Record<string, string> = {};
  const values = new Map<string, Float32Array>();
  source.names.forEach((name, i) => {
    const t = source.tensor(name);
    values.set(name, t.data);
    halves[i % 2][name] = t;
    weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
  });
  halves.forEach((h, i) => writeSafetensors(join(dir, `model-0000${i + 1}-of-00002.safetensors`), h, { format: "pt" }));
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 1102244 }, weight_map: weightMap }));
  copyFileSync(join(HF, "bert-tiny", "config.json"), join(dir, "config.json"));
  return values;
}

test("sharded checkpoint: two shards merge into one view equal to the single file", () => {
  const dir = tempDir();
  const values = shardBertTiny(dir);
  const checkpoint = loadCheckpoint(dir);
  assert.equal(checkpoint.weightFiles.length, 3);
  assert.deepEqual([...checkpoint.weights.names].sort(), [...values.keys()].sort());
  for (const [name, data] of values) assert.deepEqual(checkpoint.weights.tensor(name).data, data);
  const sharded = readShardedSafetensors(join(dir, "model.safetensors.index.json"));
  assert.equal(sharded.shards.length, 2);
  assert.deepEqual(sharded.metadata, { total_size: 1102244 });
});

test("sharded checkpoint errors: missing shard, tensor absent from its shard, shard outside the folder, bad index", () => {
  const index = (dir: string) => join(dir, "model.safetensors.index.json");
  const rows: Array<[string, (dir: string) => void, string, RegExp]> = [
    ["missing shard", (d) => writeFileSync(join(d, "model-00002-of-00002.safetensors"), "") , "E_FORMAT", /shorter than/],
    ["missing shard file", (d) => {
      const json = readJson<{ weight_map: Record<string, string> }>(index(d));
      json.weight_map["classifier.bias"] = "model-00003-of-00003.safetensors";
      writeFileSync(index(d), JSON.stringify(json));
    }, "E_IO", /shard model-00003-of-00003.safetensors listed in the index is missing/],
    ["tensor absent", (d) => {
      const json = readJson<{ weight_map: Record<string, string> }>(index(d));
      json.weight_map["not.there"] = "model-00001-of-00002.safetensors";
      writeFileSync(index(d), JSON.stringify(json));
    }, "E_FORMAT", /places this tensor in model-00001-of-00002.safetensors, which does not hold it/],
    ["path traversal", (d) => writeFileSync(index(d), JSON.stringify({ weight_map: { a: "../model.safetensors" } })), "E_FORMAT", /not a plain file name/],
    ["no weight_map", (d) => writeFileSync(index(d), JSON.stringify({ metadata: {} })), "E_FORMAT", /no "weight_map"/],
    ["bad JSON", (d) => writeFileSync(index(d), "{"), "E_FORMAT", /not valid JSON/],
  ];
  for (const [what, breakIt, code, message] of rows) {
    const dir = tempDir();
    shardBertTiny(dir);
    breakIt(dir);
    const error = nerkitError(() => loadCheckpoint(dir), code);
    assert.match(error.message, message, what);
  }
});

// ---- config.json and loadCheckpoint -------------------------------------------------------------

const BERT_CONFIG = readJson<Record<string, unknown>>(join(HF, "bert-tiny", "config.json"));

const CONFIG_ROWS: Array<{ name: string; change: Record<string, unknown>; field?: string; message: RegExp }> = [
  { name: "unknown model_type", change: { model_type: "gpt2" }, field: "model_type", message: /unsupported: "gpt2"; nerkit supports bert, distilbert, roberta, xlm-roberta/ },
  { name: "missing model_type", change: { model_type: undefined }, field: "model_type", message: /missing/ },
  { name: "missing size", change: { hidden_size: undefined }, field: "hidden_size", message: /missing/ },
  { name: "size not an integer", change: { num_hidden_layers: 2.5 }, field: "num_hidden_layers", message: /positive integer/ },
  { name: "heads do not divide", change: { num_attention_heads: 5 }, field: "num_attention_heads", message: /not a multiple/ },
  { name: "label2id disagrees", change: { label2id: { ...(BERT_CONFIG.label2id as object), "B-PER": 2, "I-PER": 1 } }, field: "label2id", message: /id2label\[1\] is "B-PER" but label2id\["B-PER"\] is 2/ },
  { name: "label2id has other labels", change: { label2id: { O: 0 } }, field: "label2id", message: /has 9 labels but label2id has 1/ },
  { name: "id2label ids not 0..n-1", change: { id2label: { "0": "O", "2": "B-PER" }, label2id: undefined }, field: "id2label", message: /ids must be 0..1/ },
  { name: "duplicate label", change: { id2label: { "0": "O", "1": "O" }, label2id: undefined }, field: "id2label", message: /appears twice/ },
  { name: "num_labels disagrees", change: { num_labels: 3 }, field: "num_labels", message: /has 9 labels/ },
  { name: "bad layer_norm_eps", change: { layer_norm_eps: "small" }, field: "layer_norm_eps", message: /positive number/ },
];

for (const row of CONFIG_ROWS) {
  test(`config.json: ${row.name} -> E_FORMAT`, () => {
    const json = { ...BERT_CONFIG, ...row.change };
    for (const [key, value] of Object.entries(row.change)) if (value === undefined) delete json[key];
    const error = nerkitError(() => parseModelConfig(json, "config.json"), "E_FORMAT");
    assert.equal(error.field, row.field);
    assert.match(error.message, row.message);
  });
}

test("config.json: the four fixtures read with their family's key names", () => {
  const rows: Array<[string, Partial<ModelConfig>]> = [
    ["bert", { modelType: "bert", hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositions: 64, typeVocabSize: 2, padTokenId: 0 }],
    ["distilbert", { modelType: "distilbert", hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositions: 64, typeVocabSize: 0, layerNormEps: 1e-12 }],
    ["roberta", { modelType: "roberta", maxPositions: 66, typeVocabSize: 1, padTokenId: 1, hiddenAct: "gelu" }],
    ["xlmr", { modelType: "xlm-roberta", vocabSize: 8000, padTokenId: 1, layerNormEps: 1e-12 }],
  ];
  for (const [model, expected] of rows) {
    const config = loadCheckpoint(join(HF, `${model}-tiny`)).config;
    for (const [key, value] of Object.entries(expected)) assert.equal(config[key as keyof ModelConfig], value, `${model}.${key}`);
    assert.deepEqual(config.labels, ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]);
    assert.equal(config.labelToId["B-MISC"], 7);
  }
});

test("loadCheckpoint: missing folder, missing config, missing weights, pytorch_model.bin only", () => {
  nerkitError(() => loadCheckpoint(join(tempDir(), "nope")), "E_IO");
  const dir = tempDir();
  assert.match(nerkitError(() => loadCheckpoint(dir), "E_IO").message, /no config.json/);
  copyFileSync(join(HF, "bert-tiny", "config.json"), join(dir, "config.json"));
  assert.match(nerkitError(() => loadCheckpoint(dir), "E_IO").message, /no model.safetensors or model.safetensors.index.json/);
  writeFileSync(join(dir, "pytorch_model.bin"), "");
  assert.match(nerkitError(() => loadCheckpoint(dir), "E_IO").message, /safe_serialization=True/);
  writeFileSync(join(dir, "config.json"), "{");
  assert.match(nerkitError(() => loadCheckpoint(dir), "E_FORMAT").message, /not valid JSON/);
});

test("writeSafetensors: bad tensors are E_USAGE; an unwritable path is E_IO and leaves nothing", () => {
  const rows: Array<[string, Record<string, WritableTensor>, RegExp]> = [
    ["shape mismatch", { t: { shape: [2, 2], data: new Float32Array(3) } }, /holds 4 values but data has 3/],
    ["negative shape", { t: { shape: [-1], data: new Float32Array(0) } }, /non-negative integers/],
    ["reserved name", { __metadata__: { shape: [1], data: new Float32Array(1) } }, /not a valid tensor name/],
    ["lone surrogate", { ["\uD800"]: { shape: [1], data: new Float32Array(1) } }, /lone surrogate/],
    ["not Float32Array", { t: { shape: [1], data: [1] as unknown as Float32Array } }, /not a Float32Array/],
  ];
  const dir = tempDir();
  for (const [what, tensors, message] of rows) {
    assert.match(nerkitError(() => writeSafetensors(join(dir, "x.safetensors"), tensors), "E_USAGE").message, message, what);
  }
  const missing = join(dir, "no", "such", "folder");
  nerkitError(() => writeSafetensors(join(missing, "x.safetensors"), { t: { shape: [1], data: new Float32Array(1) } }), "E_IO");
  mkdirSync(join(dir, "sub"));
  assert.deepEqual(readdirSync(dir), ["sub"]);
});

test("metadata keys named __proto__ and constructor are kept as keys (regression: a plain object dropped __proto__)", () => {
  const path = join(tempDir(), "proto.safetensors");
  writeSafetensors(path, { w: { shape: [1], data: new Float32Array([1]) } }, JSON.parse('{"__proto__": "a", "constructor": "b"}'));
  const metadata = readSafetensors(path).metadata;
  assert.deepEqual(Object.keys(metadata).sort(), ["__proto__", "constructor"]);
  assert.equal(metadata["__proto__"], "a");
  assert.equal(metadata["constructor"], "b");
});
