// How the distillation bench runs its steps: the `nerkit` CLI as a child process (without blocking
// the event loop, its stderr kept for the message of a failure), progress lines on stderr with the
// seconds elapsed, and stages cached on disk. A stage's folder gets a done.json (its seconds and
// when it finished) once it has succeeded; a later run with the same settings (the folder's name
// says them) reuses it. A training run killed part-way is resumed from its last checkpoint
// (`--resume`), or replaced (`--overwrite`) when it wrote none. Left out: what the stages are
// (run.mjs) and what is measured on them (measure.mjs).

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const started = performance.now();
export const elapsed = (from = started) => (performance.now() - from) / 1000;
export const log = (line) => process.stderr.write(`[${elapsed().toFixed(0).padStart(5)} s] ${line}\n`);

/** A child process; resolves with its stdout, rejects with the end of its stderr. */
export function run(command, args, what, options = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], cwd: root, ...options });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolveRun(stdout) : reject(new Error(`${what}: ${[command, ...args].join(" ")} exited ${code ?? signal}:\n${stderr}`))));
  });
}

export const nerkit = (args, what) => run(process.execPath, [join(root, "bin", "nerkit.js"), ...args], what);

/** Every stage run or reused, in order: {stage, seconds, reused}. */
export const timings = [];

/**
 * Runs make() once for dir: when dir/done.json exists the stage is reused. make() gets dir and
 * does the work; its result (JSON) is kept in done.json and returned.
 */
export async function stage(name, dir, make) {
  const doneFile = join(dir, "done.json");
  if (existsSync(doneFile)) {
    const done = JSON.parse(readFileSync(doneFile, "utf8"));
    timings.push({ stage: name, seconds: done.seconds, reused: true });
    log(`${name}: reused ${dir} (made in ${done.seconds.toFixed(0)} s)`);
    return done.result;
  }
  mkdirSync(dir, { recursive: true });
  log(`${name} → ${dir}`);
  const t = performance.now();
  const result = await make(dir);
  const seconds = elapsed(t);
  writeFileSync(doneFile, JSON.stringify({ seconds, finished: new Date().toISOString(), result }, null, 2));
  timings.push({ stage: name, seconds, reused: false });
  log(`${name}: done in ${seconds.toFixed(0)} s`);
  return result;
}

/** A measurement that is made afresh every run (speed depends on the machine at the time): timed, not cached. */
export async function timed(name, measure) {
  const t = performance.now();
  const result = await measure();
  timings.push({ stage: name, seconds: elapsed(t), reused: false });
  return result;
}

/** --resume when a killed run left a checkpoint in out, --overwrite when it left anything else, nothing for a new folder. */
export function continueFlags(out) {
  if (!existsSync(out)) return [];
  const names = readdirSync(out);
  if (names.some((n) => /^checkpoint-\d+$/.test(n) && existsSync(join(out, n, "trainer_state.json")))) return ["--resume"];
  return names.length > 0 ? ["--overwrite"] : [];
}
