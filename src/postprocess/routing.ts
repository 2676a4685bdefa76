// Confidence routing: each entity is accepted, sent for human review, or rejected by its score, with
// thresholds per entity type where given; a document needs review when any of its entities does.
// Rejected entities stay in the list, marked, so that the caller decides whether to show them.
// Precision targets (serve --target-precision): for the types a target covers, the accept threshold
// is the one calibration recorded for that target (null: nothing is auto-accepted, everything at or
// above the review threshold goes to review), the review threshold is clamped to it, and each of
// those entities says the threshold and the target it stands for. Manual per-type thresholds for a
// type a target covers are refused: one type, one accept threshold.
// Uncertain documents (serve --review-uncertain U): a document whose informativeness (the mean
// normalised entropy of its least certain words: metrics/informativeness.ts) is at least U goes to
// review even when none of its entities does, or it has none: the entities the model missed or
// half-saw are found only there, and routing by entity scores never shows them to a person.

import { NerkitError } from "../errors.js";
import { SpanEntity } from "./entity.js";

export type Decision = "accept" | "review" | "reject";
export type DocumentDecision = "accept" | "review";

export interface Thresholds {
  accept: number;
  review: number;
}

export interface RoutingOptions {
  /** 0.95 by default. */
  accept?: number;
  /** 0.80 by default. */
  review?: number;
  /** Per entity type; a threshold left out falls back to the global one. */
  perType?: Record<string, Partial<Thresholds>>;
  /** Accept thresholds standing for precision targets, per type; type "*" covers the types without
   * their own. An array, not a map: routing travels as JSON to `nerkit worker`s. */
  targets?: TargetThreshold[];
  /** A document at least this informative goes to review whatever its entities' scores; unset: never on informativeness alone. */
  uncertain?: number;
}

/** The accept threshold recorded for a precision target (calibration.json's thresholds). */
export interface TargetThreshold {
  /** An entity type, or "*" for every type without its own. */
  type: string;
  /** null: the target could not be shown on held-out data; nothing of the type is auto-accepted. */
  accept: number | null;
  target: number;
  confidence: number;
}

/** What a routed entity carries: its decision and, when a precision target covers its type, the accept threshold and the target. */
export type RoutedEntity<E> = E & { decision: Decision; threshold?: number | null; target?: number };

export interface Routed<E extends SpanEntity> {
  entities: Array<RoutedEntity<E>>;
  decision: DocumentDecision;
  /** Set when informativeness alone sent the document to review (RoutingOptions.uncertain). */
  uncertain?: true;
}

/** A type's resolved thresholds; `target` set when a precision target chose accept (Infinity: never). */
interface ResolvedThresholds extends Thresholds {
  target?: TargetThreshold;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = { accept: 0.95, review: 0.8 };

function checkThresholds(thresholds: Thresholds, field: string): Thresholds {
  for (const key of ["accept", "review"] as const) {
    const value = thresholds[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new NerkitError("E_USAGE", `${key} threshold must be a number between 0 and 1, got ${String(value)}`, {
        field: `${field}.${key}`,
      });
    }
  }
  if (thresholds.review > thresholds.accept) {
    throw new NerkitError(
      "E_USAGE",
      `review threshold (${thresholds.review}) must not exceed accept threshold (${thresholds.accept})`,
      { field: `${field}.review` },
    );
  }
  return thresholds;
}

/** The thresholds for each type (and "*" for the rest), checked: 0 ≤ review ≤ accept ≤ 1. */
export function resolveRouting(options: RoutingOptions = {}): Map<string, ResolvedThresholds> {
  const global = checkThresholds(
    { accept: options.accept ?? DEFAULT_THRESHOLDS.accept, review: options.review ?? DEFAULT_THRESHOLDS.review },
    "routing",
  );
  const resolved = new Map<string, ResolvedThresholds>([["*", global]]);
  const perType = options.perType ?? {};
  if (perType === null || typeof perType !== "object" || Array.isArray(perType)) {
    throw new NerkitError("E_USAGE", "routing.perType must map entity types to { accept?, review? }", { field: "routing.perType" });
  }
  for (const [type, partial] of Object.entries(perType)) {
    const thresholds = { accept: partial?.accept ?? global.accept, review: partial?.review ?? global.review };
    resolved.set(type, checkThresholds(thresholds, `routing.perType.${type}`));
  }
  if (options.uncertain !== undefined && !(typeof options.uncertain === "number" && options.uncertain >= 0 && options.uncertain <= 1)) {
    throw new NerkitError("E_USAGE", `the informativeness that sends a document to review must be a number between 0 and 1, got ${String(options.uncertain)}`, { field: "routing.uncertain" });
  }
  for (const target of checkTargets(options.targets)) {
    // "*" covers every type, so any manual per-type threshold would contradict it.
    const own = target.type === "*" ? Object.keys(perType)[0] : Object.hasOwn(perType, target.type) ? target.type : undefined;
    if (own !== undefined) {
      throw new NerkitError("E_USAGE", `entity type ${own} has a manual threshold (--threshold ${own}=...) and an accept threshold from --target-precision: give one of them`, { field: `routing.perType.${own}` });
    }
    const base = resolved.get(target.type) ?? global;
    // Never auto-accept: no finite score reaches Infinity (and NaN reaches nothing).
    const accept = target.accept ?? Infinity;
    resolved.set(target.type, { accept, review: Math.min(base.review, accept), target });
  }
  return resolved;
}

function checkTargets(targets: RoutingOptions["targets"]): TargetThreshold[] {
  if (targets === undefined) return [];
  if (!Array.isArray(targets)) throw new NerkitError("E_USAGE", "routing.targets must be an array of { type, accept, target, confidence }", { field: "routing.targets" });
  const seen = new Set<string>();
  for (const [i, t] of targets.entries()) {
    const field = `routing.targets[${i}]`;
    const unit = (v: unknown) => typeof v === "number" && v >= 0 && v <= 1;
    if (typeof t?.type !== "string" || t.type === "" || !(t.accept === null || unit(t.accept)) || !unit(t.target) || !unit(t.confidence)) {
      throw new NerkitError("E_USAGE", "a precision target needs a type, an accept threshold in [0, 1] or null, and target and confidence in [0, 1]", { field });
    }
    if (seen.has(t.type)) throw new NerkitError("E_USAGE", `two precision targets for entity type ${t.type}`, { field });
    seen.add(t.type);
  }
  return targets;
}

export function decide(score: number, thresholds: Thresholds): Decision {
  // A NaN score fails both comparisons and is rejected.
  if (score >= thresholds.accept) return "accept";
  if (score >= thresholds.review) return "review";
  return "reject";
}

/** Routes a document's entities; `informativeness`, when known, sends an uncertain document to review (options.uncertain). */
export function route<E extends SpanEntity>(entities: readonly E[], options: RoutingOptions = {}, informativeness?: number): Routed<E> {
  const thresholds = resolveRouting(options);
  const global = thresholds.get("*")!;
  const routed = entities.map((entity): RoutedEntity<E> => {
    const own = thresholds.get(entity.type) ?? global;
    const decision = decide(entity.score, own);
    if (!own.target) return { ...entity, decision };
    return { ...entity, decision, threshold: own.target.accept, target: own.target.target };
  });
  if (routed.some((entity) => entity.decision === "review")) return { entities: routed, decision: "review" };
  if (options.uncertain !== undefined && informativeness !== undefined && informativeness >= options.uncertain) {
    return { entities: routed, decision: "review", uncertain: true };
  }
  return { entities: routed, decision: "accept" };
}
