// Reading and writing throughput of CoNLL files, in tokens per second, in one process:
// parse (decode + validate every tag) and format + atomic write of the CoNLL-2003 training file.
// Usage: node bench/conll-io.mjs [FILE] [--repeat N]   (after `npm run build`)

import { readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatConll, parseConll, writeFileAtomic, readTextFile } from "../dist/src/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const args = process.argv.slice(2);
const repeatAt = args.indexOf("--repeat");
const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 5;
const file = args.find((a, i) => !a.startsWith("--") && i !== repeatAt + 1) ?? join(shared, "data", "conll2003", "train.conll");

const bytes = readFileSync(file);
const out = join(mkdtempSync(join(tmpdir(), "nerkit-bench-")), "out.conll");
const best = { read: Infinity, parse: Infinity, write: Infinity };
let tokens = 0;
for (let r = 0; r < repeat; r++) {
  let t = performance.now();
  const text = readTextFile(file);
  const afterRead = performance.now();
  const corpus = parseConll(text, { file });
  const afterParse = performance.now();
  best.read = Math.min(best.read, afterParse - t);
  best.parse = Math.min(best.parse, afterParse - afterRead);
  tokens = corpus.sentences.reduce((n, s) => n + s.tokens.length, 0);
  t = performance.now();
  writeFileAtomic(out, formatConll(corpus));
  best.write = Math.min(best.write, performance.now() - t);
}
rmSync(dirname(out), { recursive: true });
const rate = (ms) => Math.round(tokens / (ms / 1000)).toLocaleString("en-US");
console.log(`file: ${file} (${(bytes.length / 1e6).toFixed(2)} MB, ${tokens} tokens), best of ${repeat}`);
console.log(`read (file + UTF-8 decode + parse + validate): ${best.read.toFixed(1)} ms, ${rate(best.read)} tokens/s`);
console.log(`  of which parse + validate:                  ${best.parse.toFixed(1)} ms, ${rate(best.parse)} tokens/s`);
console.log(`write (format + atomic write):                ${best.write.toFixed(1)} ms, ${rate(best.write)} tokens/s`);
