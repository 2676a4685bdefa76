// int8 against float32: the two graphs `nerkit export` writes, run over the first 256 sentences of
// CoNLL-2003 dev (words joined by spaces) with the four tiny fixture models, and with copies whose
// classifier is scaled by 50 so that their scores are peaked (a random tiny model's are near
// uniform). Prints max and mean |logit difference|, token argmax agreement (all tokens, and tokens
// the float32 graph gives ≥ 90%), entity F1 of int8 against float32 as gold, and Linear weight sizes.
// Usage: npm run build && node bench/export-int8.mjs [--sentences N] [--batch-size B]

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConll, readSafetensors, writeSafetensors } from "../dist/src/index.js";
import { compareQuantized } from "../dist/src/model/export/compare.js";
import { weightBytes } from "../dist/src/model/export/int8-linear.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const count = option("--sentences", 256);
const batchSize = option("--batch-size", 8);

const dev = join(shared, "data", "conll2003", "dev.conll");
const corpus = parseConll(readFileSync(dev, "utf8"), { file: dev });
const texts = corpus.sentences.filter((s) => s.tokens.length > 0 && s.tokens[0] !== "-DOCSTART-").slice(0, count).map((s) => s.tokens.join(" "));

/** A copy of a fixture model whose classifier weight and bias are multiplied by `factor`. */
function scaledCopy(source, factor) {
  const dir = mkdtempSync(join(tmpdir(), "nerkit-peaked-"));
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(source, f), join(dir, f));
  const file = readSafetensors(join(source, "model.safetensors"));
  const tensors = {};
  for (const name of file.names) {
    const t = file.tensor(name);
    tensors[name] = { shape: t.shape, data: name.startsWith("classifier.") ? t.data.map((v) => v * factor) : t.data };
  }
  writeSafetensors(join(dir, "model.safetensors"), tensors);
  return dir;
}

const pct = (x) => `${(100 * x).toFixed(2)}%`;
console.log(`${texts.length} sentences of ${dev}, batch size ${batchSize}\n`);
console.log("| model | tokens | max abs logit | max abs diff | mean abs diff | argmax agreement | confident tokens (fp32 p>=0.9): agreement | fp32 entities | entity F1 (P / R) |");
console.log("|---|---|---|---|---|---|---|---|---|");
let sizes;
for (const kind of ["bert", "distilbert", "roberta", "xlmr"]) {
  const source = join(shared, "fixtures", "hf", `${kind}-tiny`);
  const peaked = scaledCopy(source, 50);
  for (const [label, dir] of [[`${kind}-tiny`, source], [`${kind}-tiny, classifier x50`, peaked]]) {
    const r = await compareQuantized(dir, texts, { batchSize });
    sizes = r.linearWeights;
    console.log(
      `| ${label} | ${r.tokens} | ${r.maxAbsLogit.toFixed(3)} | ${r.maxAbsLogitDifference.toExponential(2)} | ${r.meanAbsLogitDifference.toExponential(2)} | ${pct(r.tokenAgreement)} | ${r.confidentTokens}: ${pct(r.confidentAgreement)} | ${r.entities} | ${r.entityF1.toFixed(4)} (${r.entityPrecision.toFixed(4)} / ${r.entityRecall.toFixed(4)}) |`,
    );
  }
  rmSync(peaked, { recursive: true, force: true });
}
const base = [[768, 768], [768, 768], [768, 768], [768, 768], [3072, 768], [768, 3072]].map(([n, k]) => weightBytes(n, k));
const baseFloat = 12 * base.reduce((s, b) => s + b.float, 0);
const baseQuantized = 12 * base.reduce((s, b) => s + b.quantized, 0);
console.log(`\nLinear weights, tiny models: ${sizes.float} -> ${sizes.quantized} bytes (${(sizes.float / sizes.quantized).toFixed(2)}x)`);
console.log(`Linear weights, BERT-base shapes (12 layers, H 768, I 3072): ${baseFloat} -> ${baseQuantized} bytes (${(baseFloat / baseQuantized).toFixed(3)}x)`);
