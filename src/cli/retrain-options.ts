// The options a retrain takes, the same on `nerkit retrain` and `nerkit serve` (whose retrains run
// in the background): the data (--train, --gold, --holdout), the gate (--promote-margin,
// --max-type-drop) and the trainer's few settings worth changing for a fine-tune (--epochs, --lr,
// --batch-size, --max-steps), turned into the library's RetrainSettings.

import { Command } from "commander";
import { NerkitError } from "../errors.js";
import type { BuildAppOptions } from "../serve/app.js";
import type { ModelRegistry } from "../serve/models/registry.js";
import { DEFAULT_RETRAIN, RetrainSettings } from "../serve/retrain/run.js";
import { integer, positiveNumber } from "./options.js";

export interface RetrainFlags {
  train?: string;
  gold?: string;
  holdout: number;
  promoteMargin: number;
  maxTypeDrop: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  maxSteps?: number;
}

function share(value: string): number {
  const x = Number(value);
  if (!(value.trim() !== "" && x >= 0 && x < 1)) throw new NerkitError("E_USAGE", `--holdout expects a share in [0, 1), got '${value}'`);
  return x;
}

function points(name: string): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (!(value.trim() !== "" && Number.isFinite(x) && x >= 0 && x <= 100)) throw new NerkitError("E_USAGE", `${name} expects points of F1 between 0 and 100, got '${value}'`);
    return x;
  };
}

/** Adds the retrain options to command. */
export function retrainOptions(command: Command): Command {
  return command
    .option("--train <file>", "retrain: the original training data (default: what the serving version records)")
    .option("--gold <file>", "retrain: gold data the gate judges candidate and serving on (default: the held-out reviewed documents)")
    .option("--holdout <x>", "retrain: share of reviewed documents held out (never trained on), by a hash of their id", share, DEFAULT_RETRAIN.holdout)
    .option("--promote-margin <points>", "retrain: promote only if micro F1 rises by at least this many points", points("--promote-margin"), DEFAULT_RETRAIN.promoteMargin)
    .option("--max-type-drop <points>", "retrain: and no entity type's F1 falls by more than this many points", points("--max-type-drop"), DEFAULT_RETRAIN.maxTypeDrop)
    .option("--epochs <n>", "retrain: epochs of the fine-tune (nerkit train's default: 3)", integer("--epochs"))
    .option("--lr <x>", "retrain: peak learning rate of the fine-tune (nerkit train's default: 2e-5)", positiveNumber("--lr"))
    .option("--batch-size <n>", "retrain: sentences per batch of the fine-tune", integer("--batch-size"))
    .option("--max-steps <n>", "retrain: stop the fine-tune after n steps", integer("--max-steps"));
}

/** The library's settings from the flags. */
export function retrainSettings(flags: RetrainFlags, threads?: number): RetrainSettings {
  const trainArgs: string[] = [];
  for (const [flag, value] of [["--epochs", flags.epochs], ["--lr", flags.lr], ["--batch-size", flags.batchSize], ["--max-steps", flags.maxSteps]] as const) {
    if (value !== undefined) trainArgs.push(flag, String(value));
  }
  return {
    holdout: flags.holdout,
    promoteMargin: flags.promoteMargin,
    maxTypeDrop: flags.maxTypeDrop,
    ...(flags.gold !== undefined ? { gold: flags.gold } : {}),
    ...(flags.train !== undefined ? { train: [flags.train] } : {}),
    trainArgs,
    threads,
  };
}

/** What `nerkit serve` hands buildApp for retraining: the server's own model registry (so that a
 * promotion swaps the model it serves), the retrain settings and --retrain-after. */
export function serveRetrain(flags: RetrainFlags & { retrainAfter?: number }, registry: ModelRegistry, threads?: number): NonNullable<BuildAppOptions["retrain"]> {
  if (flags.retrainAfter !== undefined && !(Number.isInteger(flags.retrainAfter) && flags.retrainAfter > 0)) {
    throw new NerkitError("E_USAGE", `--retrain-after expects a number of reviews > 0, got ${flags.retrainAfter}`);
  }
  // The server's own registry: a promotion by a retrain swaps the model it serves.
  return { registry, settings: retrainSettings(flags, threads), after: flags.retrainAfter };
}
