// `npm test` after the build: checks that the reference fixtures are there, then runs every compiled
// test file (node:test, two at a time) and ends with the list of skipped suites and why and a
// closing count (scripts/test-summary.mjs).
// Without ../shared (or NERKIT_SHARED) nearly every test would fail on a missing file, so it stops
// first with one message saying what is missing and where it comes from.
// What it leaves out: building (the npm script runs tsc first) and choosing tests (run one file
// with `node --test dist/test/NAME.test.js`).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// The same rule as test/helpers.ts's sharedDir.
const shared = resolve(process.env.NERKIT_SHARED ?? join(root, "..", "shared"));
const needed = ["fixtures/hf/model-cases.json", "fixtures/seqeval/cases.json", "data/conll2003/test.conll"];
const missing = needed.filter((file) => !existsSync(join(shared, file)));
if (missing.length > 0) {
  console.error(
    `nerkit tests: no reference fixtures in ${shared} (missing ${missing.join(", ")}).\n` +
      `The tests compare nerkit with transformers and seqeval through the fixtures in a folder named shared\n` +
      `beside this checkout (../shared: fixtures/ and data/conll2003/, not part of the repository; see README.md,\n` +
      `"The two commands"). Put it there, or set NERKIT_SHARED=/path/to/shared.`,
  );
  process.exit(1);
}

const args = [
  "--test",
  "--test-concurrency=2",
  `--test-reporter=${process.stdout.isTTY ? "spec" : "tap"}`,
  "--test-reporter-destination=stdout",
  `--test-reporter=${join(root, "scripts", "test-summary.mjs")}`,
  "--test-reporter-destination=stdout",
  join(root, "dist", "test") + "/",
];
const run = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(run.status ?? 1);
