// Which teacher layer each student layer imitates under `nerkit distill --match-hidden`: the
// user's list "T:S[,T:S...]" (teacher layer : student layer, as transformers numbers hidden_states:
// 0 the embeddings' output, l encoder layer l's output), or, for a bare --match-hidden, TinyBERT's
// uniform mapping (Jiao et al. 2020, §3.3: student layer m imitates teacher layer m·N/M), here
// rounded when N/M is not a whole number: each student layer 1…M, so the last imitates the last.
// Left out: the embeddings (layer 0) in the default mapping (they are the least informative of the
// states, and a --match-hidden list can name them).

import { NerkitError } from "../../errors.js";
import { LayerPair } from "../../model/graph/hidden-matching-loss.js";

const FLAG = "--match-hidden";

/** Parses "4:2,8:4"; a malformed list is a usage error naming the flag. */
export function parseLayerPairs(text: string): LayerPair[] {
  const items = text.split(",").map((item) => item.trim());
  return items.map((item) => {
    const match = /^(\d+):(\d+)$/.exec(item);
    if (!match) throw new NerkitError("E_USAGE", `${FLAG} expects TEACHER:STUDENT layer pairs separated by commas, e.g. 4:2,8:4 (0 is the embeddings' output), got '${text}' ('${item}' is not a pair)`);
    return { teacher: Number(match[1]), student: Number(match[2]) };
  });
}

/** TinyBERT's uniform mapping: student layer m (1…M) imitates teacher layer round(m·N/M). */
export function defaultLayerPairs(teacherLayers: number, studentLayers: number): LayerPair[] {
  return Array.from({ length: studentLayers }, (_, i) => ({ teacher: Math.round(((i + 1) * teacherLayers) / studentLayers), student: i + 1 }));
}

/** Refuses a pair whose layer either model lacks, or the same pair twice. */
export function checkLayerPairs(pairs: readonly LayerPair[], teacherLayers: number, studentLayers: number): void {
  const seen = new Set<string>();
  for (const { teacher, student } of pairs) {
    const pair = `${teacher}:${student}`;
    if (teacher > teacherLayers) throw new NerkitError("E_USAGE", `${FLAG} ${pair}: the teacher has ${layerCount(teacherLayers)}, so its layers are 0 (the embeddings' output) to ${teacherLayers}`);
    if (student > studentLayers) throw new NerkitError("E_USAGE", `${FLAG} ${pair}: the student has ${layerCount(studentLayers)}, so its layers are 0 (the embeddings' output) to ${studentLayers}`);
    if (seen.has(pair)) throw new NerkitError("E_USAGE", `${FLAG} names the pair ${pair} twice`);
    seen.add(pair);
  }
}

export const formatLayerPairs = (pairs: readonly LayerPair[]) => pairs.map((p) => `${p.teacher}:${p.student}`).join(",");

const layerCount = (n: number) => `${n} layer${n === 1 ? "" : "s"}`;
