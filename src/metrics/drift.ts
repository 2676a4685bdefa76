// The statistics a drift monitor compares, for a set of annotated documents: fixed-bin histograms
// that can be added to and taken from one document at a time (serve's rolling window) and stored
// (a model's reference profile, ./reference-profile.ts).
// - score: the entity's raw score (profileScore), 10 equal bins on [0, 1], all types together and per type;
// - entityRate: entities per 1,000 characters of each document;
// - textLength: characters (UTF-16 units) of each document, log-spaced bins (×2 from 16);
// - rarePieces: per document, the share of its word pieces that are unknown or rare (see PieceCounts);
// - labels: the share of each entity type among all entities.
// What it leaves out: tokenizing (the caller counts pieces: ../infer/word-pieces.ts) and PSI (./psi.ts).

/** Bin edges: bin i holds [edges[i], edges[i+1]); the last bin is [edges[last], ∞). A value below edges[0] goes to bin 0. */
export type BinEdges = readonly number[];

/** Ten equal bins on [0, 1]; a score of exactly 1 falls in the last. */
export const SCORE_EDGES: BinEdges = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** Entities per 1,000 characters: finer where news text and forms sit (one entity per 50–100 characters). */
export const ENTITY_RATE_EDGES: BinEdges = [0, 2.5, 5, 10, 15, 20, 30, 40, 60, 80, 120];
/** Characters: 0–15, 16–31, ... doubling up to 65,536 and more. */
export const TEXT_LENGTH_EDGES: BinEdges = [0, ...Array.from({ length: 13 }, (_, i) => 16 * 2 ** i)];
/** Share of unknown or rare pieces: most clean text has few. */
export const RARE_PIECE_EDGES: BinEdges = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6];

export const DRIFT_BINS = { score: SCORE_EDGES, entityRate: ENTITY_RATE_EDGES, textLength: TEXT_LENGTH_EDGES, rarePieces: RARE_PIECE_EDGES } as const;

/** The bin of `x`. */
export function binOf(edges: BinEdges, x: number): number {
  let i = edges.length - 1;
  while (i > 0 && !(x >= edges[i])) i--;
  return i;
}

/**
 * The score a profile counts: the raw score when the entity carries one (a calibrated model's
 * entities have `score` calibrated and `raw_score` as the model gave it), else `score`. Raw, so
 * that calibrating a model (which moves every score) is not mistaken for drift.
 */
export function profileScore(entity: { score: number; raw_score?: number }): number {
  return entity.raw_score ?? entity.score;
}

/**
 * A document's word pieces, counted on the tokenizer's encoding: `rare` are the pieces that are
 * the tokenizer's unknown token, or belong to a word the tokenizer cut into RARE_WORD_PIECES or
 * more pieces. Why this and not "pieces unseen in the reference texts": a model folder has no
 * piece frequencies, but its vocabulary was built from frequent strings, so a frequent word is one
 * or two pieces and a word cut into three or more was rare in the tokenizer's corpus (a name in an
 * unseen script, a lower-cased proper noun for a cased model, a code, OCR noise). It needs
 * nothing stored, and the reference texts score on it like any other text.
 */
export interface PieceCounts {
  pieces: number;
  rare: number;
}

export const RARE_WORD_PIECES = 3;

/** What the statistics need of one annotated document. */
export interface ProfiledDocument {
  /** Length in UTF-16 units. */
  chars: number;
  entities: readonly { type: string; score: number; raw_score?: number }[];
  /** Absent when the pipeline gives no tokenizer (a test's fake): the statistic is then not measured. */
  pieces?: PieceCounts;
}

/** One document reduced to its bins: what the rolling window keeps per document. */
export interface DocumentBins {
  entityRate: number;
  textLength: number;
  /** -1: pieces not measured (or a document without pieces). */
  rarePieces: number;
  /** The document's entities counted per type and score bin (at most types × 10 cells, whatever the entity count: a window of long documents stays small). */
  scoreCells: { type: string; bin: number; n: number }[];
}

export function documentBins(doc: ProfiledDocument): DocumentBins {
  const rate = doc.chars > 0 ? (doc.entities.length * 1000) / doc.chars : 0;
  return {
    entityRate: binOf(ENTITY_RATE_EDGES, rate),
    textLength: binOf(TEXT_LENGTH_EDGES, doc.chars),
    rarePieces: doc.pieces && doc.pieces.pieces > 0 ? binOf(RARE_PIECE_EDGES, doc.pieces.rare / doc.pieces.pieces) : -1,
    scoreCells: scoreCells(doc.entities),
  };
}

function scoreCells(entities: ProfiledDocument["entities"]): DocumentBins["scoreCells"] {
  const cells = new Map<string, number[]>();
  for (const e of entities) {
    let row = cells.get(e.type);
    if (!row) cells.set(e.type, (row = SCORE_EDGES.map(() => 0)));
    row[binOf(SCORE_EDGES, profileScore(e))]++;
  }
  const out: DocumentBins["scoreCells"] = [];
  for (const [type, row] of cells) row.forEach((n, bin) => n > 0 && out.push({ type, bin, n }));
  return out;
}

/** Histograms of a set of documents, kept as counts so documents can enter and leave. */
export class DriftCounts {
  documents = 0;
  entities = 0;
  readonly score: number[] = SCORE_EDGES.map(() => 0);
  readonly scoreByType = new Map<string, number[]>();
  readonly entityRate: number[] = ENTITY_RATE_EDGES.map(() => 0);
  readonly textLength: number[] = TEXT_LENGTH_EDGES.map(() => 0);
  readonly rarePieces: number[] = RARE_PIECE_EDGES.map(() => 0);
  /** Entities per type (the label distribution). */
  readonly labels = new Map<string, number>();

  add(doc: DocumentBins): void {
    this.change(doc, 1);
  }

  remove(doc: DocumentBins): void {
    this.change(doc, -1);
  }

  private change(doc: DocumentBins, sign: 1 | -1): void {
    this.documents += sign;
    this.entityRate[doc.entityRate] += sign;
    this.textLength[doc.textLength] += sign;
    if (doc.rarePieces >= 0) this.rarePieces[doc.rarePieces] += sign;
    for (const { type, bin, n } of doc.scoreCells) {
      const delta = sign * n;
      this.entities += delta;
      this.score[bin] += delta;
      let perType = this.scoreByType.get(type);
      if (!perType) this.scoreByType.set(type, (perType = SCORE_EDGES.map(() => 0)));
      perType[bin] += delta;
      const left = (this.labels.get(type) ?? 0) + delta;
      // A type whose last entity left the window leaves the maps too, so they never grow past the types in the window.
      if (left === 0) {
        this.labels.delete(type);
        this.scoreByType.delete(type);
      } else this.labels.set(type, left);
    }
  }
}

/** The statistics of a whole set of documents at once (the reference profile; the oracle the window is tested against). */
export function driftCounts(docs: Iterable<ProfiledDocument>): DriftCounts {
  const counts = new DriftCounts();
  for (const doc of docs) counts.add(documentBins(doc));
  return counts;
}
