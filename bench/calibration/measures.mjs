// What bench/calibration/run.mjs measures, as plain functions over held-out entity samples
// (dist/src/infer/entity-samples.js's shape: type, sentence, start, end, rawScore, score, correct):
// a CoNLL file split into two halves by -DOCSTART- documents, the acceptance table of a set of
// thresholds (realised precision, auto-accept rate), and a sentence's words as the text the
// service reads (joined by spaces) with each gold entity as a character span.
// Left out: running models and the service (run.mjs, audit-stream.mjs).

import { conllevalChunks } from "../../dist/src/data/chunks.js";

/** CoNLL text cut into its -DOCSTART- documents (each piece starts with its -DOCSTART- line). */
export function conllDocuments(text) {
  const lines = text.split("\n");
  const documents = [];
  let current = [];
  for (const line of lines) {
    if (line.startsWith("-DOCSTART-") && current.some((l) => l.trim() !== "")) {
      documents.push(current.join("\n"));
      current = [];
    }
    current.push(line);
  }
  if (current.some((l) => l.trim() !== "")) documents.push(current.join("\n"));
  return documents;
}

/** Documents 0, 2, 4, ... and 1, 3, 5, ... as two CoNLL texts (alternate documents: both halves span the whole period the data covers). */
export function alternateHalves(text) {
  const documents = conllDocuments(text);
  const pick = (parity) => documents.filter((_, i) => i % 2 === parity).join("\n").replace(/\n*$/, "\n");
  return { even: pick(0), odd: pick(1), documents: documents.length };
}

/** Per type: entities of the type, and those at or above its threshold (null: none accepted), right or not. */
export function acceptanceByType(samples, thresholdOf) {
  const rows = new Map();
  for (const s of samples) {
    let row = rows.get(s.type);
    if (!row) rows.set(s.type, (row = { type: s.type, entities: 0, accepted: 0, correct: 0, threshold: thresholdOf(s.type) }));
    row.entities++;
    if (row.threshold !== null && s.score >= row.threshold) {
      row.accepted++;
      if (s.correct) row.correct++;
    }
  }
  return [...rows.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Raw-score bands of the fixed thresholds (accept ≥ 0.95, review [0.80, 0.95), reject below), per type. */
export function fixedBandsByType(samples, accept = 0.95, review = 0.8) {
  const rows = new Map();
  for (const s of samples) {
    let row = rows.get(s.type);
    if (!row) rows.set(s.type, (row = { type: s.type, entities: 0, accepted: 0, correct: 0, review: 0, reject: 0, threshold: accept }));
    row.entities++;
    if (s.rawScore >= accept) {
      row.accepted++;
      if (s.correct) row.correct++;
    } else if (s.rawScore >= review) row.review++;
    else row.reject++;
  }
  return [...rows.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** A sentence's words joined by single spaces, with each word's [start, end) in that text. */
export function joinedText(tokens) {
  const offsets = [];
  let at = 0;
  for (const token of tokens) {
    offsets.push([at, at + token.length]);
    at += token.length + 1;
  }
  return { text: tokens.join(" "), offsets };
}

/** The character span [start, end) of words [first, last) of a joined sentence. */
export function wordSpan(offsets, first, last) {
  return { start: offsets[first][0], end: offsets[last - 1][1] };
}

/** The gold entities of a sentence (seqeval default-mode reading) as character spans of its joined text. */
export function goldSpans(tokens, tags) {
  const { offsets } = joinedText(tokens);
  return conllevalChunks(tags).map((c) => ({ ...wordSpan(offsets, c.start, c.end), label: c.type }));
}

export const spanKey = (start, end, type) => `${start}\u0000${end}\u0000${type}`;
