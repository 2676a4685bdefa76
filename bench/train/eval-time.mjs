// Time of the dev + test evaluation that `nerkit train` runs after its last step, on CoNLL-2003:
// a trained model's weights scored on dev.conll and test.conll the way train.ts and the trainer do
// it (evaluateSentences: the word tagger, length-sorted batches). With --before DIR, the same is
// timed, interleaved, with the code before that change, built in DIR (a checkout of commit e4db9fa
// with `npx tsc`): whole examples in file order through evaluateExamples. Prints wall and CPU
// seconds per split; on a shared machine CPU seconds are the steadier figure.
// Usage (after `npm run build`): node bench/train/eval-time.mjs MODEL_DIR [--threads 2] [--batch 32] [--before DIR]
// MODEL_DIR: a model from `nerkit train --init bert-mini` (bench/train/conll-e2e.sh; a few steps
// are enough: the time does not depend on the weights).
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { threads: { type: "string", default: "2" }, batch: { type: "string", default: "32" }, before: { type: "string" } } });
const model = resolve(positionals[0]);
const threads = Number(values.threads);
const batchSize = Number(values.batch);
const data = join(process.env.NERKIT_SHARED ?? "../shared", "data", "conll2003");
const here = resolve(new URL("../..", import.meta.url).pathname);
const load = async (root, file) => import(join(root, "dist", "src", file));

async function common(root) {
  const { loadCheckpoint } = await load(root, "model/checkpoint/load-checkpoint.js");
  const { architectureOf, maxTokens } = await load(root, "model/architecture.js");
  const { loadTokenizer } = await load(root, "text/tokenizers/index.js");
  const { parameterTable } = await load(root, "model/parameters.js");
  const { readLabelledFile } = await load(root, "train/prepare.js");
  const checkpoint = loadCheckpoint(model);
  const arch = architectureOf(checkpoint.config, join(model, "config.json"));
  const tokenizer = loadTokenizer(model, { flavor: "transformers" });
  const shapes = new Map(parameterTable(arch).map((p) => [p.name, p.shape]));
  return { root, checkpoint, arch, tokenizer, shapes, readLabelledFile, maxLength: maxTokens(arch), weights: (n) => checkpoint.weights.tensor(n).data };
}

/** After: train's evaluation now (src/train/evaluate-model.ts). */
async function after(m, sentences) {
  const { evaluateSentences } = await load(m.root, "train/evaluate-model.js");
  const { finishSteps } = await load(m.root, "infer/word-tagger.js");
  return (await finishSteps(evaluateSentences(m.arch, m.weights, m.shapes, sentences, { tokenizer: m.tokenizer, maxLength: m.maxLength, batchSize, threads }))).report;
}

/** Before: examples in file order, each batch padded to its longest (evaluateExamples of e4db9fa). */
async function before(m, sentences) {
  const { buildExamples } = await load(m.root, "train/examples.js");
  const { evaluateExamples } = await load(m.root, "train/evaluate-model.js");
  const { examples } = buildExamples(sentences, m.tokenizer, m.arch.labels, { maxLength: m.maxLength });
  return (await evaluateExamples(m.arch, m.weights, m.shapes, examples, { padTokenId: m.tokenizer.padTokenId, batchSize, threads })).report;
}

const sides = [["after", await common(here), after]];
if (values.before) sides.unshift(["before", await common(resolve(values.before)), before]);
for (const [name, m, run] of sides) {
  let wall = 0;
  let cpu = 0;
  for (const split of ["dev", "test"]) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const sentences = m.readLabelledFile(join(data, `${split}.conll`));
    const report = await run(m, sentences);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpuStarted);
    const cpuSeconds = (used.user + used.system) / 1e6;
    wall += seconds;
    cpu += cpuSeconds;
    console.log(`${name} ${split}: ${sentences.length} sentences, ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU, f1 ${report.overall.f1.toFixed(4)}`);
  }
  console.log(`${name} dev + test: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU (${threads} threads, batch ${batchSize})`);
}
