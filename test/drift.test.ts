// The drift statistics, without a model: PSI on hand-computed histograms, the statistics of a tiny
// hand-made document set, the rolling window against a recount, reference-profile.json's round
// trip and its reader's errors, the rare-piece count against transformers' tokenizations, and
// the texts a profile is made from.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIN_PROFILE_DOCUMENTS, readProfileTexts } from "../src/data/profile-texts.js";
import { test } from "node:test";
import { DriftCounts, ProfiledDocument, documentBins, driftCounts, profileScore, binOf, SCORE_EDGES, RARE_WORD_PIECES } from "../src/metrics/drift.js";
import { compareDrift } from "../src/metrics/drift-compare.js";
import { PSI_EPSILON, psi } from "../src/metrics/psi.js";
import { parseReferenceProfile, referenceProfileJson, ReferenceProfileMeta } from "../src/metrics/reference-profile.js";
import { DriftMonitor } from "../src/serve/drift/monitor.js";
import { countPieces, pieceSample, PIECE_SAMPLE_CHARS } from "../src/infer/word-pieces.js";
import { loadTokenizer } from "../src/text/tokenizers/load.js";
import { serveConfig } from "../src/serve/config.js";
import { fixturesDir, nerkitError, readJson, tempDir } from "./helpers.js";

test("PSI of hand-computed histograms, and the epsilon for an empty bin", () => {
  // p = (0.25, 0.75), q = (0.5, 0.5): (−0.25)·ln(0.5) + 0.25·ln(1.5)
  assert.ok(Math.abs(psi([50, 50], [25, 75]) - (0.25 * Math.log(2) + 0.25 * Math.log(1.5))) < 1e-15);
  assert.ok(Math.abs(psi([50, 50], [25, 75]) - 0.2746530721670274) < 1e-15);
  // q = (0.1, 0.2, 0.3, 0.4), p reversed: 2·(0.3·ln 4 + 0.1·ln 1.5)
  assert.ok(Math.abs(psi([10, 20, 30, 40], [40, 30, 20, 10]) - 2 * (0.3 * Math.log(4) + 0.1 * Math.log(1.5))) < 1e-15);
  // An empty reference bin counts as PSI_EPSILON: (0.5 − 1)·ln(0.5) + (0.5 − ε)·ln(0.5 / ε)
  assert.equal(PSI_EPSILON, 1e-4);
  assert.ok(Math.abs(psi([100, 0], [50, 50]) - (0.5 * Math.log(2) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4))) < 1e-12);
  assert.equal(psi([3, 7], [30, 70]), 0);
  assert.equal(psi([0, 0], [1, 2]), 0, "nothing to compare with");
  assert.throws(() => psi([1], [1, 2]), /bins/);
});

test("bins: the lower edge belongs to its bin, the last bin is open, a score of 1 is in the last", () => {
  assert.deepEqual([0, 0.05, 0.1, 0.3, 0.99, 1].map((x) => binOf(SCORE_EDGES, x)), [0, 0, 1, 3, 9, 9]);
});

const meta: ReferenceProfileMeta = {
  madeBy: "test",
  created: "2026-01-01T00:00:00.000Z",
  reading: { aggregation: "first", windows: "overlap", scores: "raw" },
  data: { path: "x.conll", sha256: "0".repeat(64), documents: 3, unit: "sentences" },
};

/** Three documents whose bins were worked out by hand (see each line). */
const handMade: ProfiledDocument[] = [
  // 2 entities / 100 chars = 20 per 1,000 → bin [20, 30) = 5; length 100 → [64, 128) = 3; rare 1/20 = 0.05 → [0.05, 0.1) = 2.
  // The LOC entity's calibrated score is 0.55 but its raw score 0.35 (bin 3) is what counts.
  { chars: 100, entities: [{ type: "PER", score: 0.95 }, { type: "LOC", score: 0.55, raw_score: 0.35 }], pieces: { pieces: 20, rare: 1 } },
  // No entity → bin 0; length 10 → bin 0; rare 0 → bin 0.
  { chars: 10, entities: [], pieces: { pieces: 3, rare: 0 } },
  // 2 / 2,000 chars = 1 per 1,000 → bin 0; length 2,000 → [1024, 2048) = 7; rare 0.5 → [0.4, 0.6) = 7.
  { chars: 2000, entities: [{ type: "PER", score: 1 }, { type: "ORG", score: 0.05 }], pieces: { pieces: 400, rare: 200 } },
];

