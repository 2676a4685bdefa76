// Drift on CoNLL-2003 through `nerkit serve`'s drift monitor (the app in process, POST /v1/entities):
// the reference is the model's profile of the dev sentences; a window of --drift-window 1000 is
// filled with test sentences (shuffled, seeded) and the PSI of each statistic is read from
// GET /v1/monitor; then a shifted stream enters one request of 10 sentences at a time and the
// script counts the documents until the alert turns on: the same test sentences lower-cased, and
// the demo corpus's sentences (examples/demo/test.conll, invented names). Needs a model trained on
// CoNLL-2003 (bench/train/conll-e2e.sh writes bench/out/conll/model).
// Usage: node bench/drift/drift.mjs MODEL_DIR [--threads 2]

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConll } from "../../dist/src/data/conll.js";
import { loadPipeline } from "../../dist/src/infer/pipeline.js";
import { buildApp } from "../../dist/src/serve/app.js";
import { profileTexts } from "../../dist/src/serve/drift/profile-writer.js";

const model = process.argv[2];
if (!model) throw new Error("usage: node bench/drift/drift.mjs MODEL_DIR [--threads N]");
const threads = Number(process.argv[process.argv.indexOf("--threads") + 1] ?? 2) || 2;
const shared = process.env.NERKIT_SHARED ?? join(import.meta.dirname, "..", "..", "..", "shared");
const sentences = (file) => parseConll(readFileSync(file, "utf8"), { file }).sentences.map((s) => s.tokens.join(" ")).filter((t) => t !== "-DOCSTART-");

function shuffled(list, seed) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const pipeline = await loadPipeline(model, { threads });
const started = performance.now();
const counts = await profileTexts(pipeline, sentences(join(shared, "data", "conll2003", "dev.conll")));
const profileSeconds = (performance.now() - started) / 1000;
const meta = { madeBy: "bench/drift", created: new Date().toISOString(), reading: { aggregation: "first", windows: "overlap", scores: "raw" }, data: { path: "dev.conll", sha256: "-", documents: counts.documents, unit: "sentences" } };
const shared_pipeline = { run: (t, o) => pipeline.run(t, o), close: async () => {}, arch: pipeline.arch, tokenizer: pipeline.tokenizer };
const test = shuffled(sentences(join(shared, "data", "conll2003", "test.conll")), 7);
const demo = shuffled(sentences(join(import.meta.dirname, "..", "..", "examples", "demo", "test.conll")), 7);

async function run(name, shifted) {
  const app = await buildApp({ pipeline: shared_pipeline, config: { driftWindow: 1000, driftPsi: 0.2 }, drift: { profile: { version: 1, meta, counts } } });
  const send = async (texts) => {
    const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { texts } });
    if (r.statusCode !== 200) throw new Error(r.body);
  };
  const monitor = async () => (await app.inject("/v1/monitor")).json().drift;
  for (let i = 0; i < 1000; i += 50) await send(test.slice(i, i + 50));
  const base = await monitor();
  let documents = 0;
  let at;
  for (let i = 0; i < Math.min(1000, shifted.length); i += 10) {
    await send(shifted.slice(i, i + 10));
    documents += 10;
    // Read only until the alert first fires; then the window fills with the shifted stream.
    const m = at === undefined ? await monitor() : undefined;
    if (m?.alert) at = { documents, statistics: m.statistics.filter((s) => s.alert).map((s) => `${s.name} ${s.psi.toFixed(3)}`) };
  }
  const end = await monitor();
  await app.close();
  return { name, base, at, end, shifted: documents };
}

const fmt = (stats) => stats.map((s) => `${s.name} ${s.psi.toFixed(3)}`).join(", ");
console.log(`model ${model}; reference: ${counts.documents} dev sentences, ${counts.entities} entities (profiled in ${profileSeconds.toFixed(1)} s)`);
for (const result of [await run("lower-cased test sentences", test.slice(1000).map((t) => t.toLowerCase())), await run("demo corpus sentences", demo)]) {
  console.log(`\n1000 test sentences: alert ${result.base.alert}; PSI ${fmt(result.base.statistics)}`);
  console.log(`then ${result.name}: ${result.at ? `alert after ${result.at.documents} documents (${result.at.statistics.join(", ")})` : "no alert within 1000 documents"}`);
  console.log(`  with ${result.shifted} shifted documents of ${result.end.documents} in the window: alert ${result.end.alert}; PSI ${fmt(result.end.statistics)}`);
}
await pipeline.close();
