// Confidence bounds for a proportion (k successes in n trials): the exact Clopper-Pearson bounds,
// one-sided and two-sided, from the inverse of the regularized incomplete beta function, and the
// Wilson score interval. Used for precision: k right entities among n accepted ones.
// What it leaves out: other intervals (Agresti-Coull, Jeffreys) and continuity corrections.
//
// I_x(a, b) = B(x; a, b) / B(a, b), by its continued fraction (DLMF 8.17.22, evaluated with the
// modified Lentz method), used directly where it converges fast, x < (a + 1) / (a + b + 2), and
// through I_x(a, b) = 1 − I_{1−x}(b, a) elsewhere. The inverse is found by bisection on [0, 1]:
// slower than Newton's method but it cannot leave the interval or diverge, and 0 < p < 1 has
// exactly one root since I_x is strictly increasing in x.
//
// Clopper & Pearson (1934), "The use of confidence or fiducial limits illustrated in the case of the
// binomial", Biometrika 26: the lower bound at confidence c is the (1 − c) quantile of
// Beta(k, n − k + 1). Wilson (1927), "Probable inference, the law of succession, and statistical
// inference", JASA 22.

import { NerkitError } from "../errors.js";

/** ln Γ(x) for x > 0: Lanczos' approximation (g = 7, 9 coefficients; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const TINY = 1e-300;
/** A factor this close to 1 changes f by less than its last few bits. */
const EPSILON = 1e-15;
const MAX_TERMS = 10_000;

/** The continued fraction of I_x(a, b) without its prefactor (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= MAX_TERMS; m++) {
    // The even step d_{2m}, then the odd step d_{2m+1}.
    for (const numerator of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + numerator * d;
      if (Math.abs(d) < TINY) d = TINY;
      c = 1 + numerator / c;
      if (Math.abs(c) < TINY) c = TINY;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < EPSILON) return f;
    }
  }
  // Convergence takes O(sqrt(max(a, b))) terms; 10,000 covers counts far beyond any data set.
  throw new Error(`the incomplete beta's continued fraction did not converge for x=${x}, a=${a}, b=${b}`);
}

/** The regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedBeta needs a, b > 0, got a=${a}, b=${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta needs 0 <= x <= 1, got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaFraction(1 - x, b, a)) / b;
}

/** The x with I_x(a, b) = p (the p quantile of Beta(a, b)), by bisection to the last bit. */
export function inverseRegularizedBeta(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`inverseRegularizedBeta needs 0 <= p <= 1, got ${p}`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  let low = 0;
  let high = 1;
  // Each step halves the interval; stops when the midpoint is one of the ends (adjacent doubles).
  for (let i = 0; i < 1100; i++) {
    const mid = 0.5 * (low + high);
    if (mid === low || mid === high) break;
    if (regularizedBeta(mid, a, b) < p) low = mid;
    else high = mid;
  }
  return 0.5 * (low + high);
}

function checkCounts(k: number, n: number, confidence: number): void {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(k) && k >= 0 && k <= n)) {
    throw new NerkitError("E_USAGE", `a proportion needs whole counts 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new NerkitError("E_USAGE", `confidence must be between 0 and 1 (exclusive), got ${confidence}`);
}

/** One-sided Clopper-Pearson lower bound: P(true proportion ≥ bound) ≥ confidence. 0 for k = 0 (and n = 0). */
export function clopperPearsonLower(k: number, n: number, confidence = 0.95): number {
  checkCounts(k, n, confidence);
  if (k === 0) return 0;
  return inverseRegularizedBeta(1 - confidence, k, n - k + 1);
}

export interface Interval {
  low: number;
  high: number;
}

/** The two-sided Clopper-Pearson interval at `confidence` (each tail (1 − confidence) / 2). n = 0 gives [0, 1]. */
export function clopperPearsonInterval(k: number, n: number, confidence = 0.95): Interval {
  checkCounts(k, n, confidence);
  const tail = (1 - confidence) / 2;
  return {
    low: k === 0 ? 0 : inverseRegularizedBeta(tail, k, n - k + 1),
    high: k === n ? 1 : inverseRegularizedBeta(1 - tail, k + 1, n - k),
  };
}

/**
 * The standard normal quantile Φ⁻¹(p), 0 < p < 1: Acklam's rational approximation (relative error
 * below 1.2e-9; P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
 * function", 2003). Enough for an interval's z (1.959963985 at 95%).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The two-sided Wilson score interval at `confidence`. n = 0 gives [0, 1] (nothing is known). */
export function wilsonInterval(k: number, n: number, confidence = 0.95): Interval {
  checkCounts(k, n, confidence);
  if (n === 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = k / n;
  const z2n = (z * z) / n;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  // At k = 0 the low end is exactly 0 and at k = n the high end exactly 1 (center and half then
  // differ or add by exactly the same amount); rounding would leave a hair on either side, and an
  // interval for n of n right that stopped at 0.9999999999999999 would not cover a precision of 1.
  return { low: k === 0 ? 0 : Math.max(0, center - half), high: k === n ? 1 : Math.min(1, center + half) };
}
