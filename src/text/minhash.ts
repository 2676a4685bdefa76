// How alike two texts are, cheaply: MinHash signatures of their word shingles (Broder, "On the
// resemblance and containment of documents", 1997). A text's shingles are its runs of SHINGLE_WORDS
// consecutive words (letters and digits, lower-cased); the share of positions where two signatures
// agree estimates the Jaccard similarity |A ∩ B| / |A ∪ B| of the two shingle sets, with a standard
// error of about sqrt(J(1 - J) / SIGNATURE_LENGTH) (≤ 0.0625 for 64 hashes).
// Deterministic: the hash functions are fixed (FNV-1a of the shingle, then one multiply-xorshift mix
// per position with a fixed odd constant), so a signature never depends on the process or the run.
// What it leaves out: locality-sensitive hashing into bands (the review queue compares a handful of
// documents at a time, not millions) and any notion of meaning (paraphrases are not near-duplicates).

export const SHINGLE_WORDS = 3;
export const SIGNATURE_LENGTH = 64;

/** The text's shingles: runs of SHINGLE_WORDS words (a text with fewer words: its words as one shingle). */
export function shingles(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = new Set<string>();
  if (words.length === 0) return out;
  if (words.length < SHINGLE_WORDS) out.add(words.join(" "));
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) out.add(words.slice(i, i + SHINGLE_WORDS).join(" "));
  return out;
}

/** FNV-1a over UTF-16 units, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The position-th hash of a shingle's base hash (murmur3's finaliser over base xor a per-position constant). */
function mix(base: number, position: number): number {
  let h = (base ^ Math.imul(position + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Per position, the least hash over the text's shingles; a text without words has all 0xffffffff. */
export function minhash(text: string): Uint32Array {
  const signature = new Uint32Array(SIGNATURE_LENGTH).fill(0xffffffff);
  for (const shingle of shingles(text)) {
    const base = fnv1a(shingle);
    for (let k = 0; k < SIGNATURE_LENGTH; k++) {
      const h = mix(base, k);
      if (h < signature[k]) signature[k] = h;
    }
  }
  return signature;
}

/** The estimated Jaccard similarity of the texts two signatures were taken of, in [0, 1]. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < a.length; k++) if (a[k] === b[k]) same++;
  return same / a.length;
}

/** The exact Jaccard similarity of two texts' shingle sets (the reference the estimate is tested against). */
export function jaccard(a: string, b: string): number {
  const x = shingles(a);
  const y = shingles(b);
  if (x.size === 0 && y.size === 0) return 1;
  let both = 0;
  for (const s of x) if (y.has(s)) both++;
  return both / (x.size + y.size - both);
}
