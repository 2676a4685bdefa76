// The --out folder of a training run holds one run. Before a run starts this module refuses a
// folder that already holds something unless the run resumes it or overwrites it; on overwrite it
// removes the previous run, but only the names nerkit writes (any other file makes it refuse, so a
// mistyped --out never deletes a user's files); and it removes what a killed run left behind: the
// temporary folders and files of checkpoint writes (`.checkpoint-N.PID.tmp`) whose process is no
// longer alive. Temporaries of a live process are kept, so a second run started by mistake on the
// same folder cannot break the first one's checkpoint write. No lock keeps two runs apart.

import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { NerkitError } from "../errors.js";
import { TOKENIZER_FILES } from "../text/tokenizers/tokenizer-files.js";
import { REFERENCE_PROFILE_FILE } from "../metrics/reference-profile.js";

export interface RunFolderOptions {
  resume: boolean;
  overwrite: boolean;
  /** Folders the run reads (base model, tokenizer): --overwrite must not remove them. */
  reads?: (string | undefined)[];
}

/** Files of the trained model and the run's records, written by the trainer into --out (the
 * reference profile at the end, from --dev: a run that wrote it must be replaceable by --overwrite). */
const RUN_FILES = new Set(["config.json", "model.safetensors", "trainer_state.json", "training_log.jsonl", REFERENCE_PROFILE_FILE, ...TOKENIZER_FILES]);
const CHECKPOINT = /^checkpoint-\d+$/;
/** saveCheckpoint's temporary folder and the replaced checkpoint it keeps until the rename. */
const CHECKPOINT_TEMPORARY = /^\.(checkpoint-\d+)\.(\d+)\.(tmp|old)$/;
/** writeFileAtomic's and writeSafetensors' temporary file (name, process id, random suffix). */
const FILE_TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function isRunEntry(name: string): boolean {
  return RUN_FILES.has(name) || CHECKPOINT.test(name) || CHECKPOINT_TEMPORARY.test(name) || FILE_TEMPORARY.test(name);
}

function entries(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  if (!statSync(outDir).isDirectory()) throw new NerkitError("E_USAGE", `--out ${outDir} is a file, not a folder`);
  return readdirSync(outDir).sort();
}

const some = (names: string[]) => names.slice(0, 5).join(", ") + (names.length > 5 ? `, and ${names.length - 5} more` : "");

/** Refuses a folder this run cannot use; changes nothing (the CLI calls it before loading anything). */
export function checkRunFolder(outDir: string, options: RunFolderOptions): void {
  if (options.resume && options.overwrite) throw new NerkitError("E_USAGE", "give --resume or --overwrite, not both");
  const names = entries(outDir);
  if (names.length === 0 || options.resume) return;
  if (!options.overwrite) {
    throw new NerkitError(
      "E_USAGE",
      `--out ${outDir} is not empty (${some(names)}): give --resume to continue the run it holds, --overwrite to replace it, or another folder`,
    );
  }
  const inside = (options.reads ?? []).filter((dir): dir is string => dir !== undefined && existsSync(dir)).find((dir) => {
    const path = relative(resolve(outDir), resolve(dir));
    return !path.startsWith("..") && !isAbsolute(path);
  });
  if (inside) throw new NerkitError("E_USAGE", `--overwrite would remove ${inside}, which this run reads: write to another --out`);
  const foreign = names.filter((name) => !isRunEntry(name));
  if (foreign.length > 0) {
    throw new NerkitError("E_USAGE", `--overwrite: ${outDir} holds files nerkit did not write (${some(foreign)}); nothing was removed: move them away or choose another --out`);
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // our own id on a leftover: an earlier process that had the same id
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, but belongs to someone else
  }
}

/**
 * Removes the temporaries of killed runs (names with a process id that is no longer alive). A
 * replaced checkpoint (`.checkpoint-N.PID.old`) whose new version never arrived is put back.
 * Returns the names removed or restored.
 */
export function removeStaleTemporaries(outDir: string): string[] {
  const handled: string[] = [];
  for (const name of entries(outDir)) {
    const checkpoint = CHECKPOINT_TEMPORARY.exec(name);
    const file = checkpoint ? undefined : FILE_TEMPORARY.exec(name);
    const pid = Number(checkpoint?.[2] ?? file?.[1] ?? NaN);
    if (!Number.isInteger(pid) || isAlive(pid)) continue;
    if (checkpoint && checkpoint[3] === "old" && !existsSync(join(outDir, checkpoint[1]))) {
      renameSync(join(outDir, name), join(outDir, checkpoint[1]));
    } else {
      rmSync(join(outDir, name), { recursive: true, force: true });
    }
    handled.push(name);
  }
  return handled;
}

/**
 * Makes --out ready for a run: the checks of checkRunFolder, then the leftovers of killed runs
 * removed, and on overwrite the previous run's files removed (after the checks passed).
 */
export function openRunFolder(outDir: string, options: RunFolderOptions): void {
  checkRunFolder(outDir, options);
  removeStaleTemporaries(outDir);
  if (!options.overwrite) return;
  for (const name of entries(outDir)) {
    if (isRunEntry(name)) rmSync(join(outDir, name), { recursive: true, force: true });
  }
}
