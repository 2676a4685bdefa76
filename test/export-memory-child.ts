// Run by export-memory.test.ts in a process of its own (so that its peak RSS is this work's alone):
// opens the service on the given SQLite file, then reads /v1/export (jsonl; conll is the same paging) and
// /v1/review/agreement, consuming each answer as a stream, and prints one JSON line: lines and
// bytes read, and the memory before and at its peak (RSS from getrusage, heap sampled per chunk).
// Through a socket on loopback, not app.inject: inject's response takes whatever is written at
// once, so a streamed answer would pile up there; a socket pushes back as a real client does.

import { get } from "node:http";
import { AddressInfo } from "node:net";
import { buildApp } from "../src/serve/app.js";
import { FakePipeline } from "./fake-pipeline.js";

const file = process.argv[2];
// `node --test dist/test/` runs every file here, this one too: without a database it does nothing.
if (file === undefined) process.exit(0);
const app = await buildApp({ pipeline: new FakePipeline(), config: { db: file } });
await app.listen({ host: "127.0.0.1", port: 0 });
const port = (app.server.address() as AddressInfo).port;
const fetchStream = (path: string) =>
  new Promise<import("node:http").IncomingMessage>((resolve, reject) => get({ host: "127.0.0.1", port, path }, resolve).on("error", reject));
await app.inject("/healthz");
const maxRssBytes = () => process.resourceUsage().maxRSS * 1024;
const before = { rss: maxRssBytes(), heap: process.memoryUsage().heapUsed };
let peakHeap = before.heap;
const sample = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
const timer = setInterval(sample, 2);

const counts: Record<string, { lines: number; bytes: number; status: number }> = {};
for (const format of ["jsonl"]) {
  const r = await fetchStream(`/v1/export?format=${format}`);
  let lines = 0;
  let bytes = 0;
  for await (const chunk of r as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) lines++;
    sample();
  }
  counts[format] = { lines, bytes, status: r.statusCode ?? 0 };
}
const agreement = await app.inject("/v1/review/agreement");
sample();
clearInterval(timer);
await app.close();
process.stdout.write(JSON.stringify({ counts, agreement: agreement.json(), before, peak: { rss: maxRssBytes(), heap: peakHeap } }) + "\n");
