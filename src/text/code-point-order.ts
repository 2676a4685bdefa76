// The order of strings by Unicode code point, which is Python's sorted() order: reports list entity
// types in it so that they match seqeval's. (JavaScript's default sort compares UTF-16 units, which
// differs after characters outside the BMP.) Leaves out locale-aware collation on purpose.

/** Compares strings by Unicode code point, the order of Python's sorted(). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done === cb.done ? 0 : ca.done ? -1 : 1;
    const diff = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
}
