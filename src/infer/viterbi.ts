// Best label sequence under a tagging scheme's transition rules (nerkit's --decode viterbi), so
// that an entity never starts with I- after O, and with IOBES/BILOU every entity is closed. Each
// item's log-probability is summed along the path; forbidden transitions are simply not taken.
// The rules come from the scheme tables (../data/schemes.ts): a label whose prefix only continues
// an entity may follow only what its scheme's `continues` patterns allow, and a label that opens an
// entity which must be closed (IOBES/BILOU B- and I-) must be followed by its continuation.

import { SCHEMES, SchemeTable } from "../data/schemes.js";

/** The scheme a label set is written in: BILOU if it has L-/U-, IOBES if E-/S-, else IOB2. */
export function schemeOfLabels(labels: readonly string[]): SchemeTable {
  const prefixes = new Set(labels.map((l) => (l.length > 2 && l[1] === "-" ? l[0] : "O")));
  if (prefixes.has("L") || prefixes.has("U")) return SCHEMES.BILOU;
  if (prefixes.has("E") || prefixes.has("S")) return SCHEMES.IOBES;
  return SCHEMES.IOB2;
}

interface Parsed {
  prefix: string;
  type: string;
}

function parse(label: string): Parsed {
  return label.length > 2 && label[1] === "-" ? { prefix: label[0], type: label.slice(2) } : { prefix: "O", type: "" };
}

/** allowed[p][c]: label c may follow label p; start[c], end[c]: c may begin or end a sequence. */
export function transitionRules(labels: readonly string[], scheme: SchemeTable): { allowed: boolean[][]; start: boolean[]; end: boolean[] } {
  const parsed = labels.map(parse);
  const continuing = new Set(scheme.continues.map(([, current]) => current));
  const mustContinue = new Set(scheme.continues.map(([previous]) => previous).filter((p) => scheme.ends.every(([end]) => end !== p && end !== "*")));
  const continues = (p: Parsed, c: Parsed) => scheme.continues.some(([prev, cur, cond]) => prev.includes(p.prefix) && cur.includes(c.prefix) && (cond !== "same" || p.type === c.type));
  const allowed = parsed.map((p) =>
    parsed.map((c) => {
      const open = mustContinue.has(p.prefix);
      if (continuing.has(c.prefix) && !(c.prefix === scheme.first && !open)) return continues(p, c);
      return !open;
    }),
  );
  const start = parsed.map((c) => !continuing.has(c.prefix) || c.prefix === scheme.first);
  const end = parsed.map((c) => !mustContinue.has(c.prefix));
  return { allowed, start, end };
}

/** Label ids of the most probable allowed sequence; scores are probabilities, (N, L). */
export function viterbi(scores: readonly Float32Array[], labels: readonly string[], scheme: SchemeTable = schemeOfLabels(labels)): number[] {
  const N = scores.length;
  if (N === 0) return [];
  const L = labels.length;
  const { allowed, start, end } = transitionRules(labels, scheme);
  const log = (p: number) => Math.log(Math.max(p, 1e-30));
  let best = Array.from({ length: L }, (_, c) => (start[c] ? log(scores[0][c]) : -Infinity));
  const back: Int32Array[] = [];
  for (let t = 1; t < N; t++) {
    const next = new Array<number>(L).fill(-Infinity);
    const from = new Int32Array(L).fill(-1);
    for (let c = 0; c < L; c++) {
      for (let p = 0; p < L; p++) {
        if (!allowed[p][c] || best[p] === -Infinity) continue;
        const value = best[p] + log(scores[t][c]);
        if (value > next[c]) {
          next[c] = value;
          from[c] = p;
        }
      }
    }
    back.push(from);
    best = next;
  }
  let last = -1;
  for (let c = 0; c < L; c++) if (end[c] && best[c] > (last < 0 ? -Infinity : best[last])) last = c;
  if (last < 0) last = best.indexOf(Math.max(...best)); // no allowed path: fall back to the best ending
  const path = [last];
  for (let t = N - 2; t >= 0; t--) path.push(back[t][path[path.length - 1]]);
  return path.reverse().map((c) => Math.max(c, 0));
}
