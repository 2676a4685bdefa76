// Run by load-memory.test.ts in a process of its own (so that its peak RSS is this load's alone):
// loads the model folder given as argument the way `nerkit predict` and `serve` do, and prints one
// JSON line: the peak RSS (getrusage's maxRSS) before and after the load, in bytes.

import { loadPipeline } from "../src/index.js";

const dir = process.argv[2];
// `node --test dist/test/` runs every file here, this one too: without a model it does nothing.
if (dir === undefined) process.exit(0);
const maxRssBytes = () => process.resourceUsage().maxRSS * 1024;
const before = maxRssBytes();
const pipeline = await loadPipeline(dir, { threads: 1 });
const after = maxRssBytes();
await pipeline.close();
process.stdout.write(JSON.stringify({ before, after }) + "\n");
