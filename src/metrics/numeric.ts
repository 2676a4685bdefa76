// The few numeric routines whose rounding must follow numpy and Python exactly, so that nerkit's
// metrics equal seqeval's to the last bit and its reports print the same digits.

/**
 * numpy's float64 `add.reduce` over a contiguous array: pairwise summation in blocks of 8
 * (numpy/core/src/umath/loops_utils.h.src, pairwise_sum), checked against numpy 1.24.
 */
export function numpySum(values: ArrayLike<number>): number {
  return pairwiseSum(values, 0, values.length);
}

function pairwiseSum(a: ArrayLike<number>, offset: number, n: number): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += a[offset + i];
    return sum;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[offset + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[offset + i + j];
    let sum = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) sum += a[offset + i];
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, offset, half) + pairwiseSum(a, offset + half, n - half);
}

/**
 * Python's `format(x, '.Nf')`: the exact binary value rounded to N decimals, ties to even.
 * JavaScript's toFixed breaks exact ties upwards (0.125 -> "0.13" where Python prints "0.12").
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const plain = x.toFixed(digits);
  if (Math.abs(x) >= 1e21 || digits >= 80) return plain;
  // An exact tie shows as a 5 followed by zeros in a longer exact expansion.
  const longer = x.toFixed(Math.min(100, digits + 30));
  const tail = longer.slice(longer.length - 30);
  if (tail !== "5" + "0".repeat(29)) return plain;
  const truncated = longer.slice(0, longer.length - 30).replace(/\.$/, "");
  const lastKept = Number(truncated[truncated.length - 1]);
  // An odd last digit rounds up, as toFixed did; an even one stays, so truncate.
  return lastKept % 2 === 1 ? plain : truncated;
}

/** Right-aligns `text` in a field of `width` characters, as Python's '{:>N}' does. */
export function padStart(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}
