// Character spans over text and their link to token tags. A span is half-open [start, end) in
// UTF-16 code units, so `text.slice(start, end)` is the entity. Tags become spans through chunks
// (../data/chunks.ts); spans become tags by tokenizing the text with the span ends as boundaries.

import { NerkitError } from "../errors.js";
import { columnSpaceIndex } from "../text/column-whitespace.js";
import { Word, joinTokens, tokenizeWords } from "../text/word-tokenizer.js";
import { decodeTags } from "./chunks.js";
import { Chunk, SchemeTable, encodeChunks } from "./schemes.js";

export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface SpanDocument {
  id?: string | number;
  text: string;
  spans: Span[];
  /** The text's tokenization when the file gives one (Prodigy's "tokens"), kept so that
   *  CoNLL -> JSONL -> CoNLL returns the same tokens. Otherwise words come from tokenizeWords. */
  tokens?: Word[];
  /** 1-based line (or record) the document came from, for error messages. */
  line?: number;
  /** A CoNLL "-DOCSTART-" line came before this sentence; JSON lines keep it as "document_start",
   *  so that CoNLL -> JSONL -> CoNLL keeps document boundaries. */
  documentStart?: boolean;
}

/** Sorts spans and checks them: integer offsets inside the text, non-empty, no overlaps. */
export function validateSpans(doc: SpanDocument, place: { file?: string; line?: number } = {}): Span[] {
  const spans = [...doc.spans].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const span of spans) {
    const where = `span [${span.start}, ${span.end}) '${span.label}'`;
    if (!Number.isInteger(span.start) || !Number.isInteger(span.end)) {
      throw new NerkitError("E_SPAN", `${where}: offsets must be integers`, place);
    }
    if (span.start < 0 || span.end > doc.text.length) {
      throw new NerkitError("E_SPAN", `${where} is outside the text (length ${doc.text.length})`, place);
    }
    if (span.end <= span.start) throw new NerkitError("E_SPAN", `${where} is empty or reversed`, place);
    if (typeof span.label !== "string" || span.label === "" || /\s/.test(span.label) || columnSpaceIndex(span.label) !== -1) {
      throw new NerkitError("E_SPAN", `${where}: the label must be a non-empty string without spaces`, place);
    }
  }
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1];
    const b = spans[i];
    if (b.start < a.end) {
      throw new NerkitError("E_SPAN", `spans [${a.start}, ${a.end}) '${a.label}' and [${b.start}, ${b.end}) '${b.label}' overlap`, place);
    }
  }
  return spans;
}

/** Words of a document and their tags in `scheme`; every span must cover at least one word. */
export function spansToTags(doc: SpanDocument, scheme: SchemeTable, place: { file?: string; line?: number } = {}): { words: Word[]; tags: string[] } {
  const spans = validateSpans(doc, place);
  const words = doc.tokens ?? tokenizeWords(doc.text, spans.flatMap((s) => [s.start, s.end]));
  const chunks: Chunk[] = [];
  let w = 0;
  for (const span of spans) {
    while (w < words.length && words[w].start < span.start) w++;
    const first = w;
    while (w < words.length && words[w].end <= span.end) w++;
    if (w === first) {
      throw new NerkitError("E_SPAN", `span [${span.start}, ${span.end}) '${span.label}' covers no word`, place);
    }
    const cut = words[first - 1]?.end > span.start ? words[first - 1] : words[w]?.start < span.end ? words[w] : undefined;
    if (cut) {
      throw new NerkitError("E_SPAN", `span [${span.start}, ${span.end}) '${span.label}' cuts the token '${cut.text}' [${cut.start}, ${cut.end})`, place);
    }
    chunks.push({ type: span.label, start: first, end: w });
  }
  return { words, tags: encodeChunks(chunks, words.length, scheme) };
}

/** The text of tokens joined by spaces and the spans their tags mark. */
export function tagsToSpans(tokens: readonly string[], tags: readonly string[], scheme?: SchemeTable): SpanDocument {
  const { text, words } = joinTokens(tokens);
  const spans = decodeTags(tags, scheme).map((chunk) => ({
    start: words[chunk.start].start,
    end: words[chunk.end - 1].end,
    label: chunk.type,
  }));
  return { text, spans, tokens: words };
}
