// Isotonic regression of "the entity is right" (1 or 0) on the raw score: the non-decreasing
// step function closest to the outcomes in squared error, found by pool-adjacent-violators
// (Barlow et al. 1972; Zadrozny & Elkan 2002 for calibration). Entities with equal scores are one
// point first, weighted by their count, with their mean outcome (sklearn's IsotonicRegression does
// the same). The result is an IsotonicMap (../calibration-file.ts): the first and last score of
// each pooled block as breakpoints, linear between blocks, clamped outside, redundant points of a
// flat run removed. On the fitting data each entity thus maps to its block's mean.
// Per type: a type with fewer than ISOTONIC_MIN_ENTITIES held-out entities has no map of its own
// and uses "*", fitted on all entities pooled.

import { IsotonicMap } from "../calibration-file.js";
import { ScoredOutcome } from "./entity-sample.js";

/** Held-out entities a type needs for a map of its own; below it the pooled "*" map serves. */
export const ISOTONIC_MIN_ENTITIES = 50;

interface Block {
  /** Sum of weights and of weighted outcomes. */
  weight: number;
  total: number;
  first: number;
  last: number;
}

const mean = (b: Block) => b.total / b.weight;

/** The isotonic map of outcomes on scores (at least one outcome). */
export function fitIsotonic(outcomes: readonly ScoredOutcome[]): IsotonicMap {
  if (outcomes.length === 0) throw new RangeError("fitIsotonic needs at least one entity");
  const sorted = [...outcomes].sort((a, b) => a.score - b.score);
  const blocks: Block[] = [];
  for (let i = 0; i < sorted.length; ) {
    // Ties: one point, weighted by how many entities share the score.
    const x = sorted[i].score;
    const point: Block = { weight: 0, total: 0, first: x, last: x };
    for (; i < sorted.length && sorted[i].score === x; i++) {
      point.weight++;
      if (sorted[i].correct) point.total++;
    }
    blocks.push(point);
    // Pool while the block before has a higher mean (a violation of monotonicity).
    while (blocks.length > 1 && mean(blocks[blocks.length - 2]) > mean(blocks[blocks.length - 1])) {
      const top = blocks.pop()!;
      const below = blocks[blocks.length - 1];
      below.weight += top.weight;
      below.total += top.total;
      below.last = top.last;
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (const block of blocks) {
    for (const at of block.first === block.last ? [block.first] : [block.first, block.last]) {
      x.push(at);
      y.push(mean(block));
    }
  }
  // A point whose neighbours both have its value adds nothing to a linear interpolation.
  const keep = x.map((_, i) => i === 0 || i === x.length - 1 || y[i - 1] !== y[i] || y[i] !== y[i + 1]);
  return { x: x.filter((_, i) => keep[i]), y: y.filter((_, i) => keep[i]) };
}

/** A map per type with at least `minimum` entities, and "*" over all of them. */
export function fitIsotonicPerType(byType: ReadonlyMap<string, readonly ScoredOutcome[]>, minimum = ISOTONIC_MIN_ENTITIES): Map<string, IsotonicMap> {
  const maps = new Map<string, IsotonicMap>();
  for (const [type, outcomes] of byType) if (type !== "*" && outcomes.length >= minimum) maps.set(type, fitIsotonic(outcomes));
  maps.set("*", fitIsotonic([...byType.values()].flat()));
  return maps;
}
