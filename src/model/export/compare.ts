// What int8 quantization changes in a model's output: the float32 and the int8 graph of one
// checkpoint (./export-model.ts builds both) run over the same texts in the same padded batches, and
// compared: the largest and mean |logit difference|, how often both pick the same label for a token
// (over all tokens, and over those the float32 graph gives ≥ 90% probability), and entity-level
// scores of the int8 graph's entities against the float32 graph's taken as gold (seqeval's default
// mode, on word tags, each word labelled by its first token as transformers' "first" aggregation
// does). Batches matter: DynamicQuantizeLinear picks one scale per activation tensor, so a text's
// int8 logits depend on the texts batched with it. Left out: windows over long texts (a text is cut
// to what the model reads) and the pipeline's aggregation strategies.

import { ort } from "../onnx-runtime.js";
import { evaluate } from "../../metrics/seqeval.js";
import { Tokenizer, loadTokenizer } from "../../text/tokenizers/index.js";
import { Architecture, architectureOf, maxTokens } from "../architecture.js";
import { loadCheckpoint } from "../checkpoint/load-checkpoint.js";
import { graphInputs } from "../graph/encoder.js";
import { WeightBytes } from "./int8-linear.js";
import { buildExportGraph } from "./export-model.js";

export interface CompareOptions {
  /** Texts per model run, sorted by length and padded per batch (default 8, as nerkit predict). */
  batchSize?: number;
  /** ONNX Runtime threads per operator (default: all cores). */
  threads?: number;
}

export interface QuantizationReport {
  texts: number;
  /** Content tokens compared (special tokens and padding left out). */
  tokens: number;
  /** The largest |logit| of the float32 graph, for scale. */
  maxAbsLogit: number;
  maxAbsLogitDifference: number;
  meanAbsLogitDifference: number;
  /** Fraction of tokens where both graphs pick the same label. */
  tokenAgreement: number;
  /** Tokens the float32 graph labels with probability ≥ 0.9, and the agreement on those. */
  confidentTokens: number;
  confidentAgreement: number;
  /** Entities the float32 graph finds (the gold side), and int8's scores against them. */
  entities: number;
  entityPrecision: number;
  entityRecall: number;
  entityF1: number;
  /** What the quantized Linear weights take in float32 and int8. */
  linearWeights: WeightBytes;
}

interface Row {
  ids: number[]; // (T) special tokens included
  /** Position of the first content token. */
  first: number;
  /** Word id of each content token. */
  wordIds: (number | null)[];
}

/** The special tokens a single-sequence template puts before and after the content. */
function specialTemplate(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } {
  const e = tokenizer.encode("a", { addSpecialTokens: true });
  const first = e.specialTokensMask.indexOf(0);
  const last = e.specialTokensMask.lastIndexOf(0);
  return { prefix: e.ids.slice(0, first), suffix: e.ids.slice(last + 1) };
}

function encodeRows(tokenizer: Tokenizer, arch: Architecture, texts: readonly string[]): Row[] {
  const { prefix, suffix } = specialTemplate(tokenizer);
  const room = maxTokens(arch) - prefix.length - suffix.length;
  return texts.map((text) => {
    const e = tokenizer.encode(text, { addSpecialTokens: false });
    const ids = e.ids.slice(0, room);
    return { ids: [...prefix, ...ids, ...suffix], first: prefix.length, wordIds: e.wordIds.slice(0, ids.length) };
  });
}

async function session(model: Uint8Array, threads?: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all", executionProviders: ["cpu"] };
  if (threads) options.intraOpNumThreads = threads;
  return ort.InferenceSession.create(model, options);
}

