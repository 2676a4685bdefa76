// The trainer of a retrain as a child process: `nerkit train --model <serving folder> --train FILE
// --out <reserved folder>`, so that training (minutes of CPU, gigabytes of memory) never blocks or
// endangers the process that serves, and a trainer killed by anyone (SIGKILL, the OOM killer) ends
// only itself. Its output (stdout and stderr, line by line) is appended to a log file and reported;
// progress comes from the trainer's plain progress lines ("step 20/200 ...", written when stderr
// is not a terminal).
// The trainer must not outlive its parent (a server or worker killed with SIGKILL cannot stop it):
// it is given an IPC channel and NERKIT_EXIT_WITH_PARENT, and exits as soon as that channel closes
// (cli/exit-with-parent.ts). Stopping it (the signal) sends SIGINT, so it ends after its current
// step, and SIGKILL if it has not ended STOP_GRACE_MS later (a step of a large model can be long).
// What it leaves out: resuming a killed trainer (a retrain that fails is started again whole).

import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { packageRoot } from "../../package-root.js";

export interface TrainerOptions {
  model: string;
  train: string;
  out: string;
  /** More `nerkit train` options (--epochs, --lr, --max-steps, --batch-size, --threads, ...). */
  args?: readonly string[];
  /** Every line the trainer writes, as it comes. */
  log: string;
  onLine?: (line: string) => void;
  /** Steps done and in all, from the trainer's progress lines. */
  onProgress?: (step: number, steps: number) => void;
  /** The child's process id, once it runs. */
  onStart?: (pid: number) => void;
  /** Aborting sends SIGINT: the trainer stops after its current step. */
  signal?: AbortSignal;
}

const STEP = /^step (\d+)\/(\d+)\b/;
const STOP_GRACE_MS = 10_000;

/** Runs the trainer to its end; throws NerkitError E_RETRAIN naming how it ended when it fails. */
export async function runTrainer(options: TrainerOptions): Promise<void> {
  if (options.signal?.aborted) throw new NerkitError("E_RETRAIN", "the retrain was stopped before its trainer started");
  const args = [join(packageRoot, "bin", "nerkit.js"), "train", "--model", options.model, "--train", options.train, "--out", options.out, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"], env: { ...process.env, NERKIT_EXIT_WITH_PARENT: "1" } });
  // The channel is only the child's way to see this process die: it must not keep this one alive.
  child.channel?.unref();
  let killer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    child.kill("SIGINT");
    killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    killer.unref();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const lines = (stream: NodeJS.ReadableStream) => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      pending += chunk;
      const parts = pending.split(/\r?\n|\r/);
      pending = parts.pop() ?? "";
      for (const line of parts) take(line);
    });
    stream.on("end", () => pending !== "" && take(pending));
  };
  const take = (line: string) => {
    appendFileSync(options.log, line + "\n");
    options.onLine?.(line);
    const step = STEP.exec(line);
    if (step) options.onProgress?.(Number(step[1]), Number(step[2]));
  };
  lines(child.stdout!);
  lines(child.stderr!);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once("error", reject);
      child.once("spawn", () => child.pid !== undefined && options.onStart?.(child.pid));
      child.once("close", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    if (code === 0) return;
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    throw new NerkitError("E_RETRAIN", `the trainer (nerkit train) ${how}; its output is in ${options.log}`);
  } finally {
    clearTimeout(killer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
