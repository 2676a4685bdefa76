// Tags to entity chunks, in the two ways seqeval reads them:
// - `conllevalChunks`: seqeval's default mode (`get_entities`), itself a port of conlleval.pl. It
//   reads any prefix letters, never fails, and is what conversion between schemes uses (after
//   BILOU's L and U are read as E and S, which conlleval does not know).
// - `strictChunks`: seqeval's `mode="strict"` for one scheme: an entity counts only if it starts,
//   continues and ends by the scheme's transition patterns; a prefix outside the scheme is an error.
// Both take one sentence; chunk ends are exclusive.

import { NerkitError } from "../errors.js";
import { Chunk, SchemeTable, TransitionPattern } from "./schemes.js";

/** The type as seqeval's default mode reads it: after the first hyphen that follows the prefix. */
function defaultType(tag: string): string {
  const rest = tag.slice(1);
  const hyphen = rest.indexOf("-");
  const type = hyphen === -1 ? rest : rest.slice(hyphen + 1);
  return type === "" ? "_" : type;
}

function endsChunk(prevPrefix: string, prefix: string, prevType: string, type: string): boolean {
  if (prevPrefix === "E" || prevPrefix === "S") return true;
  if ((prevPrefix === "B" || prevPrefix === "I") && (prefix === "B" || prefix === "S" || prefix === "O")) return true;
  return prevPrefix !== "O" && prevPrefix !== "." && prevType !== type;
}

function startsChunk(prevPrefix: string, prefix: string, prevType: string, type: string): boolean {
  if (prefix === "B" || prefix === "S") return true;
  if ((prevPrefix === "E" || prevPrefix === "S" || prevPrefix === "O") && (prefix === "E" || prefix === "I")) return true;
  return prefix !== "O" && prefix !== "." && prevType !== type;
}

/** seqeval's default-mode (conlleval) chunks of one sentence. */
export function conllevalChunks(tags: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let prevPrefix = "O";
  let prevType = "_";
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const tag = i === tags.length ? "O" : tags[i];
    const prefix = tag[0];
    const type = defaultType(tag);
    if (endsChunk(prevPrefix, prefix, prevType, type)) chunks.push({ type: prevType, start: begin, end: i });
    if (startsChunk(prevPrefix, prefix, prevType, type)) begin = i;
    prevPrefix = prefix;
    prevType = type;
  }
  return chunks;
}

/** Reads BILOU's L and U as E and S, so that conlleval's rules apply to BILOU tags too. */
export function bilouAsIobes(tags: readonly string[]): string[] {
  return tags.map((tag) => (tag[0] === "L" ? "E" + tag.slice(1) : tag[0] === "U" ? "S" + tag.slice(1) : tag));
}

/** Chunks of one sentence read leniently in a known scheme, for conversion and span output. */
export function decodeTags(tags: readonly string[], scheme?: SchemeTable): Chunk[] {
  return conllevalChunks(scheme?.name === "BILOU" || tags.some((t) => t[0] === "L" || t[0] === "U") ? bilouAsIobes(tags) : tags);
}

/** The type as seqeval's strict mode reads it: the rest of the tag with hyphens trimmed. */
function strictType(tag: string): string {
  let start = 1;
  let end = tag.length;
  while (start < end && tag[start] === "-") start++;
  while (end > start && tag[end - 1] === "-") end--;
  return start === end ? "_" : tag.slice(start, end);
}

function matches(patterns: readonly TransitionPattern[], prevTag: string, tag: string): boolean {
  const prevPrefix = prevTag[0];
  const prefix = tag[0];
  for (const [prevAllowed, allowed, condition] of patterns) {
    if (prevAllowed !== "*" && !prevAllowed.includes(prevPrefix)) continue;
    if (allowed !== "*" && !allowed.includes(prefix)) continue;
    if (condition === "any") return true;
    const same = strictType(prevTag) === strictType(tag);
    if (same === (condition === "same")) return true;
  }
  return false;
}

/** seqeval's strict-mode chunks of one sentence under `scheme`; throws E_TAG on a foreign prefix. */
export function strictChunks(tags: readonly string[], scheme: SchemeTable): Chunk[] {
  const extended = [...tags, "O"];
  const chunks: Chunk[] = [];
  let prev = "O";
  let i = 0;
  while (i < extended.length) {
    const tag = extended[i];
    if (!scheme.prefixes.includes(tag[0])) {
      throw new NerkitError(
        "E_TAG",
        `tag '${tag}' is not allowed in ${scheme.name}: allowed prefixes are ${[...scheme.prefixes].join(", ")}`,
      );
    }
    if (matches(scheme.starts, prev, tag)) {
      let end = i + 1;
      let inside = tag;
      while (end < extended.length && matches(scheme.continues, inside, extended[end])) inside = extended[end++];
      if (matches(scheme.ends, extended[end - 1], extended[end])) chunks.push({ type: strictType(tag), start: i, end });
      i = end;
    } else {
      i++;
    }
    prev = extended[i - 1];
  }
  return chunks;
}

export interface IllegalTransition {
  /** Index of the token whose tag the scheme does not allow after the one before it. */
  index: number;
  message: string;
}

/**
 * Every transition that strict decoding under `scheme` does not accept: the first token of each
 * stretch of non-O tags that strict mode leaves outside every entity (a stretch the scheme would
 * continue, like I-PER I-PER after O in IOB2, is one transition, not one per token).
 */
export function illegalTransitions(tags: readonly string[], scheme: SchemeTable): IllegalTransition[] {
  const chunks = strictChunks(tags, scheme);
  const covered = new Uint8Array(tags.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  const found: IllegalTransition[] = [];
  for (let i = 0; i < tags.length; i++) {
    if (tags[i] === "O" || covered[i]) continue;
    const continuesBroken = i > 0 && tags[i - 1] !== "O" && !covered[i - 1] && matches(scheme.continues, tags[i - 1], tags[i]);
    if (continuesBroken) continue;
    const before = i === 0 ? "the start of the sentence" : `'${tags[i - 1]}'`;
    found.push({ index: i, message: `illegal ${scheme.name} transition: '${tags[i]}' after ${before}` });
  }
  return found;
}

/** The first transition that strict decoding under `scheme` does not accept, or undefined. */
export function firstIllegalTransition(tags: readonly string[], scheme: SchemeTable): IllegalTransition | undefined {
  return illegalTransitions(tags, scheme)[0];
}
