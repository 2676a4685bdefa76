// How the loop bench chose --review-uncertain (issue 12 §4): the first version reads the first
// round's documents as the server does (whole texts, first-sub-token words, informativeness from
// the same run) and routes them with serve's default thresholds. The threshold U is the median
// informativeness of the documents that routing by entity scores sends to review: a document as
// uncertain as the typical one already reviewed goes to review too. Chosen on the model's own
// reading of unlabelled traffic, as a user could; the gold tags are read only to say how many of the
// documents it adds hold an entity the model missed or got wrong.
// Then, on the queue that routing and U make, what the first 200 documents of each order hold (words,
// gold entities, the model's errors: gold entities it missed plus entities it found that are not
// gold), with two other informativeness scores beside the shipped one (the mean of the 10 largest
// word entropies): their sum over 10 (short documents offer fewer words) and the total over all words.
// Random is a seeded shuffle here, not the server's MD5 order; fifo is document order.
//
// Usage (after `npm run build`, with bench/loop/run.mjs's first version made):
//   node bench/loop/uncertain-threshold.mjs [--model DIR] [--first 1000] [--slice 2173] [--threads 2]

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConll, loadPipeline } from "../../dist/src/index.js";
import { SERVICE_WINDOWS } from "../../dist/src/serve/reading.js";
import { modelEntities } from "../../dist/src/serve/jobs/annotate.js";
import { route } from "../../dist/src/postprocess/routing.js";
import { LEAST_CERTAIN_WORDS, informativeness, normalisedEntropy } from "../../dist/src/metrics/informativeness.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const first = Number(flag("first", 1000));
const model = flag("model", join(root, "bench", "out", "loop", `first-${first}-e10-lr0.001-b32`, "model"));
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const train = parseConll(readFileSync(join(shared, "data", "conll2003", "train.conll"), "utf8"), { file: "train.conll" }).sentences;
const remaining = train.slice(first);
const slice = Number(flag("slice", Math.floor(remaining.length / 6)));
const sentences = remaining.slice(0, slice);

const pipeline = await loadPipeline(model, { threads: Number(flag("threads", 2)) });
const texts = sentences.map((s) => s.tokens.join(" "));
// One run, read as the service reads batch jobs (reading.ts's readScoredTexts), keeping the words'
// distributions too: the informativeness the server stores, and the entropies the other scores need.
const reads = [];
const wordEntropies = new Map(); // document → its words' normalised entropies, largest first
for (let i = 0; i < texts.length; i += 64) {
  const distributions = new Map();
  const items = await pipeline.run(texts.slice(i, i + 64), { aggregation: "first", windows: SERVICE_WINDOWS, onWordDistributions: (t, words) => distributions.set(t, words) });
  items.forEach((list, t) => {
    const words = distributions.get(t);
    reads.push({ items: list, informativeness: informativeness(words) });
    wordEntropies.set(i + t, words.map(normalisedEntropy).sort((a, b) => b - a));
  });
}
await pipeline.close();

/** Gold entities as "start:end:type" over the space-joined text. */
function goldSpans(s) {
  const spans = new Set();
  let offset = 0, open;
  const starts = s.tokens.map((t) => { const at = offset; offset += t.length + 1; return at; });
  s.tags.forEach((tag, i) => {
    const [prefix, type] = tag === "O" ? ["O"] : tag.split("-");
    if (open && (prefix !== "I" || type !== open.type)) { spans.add(`${open.start}:${open.end}:${open.type}`); open = undefined; }
    if (prefix === "B" || (prefix === "I" && !open)) open = { start: starts[i], end: starts[i] + s.tokens[i].length, type };
    else if (prefix === "I") open.end = starts[i] + s.tokens[i].length;
  });
  if (open) spans.add(`${open.start}:${open.end}:${open.type}`);
  return spans;
}

const docs = reads.map((read, i) => {
  const routed = route(modelEntities(read.items, texts[i]), { accept: 0.95, review: 0.8 });
  const found = new Set(routed.entities.filter((e) => e.decision !== "reject").map((e) => `${e.start}:${e.end}:${e.type}`));
  const gold = goldSpans(sentences[i]);
  const wrong = gold.size !== found.size || [...gold].some((g) => !found.has(g));
  const errors = [...gold].filter((g) => !found.has(g)).length + [...found].filter((f) => !gold.has(f)).length;
  const words = wordEntropies.get(i);
  const top = words.slice(0, LEAST_CERTAIN_WORDS).reduce((a, b) => a + b, 0);
  return { u: read.informativeness, decision: routed.decision, wrong, gold: gold.size, entities: routed.entities.length, errors, words: words.length, sumTop: top / LEAST_CERTAIN_WORDS, total: words.reduce((a, b) => a + b, 0) };
});
const byEntity = docs.filter((d) => d.decision === "review");
const rest = docs.filter((d) => d.decision !== "review");
const sorted = byEntity.map((d) => d.u).sort((a, b) => a - b);
const U = sorted[Math.floor(sorted.length / 2)];
const added = rest.filter((d) => d.u >= U);
const share = (xs, f) => `${xs.filter(f).length}/${xs.length} (${((100 * xs.filter(f).length) / Math.max(1, xs.length)).toFixed(1)}%)`;
console.log(`model ${model}; ${docs.length} documents (the first round's slice)`);
console.log(`sent to review by an entity in the band [0.8, 0.95): ${byEntity.length}; of them wrong (an entity missed, extra or mistyped): ${share(byEntity, (d) => d.wrong)}`);
console.log(`median informativeness of those: U = ${U.toFixed(4)}`);
console.log(`not sent by entities: ${rest.length}, wrong ${share(rest, (d) => d.wrong)}; with no entity found: ${rest.filter((d) => d.entities === 0).length}`);
console.log(`added at U: ${added.length}; wrong ${share(added, (d) => d.wrong)}; with a gold entity but none found: ${added.filter((d) => d.entities === 0 && d.gold > 0).length}`);
console.log(`left out at U: wrong ${share(rest.filter((d) => d.u < U), (d) => d.wrong)}`);

const queue = docs.filter((d) => d.decision === "review" || d.u >= U);
const first200 = (name, list) => {
  const mean = (key) => (list.reduce((sum, d) => sum + d[key], 0) / list.length).toFixed(2);
  console.log(`${name.padEnd(34)} words ${mean("words")}, gold entities ${mean("gold")}, errors ${mean("errors")}`);
};
console.log(`\nthe queue at U: ${queue.length} documents; the first 200 of each order hold, per document:`);
first200("the whole queue", queue);
first200("uncertainty (mean of top 10, shipped)", [...queue].sort((a, b) => b.u - a.u).slice(0, 200));
first200("sum of top 10 / 10", [...queue].sort((a, b) => b.sumTop - a.sumTop).slice(0, 200));
first200("total entropy", [...queue].sort((a, b) => b.total - a.total).slice(0, 200));
let seed = 1;
const draw = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
first200("random (seeded shuffle)", queue.map((d) => [draw(), d]).sort((a, b) => a[0] - b[0]).map(([, d]) => d).slice(0, 200));
first200("fifo", queue.slice(0, 200));
