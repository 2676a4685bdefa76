// Routing that follows the model version (serve --target-precision): each version's accept
// thresholds are those its own calibration.json records for the targets serve was started with, so
// that after a promotion a text is routed on the thresholds of the version that read it (a batch
// that straddles a swap included). The calibration of a version is read when it is about to serve:
// check() refuses a version whose calibration lacks a target (E_MODEL_CALIBRATION, naming the target
// and the command that records it: the promotion is refused, the old version keeps serving);
// remember() accepts it anyway, routing each type it lacks a threshold for to review, for a version
// that already serves because another process promoted it (a `nerkit retrain`, a worker following
// the database). Never the raw --accept threshold for a type a target covers.
// followServedVersion wires it, with the drift monitor's switch to the new version's reference
// profile, to a registry's swaps (the server's, app.ts).
// What it leaves out: choosing thresholds (`nerkit calibrate`) and routing itself (postprocess/routing.ts).

import { NerkitError } from "../../errors.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import type { CalibrationFile } from "../../metrics/calibration-file.js";
import type { RoutingOptions } from "../../postprocess/routing.js";
import { PrecisionAsk, askedTargets, targetThresholds } from "../precision-routing.js";
import type { DriftMonitor } from "../drift/monitor.js";
import { loadReferenceProfile } from "../drift/reference.js";
import type { ModelRegistry } from "./registry.js";

export interface VersionFolder {
  id: string;
  folder: string;
}

export class VersionCalibrations {
  /** Each version's calibration.json as read when it last came to serve (undefined: it has none). */
  private readonly byVersion = new Map<string, CalibrationFile | undefined>();

  /** Throws E_MODEL_CALIBRATION when `version` cannot route on `ask`; remembers its calibration otherwise. */
  check(version: VersionFolder, ask: PrecisionAsk): void {
    let calibration: CalibrationFile | undefined;
    try {
      calibration = readModelCalibration(version.folder);
      targetThresholds(calibration, askedTargets(ask), ask.confidence, version.folder, "error");
    } catch (error) {
      if (!(error instanceof NerkitError)) throw error;
      throw new NerkitError("E_MODEL_CALIBRATION", `model version ${version.id} is not promoted: serve routes on --target-precision, and ${error.describe()}; then promote it again`);
    }
    this.byVersion.set(version.id, calibration);
  }

  /**
   * Remembers `version`'s calibration whatever it holds; with `ask`, answers why some types are
   * routed to review (what check() would have refused it for), or undefined when none is.
   */
  remember(version: VersionFolder, ask?: PrecisionAsk): string | undefined {
    const calibration = readModelCalibration(version.folder);
    this.byVersion.set(version.id, calibration);
    if (!ask) return undefined;
    try {
      targetThresholds(calibration, askedTargets(ask), ask.confidence, version.folder, "error");
      return undefined;
    } catch (error) {
      if (!(error instanceof NerkitError)) throw error;
      return `model version ${version.id}: ${error.message}; until then the types it lacks a threshold for go to review (none is auto-accepted)`;
    }
  }

  knows(version: string | undefined): boolean {
    return version !== undefined && this.byVersion.has(version);
  }

  /**
   * The routing for a text read by `version`: `base` with the targets of `ask` taken from that
   * version's calibration; `base` as it is for a version never remembered (the one serve started
   * with, whose thresholds `base` already holds, or a model outside the registry).
   */
  routing(base: RoutingOptions, ask: PrecisionAsk | undefined, version: string | undefined): RoutingOptions {
    if (!ask || version === undefined || !this.byVersion.has(version)) return base;
    const targets = targetThresholds(this.byVersion.get(version), askedTargets(ask), ask.confidence, version, "review");
    return { ...base, targets };
  }
}

/**
 * On each swap of `registry`'s served model: a promotion asked of this process is checked against
 * `precision` (refused when the version lacks a threshold), a version another process promoted is
 * remembered (with a warning naming what goes to review), and the drift monitor takes the new
 * version's reference profile. Answers the routing of the version that read a text.
 */
export function followServedVersion(
  registry: ModelRegistry | undefined,
  options: { routing: RoutingOptions; precision?: PrecisionAsk; drift: DriftMonitor; warn: (line: string) => void },
): (version: string | undefined) => RoutingOptions {
  const calibrations = new VersionCalibrations();
  registry?.watch?.({
    prepare: (version, cause) => {
      if (cause === "promote" && options.precision) return calibrations.check(version, options.precision);
      const lacking = calibrations.remember(version, options.precision);
      if (lacking) options.warn(lacking);
    },
    swapped: (version) => options.drift.switchTo(version.id, loadReferenceProfile(version.folder)),
  });
  return (version) => calibrations.routing(options.routing, options.precision, version);
}
