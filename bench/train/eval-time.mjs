// Time of the dev + test evaluation that `nerkit train` runs after its last step, on CoNLL-2003:
// the trained model's weights scored on dev.conll and test.conll, as train.ts and the trainer do.
// Usage (after `npm run build`): node bench/train/eval-time.mjs MODEL_DIR [threads] [batch]
// MODEL_DIR: a model trained with `nerkit train --init bert-mini` (see bench/train/conll-e2e.sh;
// a few steps are enough, the time does not depend on the weights).
import { join } from "node:path";
import { readLabelledFile } from "../../dist/src/train/prepare.js";
import { evaluateSentences } from "../../dist/src/train/evaluate-model.js";
import { loadCheckpoint } from "../../dist/src/model/checkpoint/load-checkpoint.js";
import { architectureOf, maxTokens } from "../../dist/src/model/architecture.js";
import { loadTokenizer } from "../../dist/src/text/tokenizers/index.js";
import { parameterTable } from "../../dist/src/model/parameters.js";

const [model, threads = "2", batch = "32"] = process.argv.slice(2);
const data = join(process.env.NERKIT_SHARED ?? "../shared", "data", "conll2003");
const checkpoint = loadCheckpoint(model);
const arch = architectureOf(checkpoint.config, join(model, "config.json"));
const tokenizer = loadTokenizer(model, { flavor: "transformers" });
const shapes = new Map(parameterTable(arch).map((p) => [p.name, p.shape]));
let total = 0;
for (const split of ["dev", "test"]) {
  const started = performance.now();
  const sentences = readLabelledFile(join(data, `${split}.conll`));
  const evaluation = evaluateSentences(arch, (n) => checkpoint.weights.tensor(n).data, shapes, sentences, {
    tokenizer,
    maxLength: maxTokens(arch),
    batchSize: Number(batch),
    threads: Number(threads),
  });
  let next = await evaluation.next();
  while (!next.done) next = await evaluation.next();
  const seconds = (performance.now() - started) / 1000;
  total += seconds;
  console.log(`${split}: ${sentences.length} sentences, ${seconds.toFixed(1)} s, f1 ${next.value.report.overall.f1.toFixed(4)}`);
}
console.log(`dev + test: ${total.toFixed(1)} s`);
