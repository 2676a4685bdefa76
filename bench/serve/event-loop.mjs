// /healthz latency and the server's peak memory while many long texts arrive at once: spawns
// `nerkit serve` (the tiny fixture model by default), sends `--clients` concurrent POST /v1/entities
// of `--chars` characters each, polls /healthz every 20 ms until every client has its answer, and
// prints one JSON line: answers by status, /healthz latency (median, p99, max) and the server's peak
// RSS (VmHWM). Extra arguments after `--` go to `nerkit serve` (e.g. -- --max-text-chars 1000000).
//   node bench/serve/event-loop.mjs [--bin bin/nerkit.js] [--clients 16] [--chars 500000] [--model DIR] [-- serve flags]

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const serveFlags = dash >= 0 ? argv.slice(dash + 1) : [];
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const arg = (name, fallback) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? own[i + 1] : fallback;
};
const bin = resolve(arg("bin", join(root, "bin", "nerkit.js")));
const clients = Number(arg("clients", "16"));
const chars = Number(arg("chars", "500000"));
const model = arg("model", join(process.env.NERKIT_SHARED ?? join(root, "..", "shared"), "fixtures", "hf", "bert-tiny"));
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;

// BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=prof" profiles the server (written when it stops).
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const server = spawn(process.execPath, [...nodeFlags, bin, "serve", "--model", model, "--port", String(port), "--db", ":memory:", "--no-log", "--body-limit", "16mb", ...serveFlags], { stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
server.stderr.on("data", (d) => (stderr += d));
const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]) * 1024;

try {
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error(`the server did not get ready: ${stderr}`);
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const rssIdle = peakRss();
  const words = ["Angela", "Merkel", "visited", "Paris", "on", "Monday.", "The", "weather", "was", "fine,", "said", "Müller."];
  let text = "";
  for (let i = 0; text.length < chars; i++) text += words[i % words.length] + " ";
  text = text.slice(0, chars);

  const latencies = [];
  let failedPolls = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      // A failed poll (the connection reset) counts as a poll that took until it failed.
      await fetch(`${base}/healthz`).then((r) => r.text(), () => failedPolls++);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: clients }, () =>
      fetch(`${base}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }), signal: AbortSignal.timeout(300_000) }).then(
        async (r) => (await r.text(), r.status),
        (e) => e.name,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await poll;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const byStatus = {};
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
  console.log(
    JSON.stringify({
      clients,
      chars,
      serveFlags: serveFlags.join(" "),
      seconds: +seconds.toFixed(1),
      statuses: byStatus,
      healthz: { polls: latencies.length, medianMs: +at(0.5).toFixed(1), p90Ms: +at(0.9).toFixed(1), p99Ms: +at(0.99).toFixed(1), maxMs: +latencies[latencies.length - 1].toFixed(1), failed: failedPolls, overMs100: +latencies.filter((l) => l > 100).reduce((a, l) => a + l, 0).toFixed(0) },
      rssMiB: { idle: Math.round(rssIdle / 2 ** 20), peak: Math.round(peakRss() / 2 ** 20) },
    }),
  );
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  if (process.env.BENCH_STDERR) process.stderr.write(stderr);
}
