// What a test run leaves in the temp folder: nothing. tempDir() folders are removed when the test
// process exits, however its tests ended; and nerkit itself writes nothing there, though ONNX
// Runtime's telemetry, on by default in its Linux build, wrote mat-debug-<pid>.log and .ses into
// the temp folder of every process that created a session.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { fixturesDir, nerkit, repoRoot, tempDir } from "./helpers.js";

test("tempDir() folders are gone once the process that made them exits, even after a failure", () => {
  const helpers = pathToFileURL(join(repoRoot, "dist", "test", "helpers.js")).href;
  const script = `import { writeFileSync } from "node:fs"; import { tempDir } from ${JSON.stringify(helpers)};
const dir = tempDir(); writeFileSync(dir + "/file.txt", "x"); console.log(dir); process.exitCode = 1;`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(run.status, 1, run.stderr);
  const dir = run.stdout.trim();
  assert.match(dir, /nerkit-test-/);
  assert.equal(existsSync(dir), false, `${dir} is still there`);
});

test("nerkit predict leaves nothing in the temp folder (ONNX Runtime's telemetry files were left by every process)", () => {
  const tmp = tempDir();
  const { ORT_DISABLE_TELEMETRY: _, ...env } = process.env;
  const run = nerkit(["predict", "--model", join(fixturesDir, "hf", "bert-tiny")], "Alice met Bob in Paris.\n", { ...env, TMPDIR: tmp });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(readdirSync(tmp), []);
});
