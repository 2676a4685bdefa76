// What commands say about inputs they cannot use: predict rejects a binary file or invalid UTF-8
// (file, line, byte) as stats does, on a file and on stdin; an empty input is a warning (predict,
// stats, convert) or an error naming the file (evaluate, which has nothing to score); and no error
// shows the name of a temporary file that an atomic write or a checkpoint uses.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Readable } from "node:stream";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { decodeUtf8, splitLines, writeFileAtomic } from "../src/io/files.js";
import { utf8Lines } from "../src/io/utf8-lines.js";
import { fixturesDir, nerkit, nerkitBin, nerkitError, tempDir } from "./helpers.js";

const model = join(fixturesDir, "hf", "bert-tiny");
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function linesOf(chunks: Buffer[], file?: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const { text } of utf8Lines(Readable.from(chunks), file)) lines.push(text);
  return lines;
}

test("utf8Lines: the lines of splitLines(text), however the bytes are cut into chunks", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom("\n", "\r\n", "é", "😀", "\uFEFF")), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), async (pieces, cuts) => {
      const text = pieces.join("");
      const bytes = Buffer.from(text, "utf8");
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((start, i) => bytes.subarray(start, [...points, bytes.length][i]));
      const expected = splitLines(text.startsWith("\uFEFF") ? text.slice(1) : text);
      assert.deepEqual(await linesOf(chunks), expected);
    }),
    { numRuns: 300, seed: 11 },
  );
});

test("utf8Lines: invalid UTF-8 names the line and the same byte as decodeUtf8, across chunk edges", async () => {
  const bytes = Buffer.concat([Buffer.from("ok\nstill ok é\nbad "), Buffer.from([0xe2, 0x82]), Buffer.from(" here\n")]);
  const whole = nerkitError(() => decodeUtf8(bytes, "in.txt"), "E_ENCODING");
  for (let cut = 0; cut <= bytes.length; cut++) {
    let error: unknown;
    try {
      await linesOf([bytes.subarray(0, cut), bytes.subarray(cut)], "in.txt");
    } catch (e) {
      error = e;
    }
    assert.equal((error as Error)?.message, whole.message, `cut at ${cut}`);
    assert.equal((error as { line?: number }).line, 3);
  }
  assert.equal(whole.describe(), "in.txt:3: invalid UTF-8 at byte 19; save the file as UTF-8");
});

test("predict: a binary file, invalid UTF-8 (file or stdin) and an empty input", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, "model.bin");
  writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00]));
  const fromBinary = nerkit(["predict", "--model", model, binary]);
  assert.equal(fromBinary.code, 2);
  assert.equal(fromBinary.stdout, "");
  assert.equal(fromBinary.stderr, `nerkit: error: ${binary}:1: NUL byte at byte 4: this looks like a binary file, not text\n`);

  const latin1 = join(dir, "latin1.txt");
  writeFileSync(latin1, Buffer.concat([Buffer.from("Paris\nK"), Buffer.from([0xf6]), Buffer.from("ln\n")]));
  const fromLatin1 = nerkit(["predict", "--model", model, latin1]);
  assert.equal(fromLatin1.code, 2);
  assert.equal(fromLatin1.stderr, `nerkit: error: ${latin1}:2: invalid UTF-8 at byte 7; save the file as UTF-8\n`);

  const stdin = spawnSync(process.execPath, [nerkitBin, "predict", "--model", model], { input: Buffer.from([0x61, 0x0a, 0xc3, 0x28, 0x0a]) });
  assert.equal(stdin.status, 2);
  assert.equal(stdin.stderr.toString(), "nerkit: error: <stdin>:2: invalid UTF-8 at byte 2; save the file as UTF-8\n");

  const empty = join(dir, "empty.txt");
  writeFileSync(empty, "");
  const fromEmpty = nerkit(["predict", "--model", model, empty]);
  assert.equal(fromEmpty.code, 0, fromEmpty.stderr);
  assert.equal(fromEmpty.stdout, "");
  assert.equal(fromEmpty.stderr, `nerkit: warning: ${empty} holds no document: nothing to predict\n`);
});

test("stats and convert warn about an empty input; evaluate names the empty file", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conll = join(dir, "empty.conll");
  const jsonl = join(dir, "empty.jsonl");
  writeFileSync(conll, "\n\n");
  writeFileSync(jsonl, "");
  const stats = nerkit(["stats", conll, "--format", "json"]);
  assert.equal(stats.code, 0);
  assert.equal(JSON.parse(stats.stdout).sentences, 0);
  assert.equal(stats.stderr, `nerkit: warning: ${conll} holds no sentence\n`);
  const convert = nerkit(["convert", jsonl, "--to", "conll"]);
  assert.deepEqual(convert, { code: 0, stdout: "", stderr: `nerkit: warning: ${jsonl} holds no document\n` });
  const evaluate = nerkit(["evaluate", "--gold", conll, "--pred", conll]);
  assert.equal(evaluate.code, 2);
  assert.equal(evaluate.stderr, `nerkit: error: ${conll}: holds no sentence: there is nothing to evaluate\n`);
});

test("a failed atomic write names the file asked for, never its temporary file", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, "missing", "out.jsonl");
  assert.equal(nerkitError(() => writeFileAtomic(missing, "x"), "E_IO").describe(), `${missing}: cannot write: no such file or directory`);
  mkdirSync(join(dir, "taken"));
  const onFolder = nerkitError(() => writeFileAtomic(join(dir, "taken"), "x"), "E_IO");
  assert.doesNotMatch(onFolder.describe(), /\.tmp|'/);
  assert.match(onFolder.describe(), new RegExp(`^${escape(join(dir, "taken"))}: cannot write: `));

  const input = join(dir, "in.conll");
  writeFileSync(input, "EU B-ORG\n");
  const run = nerkit(["convert", input, "--to", "jsonl", "-o", missing]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `nerkit: error: ${missing}: cannot write: no such file or directory\n`);
});