test("the statistics of a hand-made document set", () => {
  assert.equal(profileScore({ score: 0.55, raw_score: 0.35 }), 0.35);
  assert.equal(profileScore({ score: 0.55 }), 0.55);
  const c = driftCounts(handMade);
  assert.equal(c.documents, 3);
  assert.equal(c.entities, 4);
  assert.deepEqual(c.score, [1, 0, 0, 1, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual(c.scoreByType.get("PER"), [0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual(c.scoreByType.get("LOC"), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(c.scoreByType.get("ORG"), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(c.entityRate, [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(c.textLength, [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(c.rarePieces, [1, 0, 1, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual([...c.labels].sort(), [["LOC", 1], ["ORG", 1], ["PER", 2]]);
  // Without pieces (a pipeline without a tokenizer) the statistic is not counted.
  assert.deepEqual(driftCounts([{ chars: 5, entities: [] }]).rarePieces, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

/** A small deterministic generator (mulberry32) for the window test. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomDocument(next: () => number): ProfiledDocument {
  const types = ["PER", "ORG", "LOC", "MISC", "__proto__"];
  const chars = Math.floor(next() ** 3 * 5000);
  const entities = Array.from({ length: Math.floor(next() * 6) }, () => ({ type: types[Math.floor(next() * types.length)], score: next() }));
  const pieces = Math.floor(next() * 100);
  return { chars, entities, pieces: { pieces, rare: Math.floor(next() * pieces) } };
}

function plain(c: DriftCounts) {
  const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  return { ...c, scoreByType: sorted(c.scoreByType), labels: sorted(c.labels) };
}

test("the rolling window: documents entering and leaving give the counts of a recount of the last n", () => {
  const next = random(11);
  const window = 37;
  const monitor = new DriftMonitor({ version: 1, meta, counts: driftCounts(handMade) }, { window, psiThreshold: 0.2 });
  const seen: ProfiledDocument[] = [];
  for (let i = 0; i < 300; i++) {
    const doc = randomDocument(next);
    seen.push(doc);
    monitor.observe(doc);
    if (i % 7 === 0 || i === 299) assert.deepEqual(plain(monitor.window), plain(driftCounts(seen.slice(-window))), `after document ${i}`);
  }
  assert.equal(monitor.window.documents, window);
  // A type whose entities all left the window is gone from its maps.
  const quiet = new DriftMonitor({ version: 1, meta, counts: driftCounts(handMade) }, { window: 2, psiThreshold: 0.2 });
  quiet.observe(handMade[0]);
  quiet.observe(handMade[1]);
  quiet.observe(handMade[1]);
  assert.deepEqual([...quiet.window.labels], []);
  assert.deepEqual([...quiet.window.scoreByType], []);
});

test("statistics alert above the threshold only with enough documents and entities", () => {
  const next = random(5);
  const reference = driftCounts(Array.from({ length: 400 }, () => randomDocument(next)));
  const same = driftCounts(Array.from({ length: 400 }, () => randomDocument(next)));
  const sameStats = compareDrift(reference, same, { threshold: 0.2 });
  assert.ok(sameStats.every((s) => !s.alert && !s.tooFew && s.psi < 0.2), JSON.stringify(sameStats));
  assert.deepEqual(sameStats.map((s) => s.name), ["score", "score:LOC", "score:MISC", "score:ORG", "score:PER", "score:__proto__", "entityRate", "textLength", "rarePieces", "labels"]);
  // Long texts without entities: rate, length and score move.
  const shifted = driftCounts(Array.from({ length: 400 }, () => ({ chars: 20_000, entities: [{ type: "PER", score: 0.99 }], pieces: { pieces: 10, rare: 9 } })));
  const stats = new Map(compareDrift(reference, shifted, { threshold: 0.2 }).map((s) => [s.name, s]));
  for (const name of ["score", "entityRate", "textLength", "rarePieces", "labels"]) assert.ok(stats.get(name)!.alert, `${name}: ${JSON.stringify(stats.get(name))}`);
  // The same shift in too few documents is reported, not alerted.
  const few = compareDrift(reference, driftCounts(Array.from({ length: 20 }, () => ({ chars: 20_000, entities: [], pieces: { pieces: 10, rare: 9 } }))), { threshold: 0.2 });
  const textLength = few.find((s) => s.name === "textLength")!;
  assert.ok(textLength.psi > 1 && textLength.tooFew && !textLength.alert);
});

test("reference-profile.json: written and read back to the same counts; a bad field is named", () => {
  const counts = driftCounts(handMade);
  const json = referenceProfileJson({ meta, counts });
  const back = parseReferenceProfile(json, "p.json");
  assert.deepEqual(plain(back.counts), plain(counts));
  assert.deepEqual(back.meta, meta);
  const raw = JSON.parse(json);
  const broken = (edit: (r: any) => void) => {
    const r = structuredClone(raw);
    edit(r);
    return nerkitError(() => parseReferenceProfile(JSON.stringify(r), "p.json"), "E_FORMAT");
  };
  assert.equal(broken((r) => (r.histograms.score = [1, 2])).field, "histograms.score");
  assert.equal(broken((r) => (r.histograms.labels[0].count = -1)).field, "histograms.labels[0].count");
  assert.match(broken((r) => (r.bins.score = [0, 0.5])).message, /another version/);
  assert.equal(broken((r) => (r.version = 9)).field, "version");
  assert.equal(broken((r) => (r.entities = 5)).field, "histograms.score");
  assert.equal(nerkitError(() => parseReferenceProfile("{", "p.json"), "E_FORMAT").file, "p.json");
});

interface TokenizerCase {
  text?: string;
  "bert-cased": { input_ids: number[]; tokens: string[]; word_ids: (number | null)[] };
}

test("rare pieces: the count on transformers' own tokenizations (bert-cased fixtures)", () => {
  const tokenizer = loadTokenizer(join(fixturesDir, "hf", "bert-cased"));
  const unk = tokenizer.tokenToId("[UNK]");
  let checked = 0;
  let rareSeen = 0;
  let unkSeen = 0;
  for (const c of readJson<TokenizerCase[]>(join(fixturesDir, "hf", "tokenizer-cases.json"))) {
    if (c.text === undefined || c.text.length > PIECE_SAMPLE_CHARS) continue;
    const ref = c["bert-cased"];
    const content = ref.input_ids.map((id, k) => ({ id, word: ref.word_ids[k] })).filter((t) => t.word !== null);
    const perWord = new Map<number, number>();
    for (const t of content) perWord.set(t.word!, (perWord.get(t.word!) ?? 0) + 1);
    const rare = content.filter((t) => t.id === unk || perWord.get(t.word!)! >= RARE_WORD_PIECES).length;
    assert.deepEqual(countPieces(tokenizer, c.text), { pieces: content.length, rare }, c.text);
    checked++;
    rareSeen += rare;
    unkSeen += content.filter((t) => t.id === unk).length;
  }
  assert.ok(checked >= 10 && rareSeen > 0 && unkSeen > 0, `${checked} cases, ${rareSeen} rare, ${unkSeen} unknown`);
  // A long text is counted on its first PIECE_SAMPLE_CHARS characters, cut at a space.
  const long = "word ".repeat(2000);
  assert.ok(pieceSample(long).length <= PIECE_SAMPLE_CHARS && pieceSample(long).endsWith("word"));
});

test("drift settings that could never alert are refused, naming the flag", () => {
  assert.match(nerkitError(() => serveConfig({ driftPsi: 0 }), "E_USAGE").message, /--drift-psi/);
  assert.match(nerkitError(() => serveConfig({ driftWindow: 0 }), "E_USAGE").message, /driftWindow/);
  assert.match(nerkitError(() => serveConfig({ driftWindow: 100, driftMinDocuments: 101 }), "E_USAGE").message, /--drift-min-documents.*--drift-window 100/);
  assert.equal(serveConfig({}).driftWindow, 1000);
  assert.equal(serveConfig({}).driftPsi, 0.2);
  // The minimum is 200 documents, or the whole window when it is smaller.
  const profile = { version: 1, meta, counts: driftCounts(handMade) };
  assert.equal(new DriftMonitor(profile, { window: 1000, psiThreshold: 0.2 }).minDocuments, 200);
  assert.equal(new DriftMonitor(profile, { window: 50, psiThreshold: 0.2 }).minDocuments, 50);
});

test("the entity-rate series: one bucket per minute, the last 60 kept", () => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 30);
  const monitor = new DriftMonitor({ version: 1, meta, counts: driftCounts(handMade) }, { window: 10, psiThreshold: 0.2, now: () => now });
  monitor.observe(handMade[0]); // 2 entities, 100 chars
  monitor.observe(handMade[2]); // 2 entities, 2,000 chars
  now += 60_000;
  monitor.observe(handMade[1]);
  const series = monitor.report().entityRateSeries;
  assert.deepEqual(series, [
    { start: "2026-01-01T12:00:00.000Z", documents: 2, entities: 4, entitiesPer1000Chars: (4 * 1000) / 2100 },
    { start: "2026-01-01T12:01:00.000Z", documents: 1, entities: 0, entitiesPer1000Chars: 0 },
  ]);
  for (let i = 0; i < 100; i++) {
    now += 60_000;
    monitor.observe(handMade[1]);
  }
  assert.equal(monitor.report().entityRateSeries.length, 60);
});

test("profile texts: .txt lines, JSON lines, CoNLL -DOCSTART- documents (when there are enough) or sentences; an empty file is an error naming it", () => {
  const dir = tempDir("nerkit-profile-texts-");
  try {
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    assert.deepEqual(readProfileTexts(write("a.txt", "one line\n\n  \nsecond line\r\n")), { texts: ["one line", "second line"], unit: "lines", sha256: createHash("sha256").update("one line\n\n  \nsecond line\r\n").digest("hex") });
    const jsonl = readProfileTexts(write("b.jsonl", '{"text": "Alice met Bob."}\n{"id": 2, "text": "Paris."}\n'));
    assert.deepEqual([jsonl.texts, jsonl.unit], [["Alice met Bob.", "Paris."], "records"]);
    // Two documents are too few for per-document histograms: their sentences are profiled.
    const fewDocuments = readProfileTexts(write("c.conll", "-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n\n-DOCSTART- O\n\nBonn B-LOC\n.\tO\n"));
    assert.deepEqual([fewDocuments.texts, fewDocuments.unit], [["EU rejects", "Peter", "Bonn ."], "sentences"]);
    const many = Array.from({ length: MIN_PROFILE_DOCUMENTS }, (_, i) => `-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nDoc${i} B-PER\n`).join("\n");
    const documents = readProfileTexts(write("c2.conll", many));
    assert.deepEqual([documents.texts.length, documents.texts[7], documents.unit], [MIN_PROFILE_DOCUMENTS, "EU rejects Doc7", "-DOCSTART- documents"]);
    const plainSentences = readProfileTexts(write("d.conll", "EU B-ORG\nrejects O\n\nPeter B-PER\n"));
    assert.deepEqual([plainSentences.texts, plainSentences.unit], [["EU rejects", "Peter"], "sentences"]);
    assert.match(nerkitError(() => readProfileTexts(write("e.txt", "\n\n")), "E_FORMAT").file ?? "", /e\.txt$/);
    assert.equal(nerkitError(() => readProfileTexts(join(dir, "missing.txt")), "E_IO").file, join(dir, "missing.txt"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
