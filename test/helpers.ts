// What tests share: the repository root (found from the compiled test's location), the reference
// fixtures in ../shared (read in place, never copied), temporary folders (removed when the test
// process exits), and the CLI run as a child process.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NerkitError } from "../src/errors.js";

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above " + start);
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const sharedDir = resolve(process.env.NERKIT_SHARED ?? join(repoRoot, "..", "shared"));
export const fixturesDir = join(sharedDir, "fixtures");
export const conllDir = join(sharedDir, "data", "conll2003");

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

const tempDirs = new Set<string>();
// One exit handler for every folder tempDir made: a test file cannot forget to remove one, and a
// test that failed half way leaves nothing either. (A process killed by a signal still can.)
process.once("exit", () => {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A child process still writing there can make removal fail; an exit handler must not throw.
    }
  }
});

/** A new folder in the temp folder, removed with its contents when this test process exits. */
export function tempDir(prefix = "nerkit-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Runs `fn`, expecting a NerkitError (with `code`, when given), and returns it. */
export function nerkitError(fn: () => unknown, code?: string): NerkitError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof NerkitError, `expected a NerkitError, got ${String(error)}`);
    if (code) assert.equal(error.code, code, error.describe());
    return error;
  }
  assert.fail("expected a NerkitError");
}

export const nerkitBin = join(repoRoot, "bin", "nerkit.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nerkit ARGS` as a user would, in a child process, with `input` on its standard input. */
export function nerkit(args: readonly string[], input?: string, env: NodeJS.ProcessEnv = process.env): CliRun {
  const run = spawnSync(process.execPath, [nerkitBin, ...args], { encoding: "utf8", input, env });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}
