// The population stability index between a reference histogram and a current one, over the same
// bins: PSI = Σ_i (p_i − q_i) · ln(p_i / q_i), p the current shares, q the reference shares
// (Yurdakul, "Statistical properties of population stability index", 2018, eq. 1). An empty bin
// would make ln(p/q) infinite: each share is raised to at least PSI_EPSILON (1e-4) first, without
// renormalising, so one bin that one side never fills adds at most about share · ln(share / 1e-4)
// (0.46 for a 5% bin). What it leaves out: significance; the caller decides how many observations
// a PSI needs before it means anything (serve's drift monitor: ../serve/drift/monitor.ts).

export const PSI_EPSILON = 1e-4;

/** Counts → shares; all zero when the counts sum to 0. */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** PSI of `current` against `reference` (counts over the same bins); 0 when either side is empty. */
export function psi(reference: readonly number[], current: readonly number[], epsilon = PSI_EPSILON): number {
  if (reference.length !== current.length) throw new Error(`psi: ${reference.length} reference bins but ${current.length} current bins`);
  const q = shares(reference);
  const p = shares(current);
  if (q.every((x) => x === 0) || p.every((x) => x === 0)) return 0;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = Math.max(p[i], epsilon);
    const qi = Math.max(q[i], epsilon);
    sum += (pi - qi) * Math.log(pi / qi);
  }
  return sum;
}
