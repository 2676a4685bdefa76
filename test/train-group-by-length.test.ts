// `nerkit train --group-by-length` through the CLI: a run cut short after a checkpoint in the middle
// of its second epoch and resumed ends with the parameters of the uninterrupted run (the grouped
// order is recomputed from the epoch's saved random state); the option changes the run (other
// batches, other parameters) and is part of its fingerprint; it needs a shuffled order.

import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir, nerkit, repoRoot, tempDir } from "./helpers.js";
import { maxSafetensorsDifference } from "./model-cases.js";

const demo = join(repoRoot, "examples", "demo", "gold.conll");
// 20 sentences in batches of 2: mega-batches of 2 batches (transformers' rule for under 200
// batches), so grouping changes which sentences share a batch. 10 steps per epoch, 20 in all.
const args = (out: string, ...extra: string[]) => ["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", demo, "--out", out, "--epochs", "2", "--batch-size", "2", "--lr", "1e-3", "--save-every", "1", "--seed", "5", "--threads", "1", ...extra];

test("--group-by-length: resumed from a checkpoint mid-epoch, the run ends with the uninterrupted run's parameters; the option is part of the run", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const grouped = join(dir, "grouped");
  const whole = nerkit(args(grouped, "--group-by-length"));
  assert.equal(whole.code, 0, whole.stderr);
  const plain = join(dir, "plain");
  assert.equal(nerkit(args(plain)).code, 0);
  assert.ok(maxSafetensorsDifference(join(grouped, "model.safetensors"), join(plain, "model.safetensors")) > 1e-4, "grouped batches train differently");

  // A crash after checkpoint 13 (epoch 2, batch 3): the later checkpoints and the final model gone.
  const cut = join(dir, "cut");
  cpSync(grouped, cut, { recursive: true });
  for (const name of readdirSync(cut)) {
    const step = /^checkpoint-(\d+)$/.exec(name);
    if ((step && Number(step[1]) > 13) || name === "model.safetensors" || name === "trainer_state.json") rmSync(join(cut, name), { recursive: true });
  }
  const withoutOption = nerkit(args(cut, "--resume"));
  assert.equal(withoutOption.code, 2);
  assert.match(withoutOption.stderr, /belongs to a different run \(--group-by-length: on in the checkpoint, \(not recorded\) now\)/);
  const resumed = nerkit(args(cut, "--group-by-length", "--resume"));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming from .*checkpoint-13 \(step 13 of 20\)/);
  assert.equal(maxSafetensorsDifference(join(cut, "model.safetensors"), join(grouped, "model.safetensors")), 0);
});

test("--group-by-length with --no-shuffle is a usage error", () => {
  const run = nerkit(args(join(tempDir(), "out"), "--group-by-length", "--no-shuffle"));
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--group-by-length groups a shuffled order: drop --no-shuffle/);
});
