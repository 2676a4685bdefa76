// One `nerkit serve` process of the loop bench and the steps of a round through its real endpoints:
// a batch job posted and waited for (POST /v1/jobs, GET /v1/jobs/:id), the first documents of the
// review queue answered from the gold tags (GET /v1/review, POST /v1/review/:id, action correct),
// a retrain started and waited for (POST /v1/retrain, GET /v1/retrain/:id), the serving version
// read (GET /v1/models). The process is stopped by its own pid.
// Left out: what the numbers mean (run.mjs) and how they are shown (report.mjs).

import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { goldSpans } from "../calibration/measures.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(url, init, what) {
  const r = await fetch(url, init);
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** Starts `nerkit serve args` on a free port; resolves once it listens. */
export async function startServe(args, logLine = () => {}) {
  const child = spawn(process.execPath, [join(root, "bin", "nerkit.js"), "serve", "--port", "0", "--no-log", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const url = await new Promise((resolveUrl, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") logLine(line);
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolveUrl(m[1]);
    });
    exited.then(({ code, signal }) => reject(new Error(`nerkit serve exited (code ${code}, signal ${signal}) before listening:\n${stderr.slice(-2000)}`)));
  });
  return {
    url,
    pid: child.pid,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const stopped = await Promise.race([exited, sleep(20_000).then(() => undefined)]);
      if (!stopped) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Posts the sentences as one batch job (words joined by spaces, one document each) and waits until it is done; returns its id. */
export async function annotateSlice(url, sentences) {
  const body = sentences.map((s) => JSON.stringify({ text: s.tokens.join(" ") })).join("\n") + "\n";
  const { id } = await call(`${url}/v1/jobs`, { method: "POST", body, headers: { "content-type": "application/x-ndjson" } }, "POST /v1/jobs");
  for (;;) {
    const job = await call(`${url}/v1/jobs/${id}`, {}, "GET /v1/jobs/:id");
    if (job.status === "done") return id;
    if (job.status === "failed") throw new Error(`job ${id} failed: ${job.error}`);
    await sleep(250);
  }
}

/**
 * The simulated reviewer: the first `count` documents of GET /v1/review, each corrected to its gold
 * entities. sentenceOf(jobId, seq) gives the gold sentence of a document. Returns how many were answered.
 */
export async function reviewFirst(url, count, sentenceOf) {
  const { items } = await call(`${url}/v1/review?offset=0&limit=${count}`, {}, "GET /v1/review");
  for (const item of items) {
    const cut = item.id.lastIndexOf(":");
    const sentence = sentenceOf(item.id.slice(0, cut), Number(item.id.slice(cut + 1)));
    if (!sentence) throw new Error(`review item ${item.id}: no document of this bench has that id`);
    const spans = goldSpans(sentence.tokens, sentence.tags);
    await call(`${url}/v1/review/${encodeURIComponent(item.id)}`, { method: "POST", body: JSON.stringify({ reviewer: "gold", action: "correct", spans }), headers: { "content-type": "application/json" } }, `POST /v1/review/${item.id}`);
  }
  return { answered: items.length, scores: items.map((i) => i.informativeness).filter((x) => typeof x === "number") };
}

/** POST /v1/retrain, then GET /v1/retrain/:id until it ends; returns its final record and wall seconds. */
export async function retrain(url, logLine = () => {}) {
  const started = performance.now();
  const { id } = await call(`${url}/v1/retrain`, { method: "POST" }, "POST /v1/retrain");
  let phase;
  for (;;) {
    const r = await call(`${url}/v1/retrain/${id}`, {}, "GET /v1/retrain/:id");
    if (r.phase !== phase) logLine(`retrain ${id}: ${r.phase} (${Math.round(r.progress * 100)}%)`);
    phase = r.phase;
    if (r.status !== "running") return { record: r, seconds: (performance.now() - started) / 1000 };
    await sleep(1000);
  }
}

/** The serving version (id, folder) from GET /v1/models. */
export async function servingVersion(url) {
  const { serving, models } = await call(`${url}/v1/models`, {}, "GET /v1/models");
  return models.find((m) => m.id === serving);
}
