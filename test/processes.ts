// Real `nerkit` processes for the crash tests: bin/nerkit.js spawned as a user runs it, its stderr
// kept to wait on ("listening on", "worker ready") and to show when something goes wrong; waitUntil,
// which polls a condition (a database row, a queue count) with a deadline; and deadPid, the id of a
// process that is no longer running (for leftovers of killed processes).

import { ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { Readable } from "node:stream";
import { repoRoot } from "./helpers.js";

export interface NerkitProcess {
  child: ChildProcessByStdio<null, null, Readable>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Resolves with the first match of pattern in stderr; rejects if the process exits first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** as: the user and group to run it as (root only), and its working folder. */
export function spawnNerkit(args: readonly string[], as: { uid?: number; gid?: number; cwd?: string } = {}): NerkitProcess {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "nerkit.js"), ...args], { stdio: ["ignore", "ignore", "pipe"], ...as });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(stderr);
        if (!match) return;
        done();
        resolve(match);
      };
      const onExit = (code: number | null) => {
        done();
        reject(new Error(`nerkit ${args[0]} exited (${code}) before printing ${pattern}:\n${stderr}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`nerkit ${args[0]} did not print ${pattern} in ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        child.stderr.off("data", check);
        child.off("exit", onExit);
      };
      child.stderr.on("data", check);
      child.on("exit", onExit);
      check();
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode);
    });
  return { child, stderr: () => stderr, exited, waitFor };
}

/** Polls until condition() answers something other than undefined (every intervalMs), or throws after timeoutMs. */
export async function waitUntil<T>(condition: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000, intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A process id that is not running: that of a child which has exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  if (child.status !== 0) throw new Error("cannot start a child process");
  return child.pid!;
}
