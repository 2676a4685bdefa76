// serve --target-precision: the accept thresholds that `nerkit calibrate --target-precision` recorded
// in the model folder's calibration.json, picked for the targets and the confidence asked for, as
// routing's TargetThreshold list. Anything missing (no calibration, no thresholds, a target or a
// confidence not recorded, two targets for one type) is a start-up error naming the command to run;
// for a version that serves because another process promoted it (missing: "review"), a target it
// records no threshold for is routed to review instead (accept null), never to the raw thresholds.
// The asked targets travel as a PrecisionAsk (plain JSON) to whatever derives a version's thresholds
// after a promotion (models/version-routing.ts, `nerkit worker` with each chunk).
// What it leaves out: choosing thresholds (metrics/precision-thresholds.ts) and routing itself
// (postprocess/routing.ts).

import { NerkitError } from "../errors.js";
import { join } from "node:path";
import { CALIBRATION_FILE, CalibrationFile, PrecisionThreshold } from "../metrics/calibration-file.js";
import { DEFAULT_CONFIDENCE, PrecisionTargets } from "../metrics/precision-thresholds.js";
import { TargetThreshold } from "../postprocess/routing.js";

/** --target-precision and --confidence as asked, in JSON form (chunks carry it to workers). */
export interface PrecisionAsk {
  all: number[];
  perType: Array<[string, number[]]>;
  confidence: number;
}

export function precisionAsk(targets: PrecisionTargets, confidence: number): PrecisionAsk {
  return { all: [...targets.all], perType: [...targets.perType].map(([type, list]) => [type, [...list]]), confidence };
}

export function askedTargets(ask: PrecisionAsk): PrecisionTargets {
  return { all: [...ask.all], perType: new Map(ask.perType.map(([type, list]) => [type, [...list]])) };
}

/** What a calibration lacks for an ask: "error" refuses (start-up, a promotion), "review" routes those types to review. */
export type MissingThreshold = "error" | "review";

/** Recorded values are written from the same decimal flags; a tolerance only absorbs printing. */
const same = (a: number, b: number) => Math.abs(a - b) < 1e-9;

function recorded(records: readonly PrecisionThreshold[] | undefined, target: number, confidence: number): PrecisionThreshold | undefined {
  return records?.find((r) => same(r.target, target) && same(r.confidence, confidence));
}

/**
 * The routing targets for serve: one per type named in `targets`, and "*" (every other type) when a
 * target for every type is given. Under "*", a type the calibration recorded no threshold for (it
 * had no held-out entity) is never auto-accepted; a type it did record but not for this target and
 * confidence is an error, since the calibration was run with other targets.
 */
export function targetThresholds(calibration: CalibrationFile | undefined, targets: PrecisionTargets, confidence: number, modelDir: string, missing: MissingThreshold = "error"): TargetThreshold[] {
  const lists = [targets.all, ...targets.perType.values()];
  if (lists.every((list) => list.length === 0)) return [];
  if (lists.some((list) => list.length > 1)) {
    throw new NerkitError("E_USAGE", "--target-precision: serve routes each entity type by one target; give one value for every type (0.95) and at most one per type (PER=0.97)");
  }
  const flags = (target: number, type?: string) =>
    `--target-precision ${type === undefined ? "" : `${type}=`}${target}${same(confidence, DEFAULT_CONFIDENCE) ? "" : ` --confidence ${confidence}`}`;
  const run = (target: number, type?: string) => `nerkit calibrate --model ${modelDir} --data dev.conll ${flags(target, type)}`;
  const first = targets.all[0] ?? targets.perType.values().next().value![0];
  const review = missing === "review";
  if (!calibration && review) return [...[...targets.perType].map(([type, [target]]) => ({ type, accept: null, target, confidence })), ...targets.all.map((target) => ({ type: "*", accept: null, target, confidence }))];
  if (!calibration) throw new NerkitError("E_USAGE", `--target-precision needs the model's calibration: ${modelDir} has no ${CALIBRATION_FILE}; run \`${run(first)}\` (held-out data the model did not train on)`);
  const thresholds = calibration.thresholds ?? new Map<string, PrecisionThreshold[]>();
  const result: TargetThreshold[] = [];
  for (const [type, [target]] of targets.perType) {
    const record = recorded(thresholds.get(type), target, confidence);
    if (!record && review) result.push({ type, accept: null, target, confidence });
    else if (!record) throw new NerkitError("E_USAGE", `${CALIBRATION_FILE} records no threshold for ${type} at precision ${target}, confidence ${confidence}; run \`${run(target, type)}\``, { file: join(modelDir, CALIBRATION_FILE) });
    else result.push({ type, accept: record.threshold, target, confidence });
  }
  if (targets.all.length === 1) {
    const target = targets.all[0];
    const lacking: string[] = [];
    for (const [type, records] of thresholds) {
      if (targets.perType.has(type)) continue;
      const record = recorded(records, target, confidence);
      if (record) result.push({ type, accept: record.threshold, target, confidence });
      else if (review) result.push({ type, accept: null, target, confidence });
      else lacking.push(type);
    }
    if (!review && (lacking.length > 0 || thresholds.size === 0)) {
      const which = lacking.length > 0 ? ` for ${lacking.join(", ")}` : "";
      throw new NerkitError("E_USAGE", `${CALIBRATION_FILE} records no threshold${which} at precision ${target}, confidence ${confidence}; run \`${run(target)}\``, { file: join(modelDir, CALIBRATION_FILE) });
    }
    result.push({ type: "*", accept: null, target, confidence });
  }
  return result;
}

/** One line for the start-up log: each type's accept threshold and the target it stands for. */
export function describeTargets(targets: readonly TargetThreshold[]): string {
  return targets
    .map((t) => `${t.type === "*" ? "other types" : t.type}: ${t.accept === null ? "no auto-accept" : `accept >= ${t.accept.toFixed(4)}`} (precision ${t.target}, confidence ${t.confidence})`)
    .join("; ");
}
