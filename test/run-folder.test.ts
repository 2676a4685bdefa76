// The --out folder rules alone (src/train/run-folder.ts): which folders a run may use, what
// --overwrite removes, which leftovers of killed runs are removed; the run fingerprint's comparison;
// and the progress bar's line ending (a stopped run leaves no half line on a terminal).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkRunFolder, openRunFolder, removeStaleTemporaries } from "../src/train/run-folder.js";
import { checkSameRun, fingerprintDifferences } from "../src/train/run-fingerprint.js";
import { ProgressBar } from "../src/cli/progress-bar.js";
import { nerkitError, tempDir } from "./helpers.js";
import { deadPid } from "./processes.js";

function folder(t: { after: (fn: () => void) => void }, names: string[]): string {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of names) {
    if (name.endsWith("/")) mkdirSync(join(dir, name), { recursive: true });
    else writeFileSync(join(dir, name), "x");
  }
  return dir;
}

test("which folders a run may use", (t) => {
  const cases: { names: string[]; resume: boolean; overwrite: boolean; error?: RegExp }[] = [
    { names: [], resume: false, overwrite: false },
    { names: ["config.json"], resume: false, overwrite: false, error: /is not empty \(config\.json\): give --resume .* --overwrite/ },
    { names: ["checkpoint-4/"], resume: true, overwrite: false },
    { names: ["checkpoint-4/", "training_log.jsonl"], resume: false, overwrite: true },
    // A finished run with --dev wrote its reference profile: training again with --overwrite replaces it.
    { names: ["config.json", "model.safetensors", "reference-profile.json"], resume: false, overwrite: true },
    { names: ["checkpoint-4/", "notes.txt", "data/"], resume: false, overwrite: true, error: /holds files nerkit did not write \(data, notes\.txt\); nothing was removed/ },
    { names: [], resume: true, overwrite: true, error: /give --resume or --overwrite, not both/ },
  ];
  for (const c of cases) {
    const dir = folder(t, c.names);
    const options = { resume: c.resume, overwrite: c.overwrite };
    if (c.error) assert.match(nerkitError(() => checkRunFolder(dir, options), "E_USAGE").message, c.error, c.names.join(" "));
    else checkRunFolder(dir, options);
  }
  const out = folder(t, ["checkpoint-5/", "config.json"]);
  const reads = { resume: false, overwrite: true, reads: [join(out, "checkpoint-5"), undefined] };
  assert.match(nerkitError(() => checkRunFolder(out, reads)).message, /--overwrite would remove .*checkpoint-5, which this run reads/);
  const file = join(folder(t, ["model.bin"]), "model.bin");
  assert.match(nerkitError(() => checkRunFolder(file, { resume: false, overwrite: false })).message, /is a file, not a folder/);
});

test("--overwrite removes the previous run's files and checkpoints", (t) => {
  const dir = folder(t, ["checkpoint-2/", "checkpoint-2/model.safetensors", "checkpoint-9/", "config.json", "model.safetensors", "vocab.txt", "trainer_state.json", "training_log.jsonl"]);
  openRunFolder(dir, { resume: false, overwrite: true });
  assert.deepEqual(readdirSync(dir), []);
});

test("leftovers of dead processes are removed, those of a live process kept, a replaced checkpoint put back", async (t) => {
  const dead = deadPid();
  const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  t.after(() => live.kill());
  const dir = folder(t, [
    `.checkpoint-3.${dead}.tmp/`,
    `.checkpoint-4.${live.pid}.tmp/`,
    `.checkpoint-5.${dead}.old/`,
    `.checkpoint-6.${dead}.old/`,
    "checkpoint-6/",
    `.model.safetensors.${dead}.0a1b2c3d.tmp`,
    `.training_log.jsonl.${process.pid}.0a1b2c3d.tmp`,
    "checkpoint-2/",
  ]);
  const handled = removeStaleTemporaries(dir);
  assert.equal(handled.length, 5);
  assert.deepEqual(readdirSync(dir).sort(), [`.checkpoint-4.${live.pid}.tmp`, "checkpoint-2", "checkpoint-5", "checkpoint-6"]);
  assert.ok(existsSync(join(dir, "checkpoint-5")));
});

test("a checkpoint of another run is refused, naming each differing field and both values", () => {
  const saved = { "training data": "sha256:aa", "--lr": "0.001", "--seed": "42" };
  assert.deepEqual(fingerprintDifferences(saved, { ...saved }), []);
  const error = nerkitError(() => checkSameRun("out/checkpoint-8", saved, { ...saved, "--lr": "0.002", "training data": "sha256:bb" }), "E_USAGE");
  assert.equal(error.message, "--resume: out/checkpoint-8 belongs to a different run (training data: sha256:aa in the checkpoint, sha256:bb now; --lr: 0.001 in the checkpoint, 0.002 now); resume with the same data, model and settings, or start again with --overwrite or another --out");
  assert.match(nerkitError(() => checkSameRun("out/checkpoint-8", undefined, saved)).message, /records no run fingerprint/);
});

test("the progress bar ends its terminal line once, and writes no newline it did not open", () => {
  const written: string[] = [];
  const bar = new ProgressBar({ isTTY: true, columns: 100, write: (s: string) => written.push(s) });
  bar.break();
  assert.deepEqual(written, []);
  bar.update(1, 10, 1, { loss: "1.0" });
  bar.update(2, 10, 2, { loss: "0.9" });
  bar.break();
  bar.break();
  assert.equal(written.filter((s) => s === "\n").length, 1);
  assert.equal(written.at(-1), "\n");
  const plain: string[] = [];
  const log = new ProgressBar({ isTTY: false, write: (s: string) => plain.push(s) });
  log.update(1, 10, 1, {});
  log.break();
  assert.deepEqual(plain, ["step 1/10    elapsed 0:01  eta 0:09\n"]);
});
