// Regression: `nerkit convert … | head` and `nerkit predict … | head` crashed with an EPIPE stack
// trace and status 1. A reader that closes standard output early ends the command quietly with 0.
// Each test runs the real binary with its standard output on a pipe and destroys the reading end
// after the first chunk, while the command still has far more than a pipe buffer (64 KiB) to write.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { conllDir, fixturesDir, nerkitBin, tempDir } from "./helpers.js";

async function closeAfterFirstChunk(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; received: number }> {
  const child = spawn(process.execPath, [nerkitBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let received = 0;
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdout.once("data", (chunk: Buffer) => {
    received = chunk.length;
    child.stdout.destroy();
  });
  const [code, signal] = (await once(child, "close")) as [number | null, string | null];
  return { code, signal, stderr, received };
}

test("convert | head: a closed pipe ends the command quietly with status 0", async () => {
  // CoNLL-2003 train as JSON lines is about 10 MB.
  const run = await closeAfterFirstChunk(["convert", join(conllDir, "train.conll"), "--to", "jsonl"]);
  assert.ok(run.received > 0, "the reader got output before closing");
  assert.deepEqual({ code: run.code, signal: run.signal, stderr: run.stderr }, { code: 0, signal: null, stderr: "" });
});

test("predict | head: a closed pipe ends the command quietly with status 0", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, "docs.txt");
  // 3,000 documents give well over 64 KiB of JSON lines.
  writeFileSync(input, "Peter Blackburn visited Brussels on Monday with the EU.\n".repeat(3000));
  const run = await closeAfterFirstChunk(["predict", "--model", join(fixturesDir, "hf", "bert-tiny"), "--threads", "1", input]);
  assert.ok(run.received > 0, "the reader got output before closing");
  assert.deepEqual({ code: run.code, signal: run.signal, stderr: run.stderr }, { code: 0, signal: null, stderr: "" });
});
