// Confidence routing: each entity is accepted, sent for human review, or rejected by its score, with
// thresholds per entity type where given; a document needs review when any of its entities does.
// Rejected entities stay in the list, marked, so that the caller decides whether to show them.

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
}

export interface Routed<E extends SpanEntity> {
  entities: Array<E & { decision: Decision }>;
  decision: DocumentDecision;
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
export function resolveRouting(options: RoutingOptions = {}): Map<string, Thresholds> {
  const global = checkThresholds(
    { accept: options.accept ?? DEFAULT_THRESHOLDS.accept, review: options.review ?? DEFAULT_THRESHOLDS.review },
    "routing",
  );
  const resolved = new Map<string, Thresholds>([["*", global]]);
  const perType = options.perType ?? {};
  if (perType === null || typeof perType !== "object" || Array.isArray(perType)) {
    throw new NerkitError("E_USAGE", "routing.perType must map entity types to { accept?, review? }", { field: "routing.perType" });
  }
  for (const [type, partial] of Object.entries(perType)) {
    const thresholds = { accept: partial?.accept ?? global.accept, review: partial?.review ?? global.review };
    resolved.set(type, checkThresholds(thresholds, `routing.perType.${type}`));
  }
  return resolved;
}

export function decide(score: number, thresholds: Thresholds): Decision {
  // A NaN score fails both comparisons and is rejected.
  if (score >= thresholds.accept) return "accept";
  if (score >= thresholds.review) return "review";
  return "reject";
}

export function route<E extends SpanEntity>(entities: readonly E[], options: RoutingOptions = {}): Routed<E> {
  const thresholds = resolveRouting(options);
  const global = thresholds.get("*") as Thresholds;
  const routed = entities.map((entity) => ({ ...entity, decision: decide(entity.score, thresholds.get(entity.type) ?? global) }));
  return { entities: routed, decision: routed.some((entity) => entity.decision === "review") ? "review" : "accept" };
}
