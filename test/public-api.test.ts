// The package as a user imports it: `import { ... } from "nerkit"` resolves to the one public
// entry point, and the library gives the same answer as the CLI.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./helpers.js";

test("import from 'nerkit' exposes the library and matches the CLI", async () => {
  const nerkit = await import("nerkit");
  const gold = [["B-PER", "I-PER", "O", "B-LOC"]];
  const pred = [["B-PER", "I-PER", "O", "B-ORG"]];
  const report = nerkit.evaluate(gold, pred);
  assert.equal(report.overall.precision, 0.5);
  assert.equal(report.types.get("LOC")?.recall, 0);
  assert.equal(typeof nerkit.parseConll, "function");
  assert.equal(typeof nerkit.evaluateFiles, "function");

  const demo = join(repoRoot, "examples", "demo");
  const files = nerkit.evaluateFiles({ gold: join(demo, "gold.conll"), pred: join(demo, "pred.conll") });
  const cli = spawnSync(process.execPath, [join(repoRoot, "bin", "nerkit.js"), "evaluate", "--gold", join(demo, "gold.conll"), "--pred", join(demo, "pred.conll"), "--format", "json"], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(cli.stdout), nerkit.reportJson(files.report));
});
