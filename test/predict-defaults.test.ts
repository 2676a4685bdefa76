// `nerkit predict`'s defaults and its parity switch: by default whole words (aggregation first) and
// the whole text (overlapping windows), silently, as the library's DEFAULT_READING; with
// --pipeline-parity, transformers' pipeline itself (its own default aggregation none, and its
// windows), checked against ../shared/fixtures/hf/pipeline-cases.json, with a warning naming the
// document whose end was left unread.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_READING, Entity, NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { codePointToUtf16 } from "../src/text/offsets.js";
import { fixturesDir, nerkit, readJson } from "./helpers.js";

const model = join(fixturesDir, "hf", "bert-tiny");

interface HfItem {
  entity?: string;
  entity_group?: string;
  score: number;
  start: number;
  end: number;
  index?: number;
}
type Case = { text: string; entities: HfItem[] };
const cases = readJson<{ bert: { none: Case[]; long_simple_max64_stride16: Case } }>(join(fixturesDir, "hf", "pipeline-cases.json")).bert;

interface Printed {
  id?: number;
  text: string;
  entities: { type?: string; label?: string; index?: number; start: number; end: number; score: number }[];
}

function predict(args: string[], docs: object[]): { lines: Printed[]; stderr: string } {
  const { code, stdout, stderr } = nerkit(["predict", "--model", model, "--threads", "1", ...args], docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  assert.equal(code, 0, stderr);
  return { lines: stdout.trim().split("\n").map((l) => JSON.parse(l) as Printed), stderr };
}

function assertSameAsPipeline(printed: Printed["entities"], expected: HfItem[], text: string, label: string): void {
  const toUtf16 = codePointToUtf16(text);
  assert.deepEqual(
    printed.map((e) => ({ label: e.label ?? e.type, start: e.start, end: e.end, index: e.index })),
    expected.map((e) => ({ label: e.entity ?? e.entity_group, start: toUtf16(e.start), end: toUtf16(e.end), index: e.index })),
    label,
  );
  printed.forEach((e, i) => assert.ok(Math.abs(e.score - expected[i].score) < 1e-4, `${label}: score ${i}`));
}

let pipeline: NerPipeline;
before(async () => {
  pipeline = await loadPipeline(model, { threads: 1 });
});
after(async () => pipeline?.close());

test("--pipeline-parity prints what transformers' pipeline gives with its own defaults (one item per token)", () => {
  const { lines, stderr } = predict(["--pipeline-parity", "--ignore-labels", "O"], cases.none.map((c, id) => ({ id, text: c.text })));
  assert.equal(stderr, "");
  lines.forEach((line, i) => assertSameAsPipeline(line.entities, cases.none[i].entities, cases.none[i].text, JSON.stringify(line.text)));
});

test("--pipeline-parity with a 64-token window and stride 16 reads what the pipeline reads, and names the document it cut", () => {
  const long = cases.long_simple_max64_stride16;
  const { lines, stderr } = predict(["--pipeline-parity", "--aggregation", "simple", "--max-length", "64", "--stride", "16"], [{ id: 1, text: "short" }, { id: 7, text: long.text }]);
  assertSameAsPipeline(lines[1].entities, long.entities, long.text, "long text");
  assert.match(stderr, /^nerkit: warning: line 2 \(id 7\): only the first \d+ of \d+ tokens were read \(--windows hf/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
});

test("by default the whole text is read, words whole (aggregation first), no warning: the library's DEFAULT_READING", async () => {
  const long = cases.long_simple_max64_stride16;
  const { lines, stderr } = predict(["--max-length", "64"], [{ text: long.text }]);
  assert.equal(stderr, "");
  const [expected] = (await pipeline.run([long.text], { ...DEFAULT_READING, maxLength: 64 })) as Entity[][];
  assert.equal(DEFAULT_READING.aggregation, "first");
  assert.deepEqual(lines[0].entities, expected.map(({ word: _w, ...e }) => e));
  const parity = predict(["--pipeline-parity", "--aggregation", "first", "--max-length", "64"], [{ text: long.text }]);
  const lastEnd = (list: { end: number }[]) => Math.max(...list.map((e) => e.end));
  assert.ok(lastEnd(lines[0].entities) > 2 * lastEnd(parity.lines[0].entities), "the default reads past transformers' first window");
});
