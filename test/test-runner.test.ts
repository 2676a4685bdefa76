// `npm test`'s runner (scripts/run-tests.mjs): without the reference fixtures it stops at once with
// one message naming the folder and NERKIT_SHARED, instead of dozens of failures; and its skip
// summary reporter (scripts/test-summary.mjs) ends a run with each skipped suite or test and the
// reason, then "tests: N passed, N failed, N skipped" with node's own counts.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, tempDir } from "./helpers.js";

test("npm test without ../shared: one message that names the folder and NERKIT_SHARED, exit 1, no test run", () => {
  const missing = join(tempDir(), "no-shared-here");
  const run = spawnSync(process.execPath, [join(repoRoot, "scripts", "run-tests.mjs")], { encoding: "utf8", env: { ...process.env, NERKIT_SHARED: missing } });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, new RegExp(`^nerkit tests: no reference fixtures in ${missing} \\(missing fixtures/hf/model-cases.json`));
  assert.match(run.stderr, /set NERKIT_SHARED=\/path\/to\/shared\.\n$/);
});

test("the summary lists each skipped suite and test with its reason, then counts tests as node does", () => {
  const dir = tempDir();
  const file = join(dir, "sample.test.mjs");
  writeFileSync(
    file,
    `import { describe, test } from "node:test";
describe("needs a database", { skip: "no PostgreSQL here" }, () => { test("inner", () => {}); });
describe("runs", () => { test("one", () => {}); test("two", () => {}); });
test("fails", () => { throw new Error("wrong"); });
test("needs a browser", { skip: "no Chromium here" }, () => {});
`,
  );
  const reporter = join(repoRoot, "scripts", "test-summary.mjs");
  // Without NODE_TEST_CONTEXT, which would make the inner run report to this runner instead of its reporters.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const args = ["--test", `--test-reporter=${reporter}`, "--test-reporter-destination=stdout", "--test-reporter=tap", "--test-reporter-destination=stderr", file];
  const run = spawnSync(process.execPath, args, { encoding: "utf8", env });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(
    run.stdout,
    `\nskipped (2):\n  needs a database (${file}): no PostgreSQL here\n  needs a browser (${file}): no Chromium here\ntests: 2 passed, 1 failed, 2 skipped\n`,
  );
  // node's own counts for the same run: the passed and failed agree.
  assert.match(run.stderr, /^# pass 2$/m);
  assert.match(run.stderr, /^# fail 1$/m);
});
