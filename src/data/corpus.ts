// A labelled corpus as either token sentences (CoNLL) or span documents (JSON formats), read from
// a file of any supported format and turned into whichever of the two a command needs. This is
// the one place that knows every input format; commands and the library call it.

import { NerkitError, SkippedRecord } from "../errors.js";
import { readTextFile } from "../io/files.js";
import { OffsetUnit } from "../text/offsets.js";
import { decodeTags } from "./chunks.js";
import { ConllCorpus, ConllSentence, parseConll } from "./conll.js";
import { detectScheme } from "./scheme-detect.js";
import { SchemeTable, encodeChunks } from "./schemes.js";
import { SPAN_FORMATS, SpanFormat, parseSpanFile } from "./span-formats.js";
import { SpanDocument, spansToTags, tagsToSpans } from "./spans.js";

export const INPUT_FORMATS = ["conll", ...SPAN_FORMATS] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export type Corpus =
  | { kind: "tokens"; conll: ConllCorpus; file?: string }
  | { kind: "spans"; documents: SpanDocument[]; file?: string };

export interface ReadCorpusOptions {
  format?: InputFormat;
  /** CoNLL: 1-based tag column, negative from the end. */
  tagColumn?: number;
  /** CoNLL: the scheme the file's tags are in (detected when absent). */
  scheme?: SchemeTable;
  /** CoNLL: reject transitions the scheme does not allow. */
  strict?: boolean;
  lenient?: boolean;
  offsetUnit?: OffsetUnit;
}

/** The format a file name suggests: .jsonl/.json are span files, anything else CoNLL. */
export function guessFormat(path: string, text: string): InputFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".json") && text.trimStart().startsWith("[")) return "labelstudio";
  if (lower.endsWith(".jsonl") || lower.endsWith(".json") || lower.endsWith(".ndjson")) return "jsonl";
  return "conll";
}

export function parseCorpus(text: string, options: ReadCorpusOptions & { file?: string } = {}): { corpus: Corpus; skipped: SkippedRecord[] } {
  const format = options.format ?? guessFormat(options.file ?? "", text);
  if (format === "conll") {
    const conll = parseConll(text, {
      file: options.file,
      tagColumn: options.tagColumn,
      lenient: options.lenient,
      scheme: options.scheme,
      strict: options.strict,
    });
    return { corpus: { kind: "tokens", conll, file: options.file }, skipped: conll.skipped };
  }
  const spans = parseSpanFile(text, format as SpanFormat, { file: options.file, lenient: options.lenient, offsetUnit: options.offsetUnit });
  return { corpus: { kind: "spans", documents: spans.documents, file: options.file }, skipped: spans.skipped };
}

export function readCorpusFile(path: string, options: ReadCorpusOptions = {}): { corpus: Corpus; skipped: SkippedRecord[] } {
  return parseCorpus(readTextFile(path), { ...options, file: path });
}

/** The scheme of a token corpus's tags: as given, or detected from the tags. */
export function schemeOf(corpus: Corpus, given?: SchemeTable): SchemeTable | undefined {
  if (corpus.kind !== "tokens") return undefined;
  return given ?? detectScheme(corpus.conll.sentences.map((s) => s.tags));
}

/** Token sentences with tags in `target`; span documents are tokenized into words first. */
export function toTokenSentences(
  corpus: Corpus,
  target: SchemeTable,
  options: { sourceScheme?: SchemeTable; lenient?: boolean; skipped?: SkippedRecord[] } = {},
): ConllCorpus {
  if (corpus.kind === "tokens") {
    const source = schemeOf(corpus, options.sourceScheme);
    const sentences = corpus.conll.sentences.map((s) => ({
      ...s,
      tags: encodeChunks(decodeTags(s.tags, source), s.tags.length, target),
    }));
    return { ...corpus.conll, sentences };
  }
  const sentences: ConllSentence[] = [];
  // A document boundary on a document without words (or a skipped one) moves to the next sentence.
  let documentStart = false;
  for (const doc of corpus.documents) {
    documentStart ||= doc.documentStart === true;
    try {
      const { words, tags } = spansToTags(doc, target, { file: corpus.file, line: doc.line });
      if (words.length === 0) continue;
      const tokens = words.map((w) => w.text);
      sentences.push({ tokens, tags, line: doc.line ?? 0, documentStart });
      documentStart = false;
    } catch (error) {
      if (!(error instanceof NerkitError) || !options.lenient) throw error;
      options.skipped?.push({ error });
    }
  }
  return { sentences, columns: 2, tagColumn: 1, skipped: [] };
}

/** Span documents; token sentences become one document each, tokens joined by spaces. */
export function toSpanDocuments(corpus: Corpus, options: { sourceScheme?: SchemeTable } = {}): SpanDocument[] {
  if (corpus.kind === "spans") return corpus.documents;
  const scheme = schemeOf(corpus, options.sourceScheme);
  return corpus.conll.sentences.map((s, i) => ({ id: i + 1, ...tagsToSpans(s.tokens, s.tags, scheme), line: s.line, ...(s.documentStart ? { documentStart: true } : {}) }));
}
