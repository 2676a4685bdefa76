// Model and rule entities combined into one list without overlaps. Candidates are ranked (a rule
// match whose checksum passed first, then the longer span, then the higher (raw: disjoint.ts) score, then model before
// rule, then input order) and taken greedily, each kept only if it overlaps nothing kept before it.
// The same ranking settles overlaps within the model's own list and among rules.

import { RuleEntity, SpanEntity, overlaps } from "./entity.js";
import { rankingScore } from "./disjoint.js";

export type ModelEntity<M extends SpanEntity> = M & { source: "model" };
export type MergedEntity<M extends SpanEntity = SpanEntity> = ModelEntity<M> | RuleEntity;

function validated(entity: MergedEntity<SpanEntity>): boolean {
  return entity.source === "rule" && entity.validated;
}

/** Non-overlapping entities, sorted by start (ties: shorter first, then input order). */
export function mergeEntities<M extends SpanEntity>(model: readonly M[], rules: readonly RuleEntity[]): MergedEntity<M>[] {
  const candidates: MergedEntity<M>[] = [...model.map((entity) => ({ ...entity, source: "model" as const })), ...rules];
  const order = candidates.map((_, index) => index);
  order.sort((i, j) => {
    const a = candidates[i];
    const b = candidates[j];
    return (
      Number(validated(b)) - Number(validated(a)) ||
      b.end - b.start - (a.end - a.start) ||
      (rankingScore(b) > rankingScore(a) ? 1 : rankingScore(b) < rankingScore(a) ? -1 : 0) ||
      i - j // model entities come first in `candidates`, so this also puts model before rule
    );
  });
  const kept: number[] = [];
  for (const index of order) {
    if (kept.every((other) => !overlaps(candidates[index], candidates[other]))) kept.push(index);
  }
  kept.sort((i, j) => candidates[i].start - candidates[j].start || candidates[i].end - candidates[j].end || i - j);
  return kept.map((index) => candidates[index]);
}
