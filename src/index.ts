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
export { corpusStats, formatStats, statsJson } from "./data/stats.js";
export type { CorpusStats, CorpusStatsJson, Distribution } from "./data/stats.js";

// Text: words with offsets, offset units.
export { tokenizeWords, joinTokens } from "./text/word-tokenizer.js";
export type { Word } from "./text/word-tokenizer.js";
export { codePointToUtf16, utf16ToCodePoint } from "./text/offsets.js";
export type { OffsetUnit } from "./text/offsets.js";

// Files.
export { readTextFile, writeFileAtomic, decodeUtf8 } from "./io/files.js";

// Metrics: seqeval-identical evaluation and reports.
export { evaluate, reportFromCounts, reportJson } from "./metrics/seqeval.js";
export type { EvaluationReport, EvaluationReportJson, TypeScores, AverageScores } from "./metrics/seqeval.js";
export { countEntities } from "./metrics/entity-counts.js";
export type { EvaluateOptions, EvaluationMode, CorpusCounts, TypeCounts } from "./metrics/entity-counts.js";
export { evaluateFiles } from "./metrics/evaluate-files.js";
export type { EvaluateFilesOptions, FileEvaluation } from "./metrics/evaluate-files.js";
export { classificationReport } from "./metrics/classification-report.js";
export { conllevalReport } from "./metrics/conlleval-report.js";
export { confusion, confusionJson, ERROR_KINDS } from "./metrics/confusion.js";
export type { ConfusionReport, ConfusionReportJson, ErrorKind } from "./metrics/confusion.js";
export { htmlReport } from "./metrics/html-report.js";
export { psi, PSI_EPSILON } from "./metrics/psi.js";
export { driftCounts, documentBins, profileScore, DriftCounts, DRIFT_BINS } from "./metrics/drift.js";
export { compareDrift } from "./metrics/drift-compare.js";
export { parseReferenceProfile, referenceProfileJson, REFERENCE_PROFILE_FILE } from "./metrics/reference-profile.js";
export type { ReferenceProfile, ReferenceProfileMeta } from "./metrics/reference-profile.js";
export { writeReferenceProfile, profileTexts } from "./serve/drift/profile-writer.js";

// Tokenizers (WordPiece, byte-level BPE, Unigram from tokenizer.json) with offsets and word ids.
export { loadTokenizer, tokenizerFromJson, alignLabels, IGNORE_INDEX } from "./text/tokenizers/index.js";
export type { Encoding, Tokenizer, SpecialTokens, LoadTokenizerOptions } from "./text/tokenizers/index.js";

// Models: checkpoints, the Hub cache, the ONNX graph.
export { loadCheckpoint } from "./model/checkpoint/load-checkpoint.js";
export type { Checkpoint } from "./model/checkpoint/load-checkpoint.js";
export { readSafetensors } from "./model/checkpoint/safetensors.js";
export { writeSafetensors } from "./model/checkpoint/safetensors-writer.js";
export { resolveModel } from "./model/hub/resolve-model.js";
export type { ResolveModelOptions } from "./model/hub/resolve-model.js";
export { architectureOf } from "./model/architecture.js";
export type { Architecture } from "./model/architecture.js";
export { buildTokenClassifier } from "./model/graph/encoder.js";
export { TokenClassifierSession } from "./model/session.js";

// Inference: text in, entities out.
export { loadPipeline, NerPipeline, WINDOW_MODES, DEFAULT_READING, PIPELINE_PARITY } from "./infer/pipeline.js";
export type { Entity, TokenItem, PredictOptions, WindowMode, DecodeMode, LoadOptions } from "./infer/pipeline.js";
// A model folder's calibration.json, as loadPipeline reads and applies it.
export { readModelCalibration } from "./model/checkpoint/calibration.js";
export { AGGREGATION_STRATEGIES } from "./infer/aggregation.js";
export type { AggregationStrategy } from "./infer/aggregation.js";
export { viterbi } from "./infer/viterbi.js";
// Pre-split words in, one tag per word out (evaluate --model, pre-tokenized predict, train's evaluation).
export { tagWordsSteps, finishSteps } from "./infer/word-tagger.js";
export type { WordTaggerModel, TagWordsOptions, TagProgress } from "./infer/word-tagger.js";
export { evaluateModelOnFile, evaluateModelOnData, readLabelledData } from "./train/evaluate-file.js";
export type { EvaluateModelFileOptions, ModelFileEvaluation, LabelledData } from "./train/evaluate-file.js";
// Calibration: held-out entities, temperature and isotonic fits, ECE with its reliability table.
export { heldOutSamples, fitCalibration, MIN_CALIBRATION_ENTITIES } from "./train/calibration-fit.js";
export { fitTemperature, temperedScore } from "./metrics/calibration/temperature.js";
export { fitIsotonic, fitIsotonicPerType, ISOTONIC_MIN_ENTITIES } from "./metrics/calibration/isotonic.js";
export { calibrationReport, ECE_BINS } from "./metrics/calibration/quality.js";
export { calibratedEntityScore, calibratedOutcomesByType } from "./metrics/calibration/apply.js";
export type { EntitySample, ScoredOutcome } from "./metrics/calibration/entity-sample.js";
export type { CalibrationReport, ReliabilityBin } from "./metrics/calibration/quality.js";

// Post-processing: rule detectors and gazetteers, merging, confidence routing, redaction.
export * from "./postprocess/index.js";

// The command line, for embedding.
export { main as runCli } from "./cli/main.js";
