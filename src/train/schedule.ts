// Learning-rate schedule and AdamW's bias corrections, as transformers computes them:
// get_linear_schedule_with_warmup: lr(s) = base · s / warmup while s < warmup, then
// base · max(0, (total − s) / (total − warmup)), for optimizer step s = 0, 1, …

export function linearScheduleLr(base: number, step: number, warmup: number, total: number): number {
  if (step < warmup) return (base * step) / Math.max(1, warmup);
  return base * Math.max(0, (total - step) / Math.max(1, total - warmup));
}

/** Warm-up steps from --warmup-steps or --warmup-ratio (transformers rounds the ratio up). */
export function warmupSteps(total: number, steps?: number, ratio?: number): number {
  if (steps !== undefined && steps > 0) return steps;
  return ratio ? Math.ceil(total * ratio) : 0;
}

/** 1 − βᵗ for the t-th update (t from 1), in double precision. */
export function biasCorrection(beta: number, t: number): number {
  return 1 - beta ** t;
}