/** Logits (T, L) of each row, from batches of similar length padded to the longest. */
async function logitsOf(s: ort.InferenceSession, arch: Architecture, rows: readonly Row[], padId: number, batchSize: number): Promise<Float32Array[]> {
  const L = arch.labels.length;
  const order = rows.map((_, i) => i).sort((a, b) => rows[b].ids.length - rows[a].ids.length);
  const result: Float32Array[] = new Array(rows.length);
  for (let b = 0; b < order.length; b += batchSize) {
    const members = order.slice(b, b + batchSize);
    const T = rows[members[0]].ids.length;
    const ids = new BigInt64Array(members.length * T).fill(BigInt(padId)); // (B, T)
    const mask = new BigInt64Array(members.length * T); // (B, T)
    members.forEach((r, row) => rows[r].ids.forEach((id, t) => ((ids[row * T + t] = BigInt(id)), (mask[row * T + t] = 1n))));
    const dims = [members.length, T];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor("int64", ids, dims), attention_mask: new ort.Tensor("int64", mask, dims) };
    if (graphInputs(arch).includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(ids.length), dims);
    const logits = (await s.run(feeds)).logits.data as Float32Array; // (B, T, L)
    members.forEach((r, row) => (result[r] = logits.slice(row * T * L, (row * T + rows[r].ids.length) * L)));
  }
  return result;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function topProbability(values: Float32Array): number {
  const top = values[argmax(values)];
  let sum = 0;
  for (const v of values) sum += Math.exp(v - top);
  return 1 / sum;
}

/** Word tags from token labels: each word takes its first token's label. */
function wordTags(row: Row, labels: readonly number[], names: readonly string[]): string[] {
  const tags: string[] = [];
  let previous: number | null = null;
  row.wordIds.forEach((word, i) => {
    if (word !== null && word !== previous) tags.push(names[labels[i]]);
    previous = word;
  });
  return tags;
}

/** Runs the float32 and the int8 graph of the checkpoint in `modelDir` over `texts` and compares them. */
export async function compareQuantized(modelDir: string, texts: readonly string[], options: CompareOptions = {}): Promise<QuantizationReport> {
  const checkpoint = loadCheckpoint(modelDir);
  const arch = architectureOf(checkpoint.config, `${checkpoint.dir}/config.json`);
  const tokenizer = loadTokenizer(checkpoint.dir, { flavor: "transformers" });
  const weights = (name: string) => checkpoint.weights.tensor(name);
  const float = buildExportGraph(arch, weights);
  const int8 = buildExportGraph(arch, weights, "int8");
  const rows = encodeRows(tokenizer, arch, texts);
  const batchSize = options.batchSize ?? 8;
  const run = async (model: Uint8Array) => {
    const s = await session(model, options.threads);
    try {
      return await logitsOf(s, arch, rows, tokenizer.padTokenId, batchSize);
    } finally {
      await s.release();
    }
  };
  const floatLogits = await run(float.model);
  const int8Logits = await run(int8.model);

  const L = arch.labels.length;
  let tokens = 0;
  let agree = 0;
  let confident = 0;
  let confidentAgree = 0;
  let maxLogit = 0;
  let maxDiff = 0;
  let sumDiff = 0;
  const gold: string[][] = [];
  const pred: string[][] = [];
  rows.forEach((row, r) => {
    const floatLabels: number[] = [];
    const int8Labels: number[] = [];
    for (let i = 0; i < row.wordIds.length; i++) {
      const t = row.first + i;
      const a = floatLogits[r].subarray(t * L, (t + 1) * L); // (L)
      const b = int8Logits[r].subarray(t * L, (t + 1) * L); // (L)
      for (let l = 0; l < L; l++) {
        const d = Math.abs(a[l] - b[l]);
        maxLogit = Math.max(maxLogit, Math.abs(a[l]));
        maxDiff = Math.max(maxDiff, d);
        sumDiff += d;
      }
      const [la, lb] = [argmax(a), argmax(b)];
      floatLabels.push(la);
      int8Labels.push(lb);
      tokens++;
      if (la === lb) agree++;
      if (topProbability(a) >= 0.9) {
        confident++;
        if (la === lb) confidentAgree++;
      }
    }
    gold.push(wordTags(row, floatLabels, arch.labels));
    pred.push(wordTags(row, int8Labels, arch.labels));
  });
  const scores = evaluate(gold, pred)["micro avg"];
  return {
    texts: texts.length,
    tokens,
    maxAbsLogit: maxLogit,
    maxAbsLogitDifference: maxDiff,
    meanAbsLogitDifference: tokens === 0 ? 0 : sumDiff / (tokens * L),
    tokenAgreement: tokens === 0 ? 1 : agree / tokens,
    confidentTokens: confident,
    confidentAgreement: confident === 0 ? 1 : confidentAgree / confident,
    entities: scores.support,
    entityPrecision: scores.precision ?? 0,
    entityRecall: scores.recall ?? 0,
    entityF1: scores.f1 ?? 0,
    linearWeights: int8.linearWeights!,
  };
}
