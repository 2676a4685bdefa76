// `nerkit evaluate` gives seqeval's numbers on every case of ../shared/fixtures/seqeval/cases.json,
// default and strict mode, through the command line: each case is written as two CoNLL files and
// evaluated by the CLI's main() in this process with its output captured (730 runs, about a second;
// a child process each would take minutes). One run goes through the real binary, for the warning.
// Strict mode with gold tags the scheme forbids (IOB1 cases have many) prints seqeval's numbers and
// a warning; --check-scheme refuses them, as evaluate did before.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../src/cli/main.js";
import { illegalTransitions } from "../src/data/chunks.js";
import { schemeByName } from "../src/data/schemes.js";
import { nerkit, tempDir } from "./helpers.js";
import { assertSameReport, seqevalCases, strictExpectations } from "./seqeval-cases.js";

/** CoNLL text of tag sequences over made-up tokens; an empty sentence has no CoNLL form and adds
 *  nothing to seqeval's counts, so it is left out (of gold and prediction alike). */
function conllOf(sentences: readonly (readonly string[])[]): string {
  return sentences
    .filter((tags) => tags.length > 0)
    .map((tags) => tags.map((tag, i) => `w${i} ${tag}\n`).join("") + "\n")
    .join("");
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) });
  return { code, stdout, stderr };
}

const dir = tempDir("nerkit-seqeval-cli-");

test("nerkit evaluate equals seqeval on every fixture case, default and strict", async (t) => {
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(seqevalCases.length, 245);
  let strictRuns = 0;
  let warned = 0;
  for (const c of seqevalCases) {
    const gold = join(dir, `${c.id}.gold.conll`);
    const pred = join(dir, `${c.id}.pred.conll`);
    writeFileSync(gold, conllOf(c.y_true));
    writeFileSync(pred, conllOf(c.y_pred));
    const args = ["evaluate", "--gold", gold, "--pred", pred, "--format", "json"];

    const run = await cli(args);
    assert.equal(run.code, 0, `${c.id}: ${run.stderr}`);
    assert.equal(run.stderr, "", c.id);
    assertSameReport(JSON.parse(run.stdout), c.default, `${c.id} default`);

    for (const [scheme, expected] of strictExpectations(c)) {
      strictRuns++;
      const strict = await cli([...args, "--mode", "strict", "--scheme", scheme]);
      if ("error" in expected) {
        assert.equal(strict.code, 2, `${c.id} ${scheme}: seqeval raised ${expected.error}`);
        assert.match(strict.stderr, /not allowed in/, `${c.id} ${scheme}`);
        continue;
      }
      assert.equal(strict.code, 0, `${c.id} strict ${scheme}: ${strict.stderr}`);
      assertSameReport(JSON.parse(strict.stdout), expected, `${c.id} strict ${scheme}`);
      const illegal = c.y_true.reduce((n, tags) => n + illegalTransitions(tags, schemeByName(scheme)).length, 0);
      if (illegal === 0) {
        assert.equal(strict.stderr, "", `${c.id} strict ${scheme}`);
        continue;
      }
      warned++;
      assert.match(strict.stderr, new RegExp(`^nerkit: warning: the gold tags have ${illegal} transitions? that ${scheme} does not allow, first .*\\.gold\\.conll:\\d+: illegal ${scheme} transition: `), `${c.id} strict ${scheme}`);
      const checked = await cli([...args, "--mode", "strict", "--scheme", scheme, "--check-scheme"]);
      assert.equal(checked.code, 2, `${c.id} strict ${scheme} --check-scheme`);
      assert.match(checked.stderr, /E_TRANSITION|illegal .* transition: .* in the gold tags/, `${c.id} strict ${scheme} --check-scheme`);
    }
  }
  assert.equal(strictRuns, 238 + 14);
  // The fixture's cases draw random tags: many break their own scheme, which is what this checks.
  assert.ok(warned > 50, `${warned} strict runs warned`);
});

test("strict IOB1 with B-PER after O: seqeval's numbers, a warning naming file:line, exit 0; --check-scheme exits 2", (t) => {
  const folder = tempDir();
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const gold = join(folder, "gold.conll");
  const pred = join(folder, "pred.conll");
  // Line 2: B-PER after O, which IOB1 does not allow; seqeval's strict IOB1 reads no entity there.
  writeFileSync(gold, "The O\nJohn B-PER\nsaid O\n\nin I-LOC\nParis B-LOC\n");
  writeFileSync(pred, "The O\nJohn I-PER\nsaid O\n\nin I-LOC\nParis B-LOC\n");
  const args = ["evaluate", "--gold", gold, "--pred", pred, "--mode", "strict", "--scheme", "IOB1", "--format", "json"];
  const run = nerkit(args);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, `nerkit: warning: the gold tags have 1 transition that IOB1 does not allow, first ${gold}:2: illegal IOB1 transition: 'B-PER' after 'O'; scored as seqeval scores them (those tags start no entity); --check-scheme rejects them\n`);
  const report = JSON.parse(run.stdout);
  // By seqeval's IOB1 patterns (the 245 cases above are the reference for the arithmetic): the gold
  // has LOC "in" and LOC "Paris" (B-LOC after I-LOC of its type starts a new one) and nothing at
  // "John"; the prediction has the same plus PER "John" (I-PER after O starts one).
  assert.deepEqual(Object.keys(report.types), ["LOC", "PER"]);
  assert.deepEqual(report.types.LOC, { precision: 1, recall: 1, f1: 1, support: 2 });
  assert.deepEqual(report.types.PER, { precision: 0, recall: 0, f1: 0, support: 0 });

  const checked = nerkit([...args, "--check-scheme"]);
  assert.equal(checked.code, 2);
  assert.equal(checked.stdout, "");
  assert.match(checked.stderr, new RegExp(`^nerkit: error: ${gold.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: illegal IOB1 transition: 'B-PER' after 'O' in the gold tags`));
  const lenient = nerkit([...args, "--check-scheme", "--lenient"]);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.deepEqual(Object.keys(JSON.parse(lenient.stdout).types), ["LOC"]);
  assert.match(lenient.stderr, /skipped 1 bad record/);

  const usage = nerkit(["evaluate", "--gold", gold, "--pred", pred, "--check-scheme"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--check-scheme applies to --mode strict/);
});
