// nerkit's memory after loading a BERT-base-shaped model: the resident set as loaded, then after a
// forced full garbage collection (what is live, not what the collector has yet to free), and the
// same in a child process with glibc's MALLOC_MMAP_THRESHOLD_=131072 (large buffers then go back to
// the system when freed instead of staying in the heap). Behind RESULTS.md's memory-after-GC figures.
// Left out: memory while predicting (bench/infer/run.mjs reports each side's peak).
// Usage (after `npm run build`): node bench/infer/memory-after-gc.mjs [--threads 2] [make-model.mjs flags]

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadPipeline } from "../../dist/src/index.js";
import { benchModel, parseModelOptions } from "./make-model.mjs";

const mib = (bytes) => `${Math.round(bytes / 2 ** 20).toLocaleString("en")} MiB`;
const argv = process.argv.slice(2);

if (argv[0] === "--measure") {
  // The child: load, measure, collect, measure; one JSON line on stdout.
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  const pipeline = await loadPipeline(argv[1], { threads: Number(argv[2]) });
  const loaded = process.memoryUsage().rss;
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  globalThis.gc();
  const usage = process.memoryUsage();
  console.log(JSON.stringify({ loaded, afterGc: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers, peak: process.resourceUsage().maxRSS * 1024 }));
  await pipeline.close();
} else {
  const threadsAt = argv.indexOf("--threads");
  const threads = threadsAt >= 0 ? argv.splice(threadsAt, 2)[1] : "2";
  const { options } = parseModelOptions(argv);
  const dir = benchModel(options);
  console.log(`${options.modelType} L=${options.layers} H=${options.hidden} (${dir}), ${threads} threads\n`);
  console.log("| environment | after load | after a forced full GC | JS heap used | external (weights held by JS) | peak |\n|---|---|---|---|---|---|");
  for (const [label, env] of [["default", {}], ["MALLOC_MMAP_THRESHOLD_=131072", { MALLOC_MMAP_THRESHOLD_: "131072" }]]) {
    const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--measure", dir, threads], { encoding: "utf8", env: { ...process.env, ...env } });
    if (child.status !== 0) throw new Error(child.stderr);
    const m = JSON.parse(child.stdout.trim().split("\n").pop());
    console.log(`| ${label} | ${mib(m.loaded)} | ${mib(m.afterGc)} | ${mib(m.heapUsed)} | ${mib(m.external)} | ${mib(m.peak)} |`);
  }
}
