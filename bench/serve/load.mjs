// Load benchmark of `nerkit serve`: POST /v1/entities with one ~100-token text per request, from
// autocannon in this process against the server in another (loopback only), at 1, 10 and 50
// concurrent clients, with micro-batching on (--max-batch 16 --max-wait-ms 5, the defaults) and off
// (--max-batch 1 --max-wait-ms 0). Reports requests/s and p50/p99 latency per setting.
// The model is DistilBERT-shaped (6 layers, hidden 768) with random weights from
// bench/infer/make-model.mjs: latency does not depend on the values.
//
// Usage (after `npm run build`): node bench/serve/load.mjs [--seconds 10] [--clients 1,10,50]
//   [--threads 2] [--model DIR]   (default: a DistilBERT-shaped model made under bench/out/serve)
//   [--quantize int8] (serve's own flag)  [--batching on,off] (which settings; both by default)
//   [--json FILE] (the rows; default bench/out/serve/load.json)

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { loadTokenizer, parseConll, readTextFile } from "../../dist/src/index.js";
import { benchModel, flag, freePort, nerkit, out, shared, stop, waitReady } from "./common.mjs";

const seconds = Number(flag("seconds", 10));
const clients = String(flag("clients", "1,10,50")).split(",").map(Number);
const threads = Number(flag("threads", 2));
const quantize = flag("quantize", undefined);
const batching = String(flag("batching", "on,off")).split(",");
const jsonFile = flag("json", join(out, "load.json"));
const modelDir = benchModel();

// A text of about 100 tokens ([CLS] and [SEP] included): CoNLL-2003 dev sentences joined.
const dev = join(shared, "data", "conll2003", "dev.conll");
const words = parseConll(readTextFile(dev), { file: dev }).sentences.flatMap((s) => s.tokens);
const tokenizer = loadTokenizer(modelDir, { flavor: "transformers" });
let text = "";
for (const word of words) {
  const next = text ? `${text} ${word}` : word;
  if (tokenizer.encode(next, { addSpecialTokens: true }).ids.length > 100) break;
  text = next;
}
const tokens = tokenizer.encode(text, { addSpecialTokens: true }).ids.length;

async function startServer(extra) {
  const port = await freePort();
  const child = nerkit(["serve", "--model", modelDir, "--port", String(port), "--threads", String(threads), "--no-log", "--db", ":memory:", "--max-queue", "4096", ...(quantize ? ["--quantize", quantize] : []), ...extra]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child);
  return { url, child };
}

function load(url, connections, duration) {
  return new Promise((resolveRun, reject) => {
    autocannon(
      { url: `${url}/v1/entities`, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }), connections, duration, timeout: 60 },
      (error, result) => (error ? reject(error) : resolveRun(result)),
    );
  });
}

const settings = [
  { name: "on", args: ["--max-batch", "16", "--max-wait-ms", "5"] },
  { name: "off", args: ["--max-batch", "1", "--max-wait-ms", "0"] },
].filter((s) => batching.includes(s.name));
const rows = [];
for (const setting of settings) {
  const { url, child } = await startServer(setting.args);
  await load(url, 4, 2); // warm-up
  for (const connections of clients) {
    const r = await load(url, connections, seconds);
    const row = { batching: setting.name, clients: connections, requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, timeouts: r.timeouts };
    rows.push(row);
    console.error(`batching ${setting.name}, ${connections} clients: ${row.rps.toFixed(1)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.errors} errors`);
  }
  await stop(child);
}

const config = JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8"));
console.log(`\n## nerkit serve under load: ${config.model_type}, ${config.n_layers ?? config.num_hidden_layers} layers, hidden ${config.dim ?? config.hidden_size}; one ${tokens}-token text per request; ${quantize ? `${quantize}; ` : ""}${threads} ONNX Runtime threads; ${seconds} s per row\n`);
console.log("| micro-batching | clients | requests/s | p50 (ms) | p99 (ms) | errors |\n|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.batching} | ${r.clients} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.errors} |`);
writeFileSync(jsonFile, JSON.stringify({ model: modelDir, quantize, tokens, threads, seconds, rows }, null, 2));
