// Writes a random-weight token-classification checkpoint in Hugging Face layout, shaped like
// bert-base-cased (or DistilBERT with --model-type distilbert): config.json, model.safetensors and
// the 8,000-piece WordPiece tokenizer of the shared fixtures. Weights follow the parameter table's
// initialisers (normal(0, 0.02), zero biases, LayerNorm weight 1) from a seeded PRNG, so the same
// flags always give the same file. Left out: anything that makes the model useful; inference time
// does not depend on the values, so this is a benchmark model only.
//
// Usage: node bench/infer/make-model.mjs OUTDIR [--model-type bert|distilbert] [--layers 12]
//        [--hidden 768] [--heads 12] [--intermediate 3072] [--labels 9] [--seed 1]
// (after `npm run build`; DistilBERT defaults to 6 layers)

import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { architectureOf, writeSafetensors } from "../../dist/src/index.js";
import { readModelConfig } from "../../dist/src/model/checkpoint/config.js";
import { parameterTable } from "../../dist/src/model/parameters.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const TOKENIZER_DIR = join(shared, "fixtures", "hf", "bert-cased");
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt"];
const VOCAB_SIZE = 8000; // the tokenizer's
const CONLL_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"];

/** The options of make-model, with bert-base's sizes as defaults. */
export function parseModelOptions(args) {
  const options = { modelType: "bert", layers: undefined, hidden: 768, heads: 12, intermediate: 3072, labels: 9, seed: 1 };
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (!flag.startsWith("--")) {
      rest.push(flag);
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--model-type") options.modelType = value;
    else {
      const key = flag.slice(2);
      if (!(key in options)) throw new Error(`unknown option ${flag}`);
      options[key] = Number(value);
    }
  }
  if (!["bert", "distilbert"].includes(options.modelType)) throw new Error(`--model-type must be bert or distilbert, not ${options.modelType}`);
  options.layers ??= options.modelType === "distilbert" ? 6 : 12;
  if (options.labels > CONLL_LABELS.length) throw new Error(`--labels is at most ${CONLL_LABELS.length} (the CoNLL tag set)`);
  return { options, rest };
}

/** config.json as transformers writes it for the two families (their key names differ). */
export function configJson(o) {
  const labels = CONLL_LABELS.slice(0, o.labels);
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const common = { vocab_size: VOCAB_SIZE, max_position_embeddings: 512, pad_token_id: 0, initializer_range: 0.02, id2label, label2id };
  if (o.modelType === "distilbert") {
    return {
      architectures: ["DistilBertForTokenClassification"], model_type: "distilbert",
      dim: o.hidden, n_layers: o.layers, n_heads: o.heads, hidden_dim: o.intermediate, activation: "gelu",
      dropout: 0.1, attention_dropout: 0.1, sinusoidal_pos_embds: false, ...common,
    };
  }
  return {
    architectures: ["BertForTokenClassification"], model_type: "bert",
    hidden_size: o.hidden, num_hidden_layers: o.layers, num_attention_heads: o.heads, intermediate_size: o.intermediate,
    hidden_act: "gelu", hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, type_vocab_size: 2,
    layer_norm_eps: 1e-12, position_embedding_type: "absolute", ...common,
  };
}

/** splitmix32: a small seeded PRNG, uniform in [0, 1). */
function uniform(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with normal(0, std) values (Box-Muller). */
function fillNormal(out, std, next) {
  for (let i = 0; i < out.length; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(1 - next()));
    const phi = 2 * Math.PI * next();
    out[i] = r * Math.cos(phi);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(phi);
  }
}

/** Writes the checkpoint folder; returns the parameter count. */
export function makeModel(outDir, o) {
  mkdirSync(outDir, { recursive: true });
  const configPath = join(outDir, "config.json");
  writeFileSync(configPath, JSON.stringify(configJson(o), null, 2) + "\n");
  // The table comes from the config as nerkit reads it, so names and shapes are nerkit's own.
  const arch = architectureOf(readModelConfig(configPath), configPath);
  const next = uniform(o.seed);
  const tensors = {};
  let count = 0;
  for (const p of parameterTable(arch)) {
    const data = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.init === "normal") fillNormal(data, arch.initializerRange, next);
    else if (p.init === "ones") data.fill(1);
    tensors[p.name] = { shape: p.shape, data };
    count += data.length;
  }
  writeSafetensors(join(outDir, "model.safetensors"), tensors);
  for (const f of TOKENIZER_FILES) {
    copyFileSync(join(TOKENIZER_DIR, f), join(outDir, f));
    chmodSync(join(outDir, f), 0o644); // the shared fixtures are read-only; the copies need not be
  }
  return count;
}

/** The benchmark model of these options under bench/out/infer, written once per shape and kept (as run.mjs does). */
export function benchModel(o) {
  const dir = join(root, "bench", "out", "infer", `${o.modelType}-L${o.layers}-H${o.hidden}-A${o.heads}-I${o.intermediate}-labels${o.labels}-seed${o.seed}`);
  const wanted = JSON.stringify(configJson(o), null, 2) + "\n";
  const cached = existsSync(join(dir, "vocab.txt")) && existsSync(join(dir, "model.safetensors")) && readFileSync(join(dir, "config.json"), "utf8") === wanted;
  if (!cached) {
    rmSync(dir, { recursive: true, force: true });
    makeModel(dir, o);
  }
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { options, rest } = parseModelOptions(process.argv.slice(2));
  if (rest.length !== 1) {
    console.error("usage: node bench/infer/make-model.mjs OUTDIR [--model-type bert|distilbert] [--layers N] [--hidden H] [--heads A] [--intermediate I] [--labels L] [--seed S]");
    process.exit(2);
  }
  const t = performance.now();
  const count = makeModel(rest[0], options);
  console.log(`${rest[0]}: ${options.modelType}, ${options.layers} layers, hidden ${options.hidden}, ${count.toLocaleString("en")} parameters (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}
