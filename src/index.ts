// nerkit's public API: the one entry point; everything else is internal.

export { NerkitError } from "./errors.js";
export type { ErrorCode, ErrorPlace, SkippedRecord } from "./errors.js";

// Data: tags, schemes, CoNLL and span files, conversion, statistics.
export { parseTag, makeTag } from "./data/tags.js";
export { SCHEMES, SCHEME_NAMES, schemeByName, encodeChunks } from "./data/schemes.js";
export type { SchemeName, SchemeTable, Chunk } from "./data/schemes.js";
export { conllevalChunks, strictChunks, decodeTags, firstIllegalTransition } from "./data/chunks.js";
export { detectScheme } from "./data/scheme-detect.js";
export { parseConll, formatConll } from "./data/conll.js";
export type { ConllCorpus, ConllSentence, ReadConllOptions, WriteConllOptions } from "./data/conll.js";
export { parseSpanFile, formatSpanJsonl, SPAN_FORMATS } from "./data/span-formats.js";
export type { SpanFormat, SpanCorpus, ReadSpansOptions } from "./data/span-formats.js";
export { validateSpans, spansToTags, tagsToSpans } from "./data/spans.js";
export type { Span, SpanDocument } from "./data/spans.js";
export { readCorpusFile, parseCorpus, toTokenSentences, toSpanDocuments, INPUT_FORMATS } from "./data/corpus.js";
export type { Corpus, InputFormat, ReadCorpusOptions } from "./data/corpus.js";
export { corpusStats, formatStats } from "./data/stats.js";
export type { CorpusStats, Distribution } from "./data/stats.js";

// Text: words with offsets, offset units.
export { tokenizeWords, joinTokens } from "./text/word-tokenizer.js";
export type { Word } from "./text/word-tokenizer.js";
export { codePointToUtf16, utf16ToCodePoint } from "./text/offsets.js";
export type { OffsetUnit } from "./text/offsets.js";

// Files.
export { readTextFile, writeFileAtomic, decodeUtf8 } from "./io/files.js";

// Metrics: seqeval-identical evaluation and reports.
export { evaluate, reportFromCounts } from "./metrics/seqeval.js";
export type { EvaluationReport, TypeScores, AverageScores } from "./metrics/seqeval.js";
export { countEntities } from "./metrics/entity-counts.js";
export type { EvaluateOptions, EvaluationMode, CorpusCounts, TypeCounts } from "./metrics/entity-counts.js";
export { evaluateFiles } from "./metrics/evaluate-files.js";
export type { EvaluateFilesOptions, FileEvaluation } from "./metrics/evaluate-files.js";
export { classificationReport } from "./metrics/classification-report.js";
export { conllevalReport } from "./metrics/conlleval-report.js";
export { confusion, ERROR_KINDS } from "./metrics/confusion.js";
export type { ConfusionReport, ErrorKind } from "./metrics/confusion.js";
export { htmlReport } from "./metrics/html-report.js";

// The command line, for embedding.
export { main as runCli } from "./cli/main.js";
