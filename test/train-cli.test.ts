// `nerkit train` as a user runs it: the fixture recipe reproduces PyTorch's parameters after three
// steps (the exactness check, through the CLI and files), a run killed with SIGKILL or
// stopped with Ctrl-C and resumed ends with the same parameters as an uninterrupted one, one run
// per --out folder (--resume of the same run only, --overwrite), and the output loads in predict.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { fixturesDir, nerkit, nerkitBin, readJson, repoRoot, tempDir } from "./helpers.js";
import { deadPid, spawnNerkit, waitUntil } from "./processes.js";
import { modelCases, maxSafetensorsDifference, stepErrors } from "./model-cases.js";

const demo = join(repoRoot, "examples", "demo", "gold.conll");
const cases = modelCases;

for (const kind of ["bert", "distilbert", "roberta", "xlmr"]) {
  test(`${kind}: the fixture recipe through nerkit train gives PyTorch's parameters, losses and norms`, () => {
    const c = cases[kind];
    const dir = tempDir();
    const data = join(dir, "batch.conll");
    writeFileSync(data, c.words.map((words, i) => words.map((w, j) => `${w} ${c.tags[i][j]}`).join("\n")).join("\n\n") + "\n");
    const out = join(dir, "out");
    const model = join(fixturesDir, "hf", `${kind}-tiny`);
    const run = nerkit(["train", "--model", model, "--train", data, "--out", out, "--max-steps", "3", "--batch-size", "4", "--lr", "1e-3", "--warmup-steps", "1", "--weight-decay", "0.01", "--max-grad-norm", "1", "--no-shuffle", "--threads", "1"]);
    assert.equal(run.code, 0, run.stderr);
    // As in training-steps.test.ts (measured there: 2.4e-7, and 9.0e-7 where the first gradient is round-off).
    const trained = readSafetensors(join(out, "model.safetensors"));
    const errors = stepErrors((name) => trained.tensor(name).data, readSafetensors(join(model, "expected_after_3_steps.safetensors")), readSafetensors(join(model, "expected_grads.safetensors")));
    assert.ok(errors.settled < 1e-6 && errors.noisy < 1e-5, `max |Δ| ${errors.settled} (${errors.noisy} where the first gradient is round-off)`);
    const log = readFileSync(join(out, "training_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(log.length, 3, "one log entry per step");
    log.forEach((entry, s) => {
      // Measured: 4.8e-7 and 7.2e-7 (2–3 ulp).
      assert.ok(Math.abs(entry.loss - c.train_steps.loss_per_step[s]) < 2e-6, `loss of step ${s}`);
      assert.ok(Math.abs(entry.grad_norm - c.train_steps.grad_norm_per_step[s]) < 2e-6, `norm of step ${s}`);
      for (const key of ["learning_rate", "tokens_per_second", "epoch"]) assert.ok(key in entry, key);
    });
    for (const file of ["config.json", "model.safetensors", "tokenizer.json"]) assert.ok(existsSync(join(out, file)), file);
    // The estimate printed before training, against the peak RSS printed after: within 25% (the
    // larger runs are in bench/train/memory.mjs).
    const memory = /peak memory ([\d.]+) GiB \(estimated ([\d.]+) GiB\)/.exec(run.stderr);
    assert.ok(memory, run.stderr);
    const ratio = Number(memory[2]) / Number(memory[1]);
    assert.ok(ratio > 0.75 && ratio < 1.25, `estimate ${memory[2]} GiB, peak ${memory[1]} GiB`);
  });
}

/** bert-tiny with dropout 0.1, so that resuming must also restore the dropout noise. */
function modelWithDropout(): string {
  const dir = tempDir();
  cpSync(join(fixturesDir, "hf", "bert-tiny"), dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
  return dir;
}

let dropoutModel: string;
// 20 sentences in batches of 4: 5 steps per epoch, 30 in all, so the kill after checkpoint 3 has
// room to come before the end.
const epochs = 6;
const totalSteps = 30;
const trainArgs = (out: string) => ["train", "--model", (dropoutModel ??= modelWithDropout()), "--train", demo, "--dev", demo, "--out", out, "--epochs", String(epochs), "--batch-size", "4", "--lr", "1e-3", "--save-every", "1", "--seed", "7", "--threads", "1"];

/** The newest checkpoint-N of a folder and its trainer state. */
function newestCheckpoint(dir: string): { name: string; updates: number; totalUpdates: number } | undefined {
  const names = readdirSync(dir).filter((f) => /^checkpoint-\d+$/.test(f) && existsSync(join(dir, f, "trainer_state.json")));
  const name = names.sort((a, b) => Number(b.slice(11)) - Number(a.slice(11)))[0];
  return name === undefined ? undefined : { name, ...readJson<{ updates: number; totalUpdates: number }>(join(dir, name, "trainer_state.json")) };
}

const logOf = (dir: string) => readFileSync(join(dir, "training_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { update: number; loss?: number; eval?: unknown });

test("SIGKILL mid-run, then --resume, ends with the parameters of an uninterrupted run (dropout on)", async (t) => {
  const whole = join(tempDir(), "whole");
  const interrupted = join(tempDir(), "interrupted");
  t.after(() => [whole, interrupted].forEach((d) => rmSync(dirname(d), { recursive: true, force: true })));
  const straight = nerkit(trainArgs(whole));
  assert.equal(straight.code, 0, straight.stderr);
  assert.match(straight.stderr, /dev f1/);

  const child = spawn(process.execPath, [nerkitBin, ...trainArgs(interrupted)], { stdio: "ignore" });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await waitUntil(() => (existsSync(interrupted) && (newestCheckpoint(interrupted)?.updates ?? 0) >= 3 ? true : undefined), "checkpoint 3", 60_000);
  child.kill("SIGKILL");
  // The kill came before the end: the process died of it, and its newest checkpoint is short of the total.
  assert.deepEqual(await exited, { code: null, signal: "SIGKILL" });
  const atKill = newestCheckpoint(interrupted)!;
  assert.equal(atKill.totalUpdates, totalSteps);
  assert.ok(atKill.updates < totalSteps, `killed at step ${atKill.updates} of ${totalSteps}`);
  assert.ok(!existsSync(join(interrupted, "model.safetensors")), "the final model is written only at the end");
  // What a kill during a checkpoint write leaves: removed by the next run, as the kill's own leftovers.
  const stale = join(interrupted, `.checkpoint-2.${deadPid()}.tmp`);
  mkdirSync(stale);

  const resumed = nerkit([...trainArgs(interrupted), "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming from .*${atKill.name} \\(step ${atKill.updates} of ${totalSteps}\\)`));
  assert.ok(maxSafetensorsDifference(join(interrupted, "model.safetensors"), join(whole, "model.safetensors")) < 1e-6);
  assert.deepEqual(readdirSync(interrupted).filter((f) => f.startsWith(".")), [], "no temporary left");
  for (const dir of readdirSync(interrupted).filter((f) => f.startsWith("checkpoint-"))) {
    assert.ok(existsSync(join(interrupted, dir, "model.safetensors")), `${dir} is complete`);
  }
  // The log of the resumed run: every step once, in order, and one evaluation per epoch.
  const log = logOf(interrupted);
  assert.deepEqual(log.filter((l) => l.loss !== undefined).map((l) => l.update), Array.from({ length: totalSteps }, (_, i) => i + 1));
  assert.equal(log.filter((l) => l.eval !== undefined).length, epochs);
  assert.deepEqual(log.map((l) => l.update), logOf(whole).map((l) => l.update));

  const predicted = spawnSync(process.execPath, [nerkitBin, "predict", "--model", whole], { input: "Maria Lindqvist joined Nordhavn Logistics .\n", encoding: "utf8" });
  assert.equal(predicted.status, 0, predicted.stderr);
  assert.ok(Array.isArray(JSON.parse(predicted.stdout).entities));
});

test("a dev label the training data never had is a clear error", () => {
  const dir = tempDir();
  const dev = join(dir, "dev.conll");
  writeFileSync(dev, "Acme B-COMPANY\n");
  const run = nerkit(["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", demo, "--dev", dev, "--out", join(dir, "out")]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /dev\.conll:1: the dev data has the label B-COMPANY, which the training data never has/);
});

test("a loss that becomes NaN stops the run, saves the last good state and says so", () => {
  const out = join(tempDir(), "nan");
  const run = nerkit(["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", demo, "--out", out, "--lr", "1e30", "--max-grad-norm", "0", "--batch-size", "4", "--threads", "1"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /the loss became NaN .* The last good state \(step 1\) is in .*checkpoint-1/);
  const saved = readSafetensors(join(out, "checkpoint-1", "model.safetensors"));
  assert.ok(saved.names.every((name) => saved.tensor(name).data.every(Number.isFinite)));
});

test("--early-stopping stops when dev F1 has not improved for that many evaluations", () => {
  const out = join(tempDir(), "early");
  // With a learning rate of 0 nothing changes, so the second evaluation cannot improve on the first.
  const run = nerkit(["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", demo, "--dev", demo, "--out", out, "--lr", "0", "--epochs", "5", "--batch-size", "10", "--early-stopping", "1", "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /no improvement in 1 evaluations: stopping early/);
  const evaluations = readFileSync(join(out, "training_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.eval);
  assert.equal(evaluations.length, 2);
  assert.match(run.stdout, /weights of .*checkpoint-2/);
});

const shortRun = (out: string, ...more: string[]) => ["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", demo, "--out", out, "--max-steps", "2", "--batch-size", "4", "--save-every", "1", "--threads", "1", ...more];

test("a folder that holds a run is refused unless --resume (same run only) or --overwrite (nerkit's files only)", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "out");
  assert.equal(nerkit(shortRun(out)).code, 0);
  const before = readFileSync(join(out, "training_log.jsonl"), "utf8");

  const again = nerkit(shortRun(out));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /--out .*out is not empty \(checkpoint-1, checkpoint-2, .*\): give --resume to continue the run it holds, --overwrite to replace it/);
  assert.equal(readFileSync(join(out, "training_log.jsonl"), "utf8"), before);

  // The mix-up: a checkpoint of another run (other data, other settings) is not resumed.
  const otherData = join(dir, "other.conll");
  writeFileSync(otherData, readFileSync(demo, "utf8").replace(/^(\S+)/, "Zebra"));
  const other = nerkit(["train", "--model", join(fixturesDir, "hf", "bert-tiny"), "--train", otherData, "--out", out, "--max-steps", "2", "--batch-size", "2", "--lr", "1e-3", "--save-every", "1", "--threads", "1", "--resume"]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--resume: .*checkpoint-2 belongs to a different run \(training data: sha256:[0-9a-f]{16} in the checkpoint, sha256:[0-9a-f]{16} now; --batch-size: 4 in the checkpoint, 2 now; --lr: 0\.00002 in the checkpoint, 0\.001 now\)/);
  assert.doesNotMatch(other.stderr, /--seed|--epochs|tokenizer:/);

  // --overwrite refuses a folder with files of the user's, and removes nothing then.
  writeFileSync(join(out, "notes.txt"), "mine\n");
  const foreign = nerkit(shortRun(out, "--max-steps", "1", "--overwrite"));
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /--overwrite: .*out holds files nerkit did not write \(notes\.txt\); nothing was removed/);
  assert.ok(existsSync(join(out, "checkpoint-2")));
  rmSync(join(out, "notes.txt"));

  // --overwrite replaces the whole previous run: its checkpoint-2 does not survive a 1-step run.
  const replaced = nerkit(shortRun(out, "--max-steps", "1", "--overwrite"));
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual(readdirSync(out).filter((f) => f.startsWith("checkpoint-")), ["checkpoint-1"]);
  assert.equal(logOf(out).length, 1);

  const both = nerkit(shortRun(out, "--resume", "--overwrite"));
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --resume or --overwrite, not both/);
});

test("Ctrl-C saves a checkpoint of the step in progress, exits 130, says how to resume, and --resume ends like an uninterrupted run", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = (out: string) => ["train", "--model", (dropoutModel ??= modelWithDropout()), "--train", demo, "--out", out, "--epochs", "10", "--batch-size", "4", "--lr", "1e-3", "--seed", "3", "--threads", "1"];
  const out = join(dir, "stopped");
  const run = spawnNerkit(args(out));
  await run.waitFor(/step 1\/50 /, 60_000);
  run.child.kill("SIGINT");
  assert.equal(await run.exited, 130, run.stderr());
  const stderr = run.stderr();
  assert.match(stderr, /\nnerkit: stopping after the current step and saving a checkpoint \(Ctrl-C again to quit at once\)\n/);
  const stopped = /\nnerkit: stopped at step (\d+) of 50; saved (.*checkpoint-(\d+)): run the same command with --resume to continue from step (\d+)\n$/.exec(stderr);
  assert.ok(stopped, stderr);
  // SIGINT came before the end of the run: it stopped short of the 50 steps and wrote no final model.
  const step = Number(stopped[1]);
  assert.ok(step >= 1 && step < 50, `stopped at ${step}`);
  assert.deepEqual([Number(stopped[3]), Number(stopped[4])], [step, step]);
  assert.equal(readJson<{ updates: number }>(join(stopped[2], "trainer_state.json")).updates, step);
  assert.equal(logOf(out).length, step);
  assert.ok(!existsSync(join(out, "model.safetensors")));
  assert.doesNotMatch(stderr, /peak memory|trained model/);

  const resumed = nerkit([...args(out), "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming from .*checkpoint-${step} \\(step ${step} of 50\\)`));
  const whole = join(dir, "whole");
  assert.equal(nerkit(args(whole)).code, 0);
  assert.ok(maxSafetensorsDifference(join(out, "model.safetensors"), join(whole, "model.safetensors")) < 1e-6);
  assert.deepEqual(logOf(out).map((l) => l.update), Array.from({ length: 50 }, (_, i) => i + 1));
});
