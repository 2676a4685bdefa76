// Everything a training run needs before its first step: the base model (folder or Hub id), the
// label set from the training data, the starting weights (a new head when the labels differ), the
// tokenizer, the examples, class weights, and a memory estimate checked against this machine.

import { freemem, totalmem } from "node:os";
import { join } from "node:path";
import { NerkitError } from "../errors.js";
import { Corpus, readCorpusFile, toTokenSentences } from "../data/corpus.js";
import { SCHEMES } from "../data/schemes.js";
import { loadCheckpoint } from "../model/checkpoint/load-checkpoint.js";
import { ModelConfig, parseModelConfig } from "../model/checkpoint/config.js";
import { initConfig } from "./init-config.js";
import { Architecture, architectureOf, maxTokens } from "../model/architecture.js";
import { estimateMemory } from "./memory-estimate.js";
import { loadTokenizer, readTokenizerFiles, tokenizerFromFiles } from "../text/tokenizers/index.js";
import { tokenizerExtras } from "../infer/tokenizer-extras.js";
import { Example, LabelledSentence, buildExamples, checkLabels, labelListOf } from "./examples.js";
import { WeightLookup, prefixTolerantLookup, startingWeights } from "./initial-weights.js";
import { SeededRandom } from "./random.js";
import { TrainInputs } from "./trainer.js";

export interface PrepareOptions {
  /** A base checkpoint folder; or, with `init`, none. */
  modelDir?: string;
  /** Random weights of a named size or a config.json (needs `tokenizerDir`). */
  init?: string;
  tokenizerDir?: string;
  train: string;
  dev?: string;
  test?: string;
  outDir: string;
  maxLength?: number;
  labelAllSubtokens?: boolean;
  seed: number;
  classWeights: "none" | "auto";
  batchSize: number;
  /** The labels, in this order, that the model must have (distill: the teacher's); the data's labels must be among them. */
  labels?: readonly string[];
}

export interface Prepared {
  inputs: TrainInputs;
  /** The test sentences, scored once with the final model. */
  test?: LabelledSentence[];
  newHead: boolean;
  splits: number;
  memoryBytes: number;
  classWeights?: Float32Array;
}

export function readLabelledFile(path: string): LabelledSentence[] {
  return labelledSentencesOf(readCorpusFile(path).corpus, path);
}

/** The sentences of a corpus as training reads them: CoNLL tags as they are, span files in IOB2. */
export function labelledSentencesOf(corpus: Corpus, path: string): LabelledSentence[] {
  if (corpus.kind === "tokens") return corpus.conll.sentences.map((s) => ({ tokens: s.tokens, tags: s.tags, file: path, line: s.line }));
  return toTokenSentences(corpus, SCHEMES.IOB2).sentences.map((s) => ({ tokens: s.tokens, tags: s.tags, file: path, line: s.line }));
}

/** transformers' compute_class_weight("balanced"): N / (C · count), over first sub-token labels. */
function balancedWeights(examples: readonly Example[], labelCount: number): Float32Array {
  const counts = new Float64Array(labelCount);
  let total = 0;
  for (const e of examples) for (const l of e.labels) if (l >= 0) (counts[l]++, total++);
  return Float32Array.from(counts, (c) => (c > 0 ? total / (labelCount * c) : 1));
}

/** The base model: a checkpoint folder, or a config for random weights with a tokenizer folder. */
function baseModel(options: PrepareOptions): { config: ModelConfig; dir: string; tokenizerDir: string; lookup?: WeightLookup } {
  if (options.init) {
    if (!options.tokenizerDir) throw new NerkitError("E_USAGE", "--init needs --tokenizer DIR (make one with `nerkit tokenizer train`)");
    const tokenizer = loadTokenizer(options.tokenizerDir);
    const json = initConfig(options.init, tokenizer.vocabSize, tokenizer.padTokenId);
    return { config: parseModelConfig(json, options.init), dir: options.tokenizerDir, tokenizerDir: options.tokenizerDir };
  }
  if (!options.modelDir) throw new NerkitError("E_USAGE", "give --model DIR|HUB_ID, or --init SIZE with --tokenizer DIR");
  const checkpoint = loadCheckpoint(options.modelDir);
  const lookup = prefixTolerantLookup((n) => checkpoint.weights.has(n), (n) => checkpoint.weights.tensor(n).data);
  return { config: checkpoint.config, dir: checkpoint.dir, tokenizerDir: options.tokenizerDir ?? checkpoint.dir, lookup };
}

export function prepare(options: PrepareOptions): Prepared {
  const checkpoint = baseModel(options);
  const trainSentences = readLabelledFile(options.train);
  if (trainSentences.length === 0) throw new NerkitError("E_FORMAT", "the training file has no sentences", { file: options.train });
  // A checkpoint whose head already knows every label of the data keeps its head and label order
  // (continued training of an NER model); otherwise the data's labels get a new head.
  const dataLabels = labelListOf(trainSentences);
  const known = checkpoint.config.labels;
  const labels = options.labels ? [...options.labels] : known.length > 0 && dataLabels.every((l) => known.includes(l)) ? [...known] : dataLabels;
  const unknown = dataLabels.filter((l) => !labels.includes(l));
  if (unknown.length > 0) throw new NerkitError("E_TAG", `the training data has the label ${unknown.join(", ")}, which the model does not know (${labels.length} labels: ${labels.join(", ")})`, { file: options.train });
  const devSentences = options.dev ? readLabelledFile(options.dev) : undefined;
  const testSentences = options.test ? readLabelledFile(options.test) : undefined;
  if (devSentences) checkLabels(devSentences, labels, "dev");
  if (testSentences) checkLabels(testSentences, labels, "test");

  const arch = architectureOf(checkpoint.config, join(checkpoint.dir, "config.json"), labels);
  const { weights, newHead } = startingWeights(arch, checkpoint.lookup, checkpoint.config.labels, new SeededRandom(options.seed));
  const tokenizerFiles = readTokenizerFiles(checkpoint.tokenizerDir, { flavor: "transformers" });
  const tokenizer = tokenizerFromFiles(tokenizerFiles);
  if (tokenizer.vocabSize > arch.vocabSize) {
    throw new NerkitError("E_FORMAT", `the tokenizer has ${tokenizer.vocabSize} tokens but the model's embeddings only ${arch.vocabSize}`, { file: checkpoint.tokenizerDir });
  }
  const limit = Math.min(maxTokens(arch), tokenizerExtras(tokenizerFiles).modelMaxLength ?? Infinity);
  const maxLength = Math.min(options.maxLength ?? limit, limit);
  const build = (sentences: LabelledSentence[]) => buildExamples(sentences, tokenizer, labels, { maxLength, labelAllSubtokens: options.labelAllSubtokens });
  const train = build(trainSentences);
  const longest = Math.max(...train.examples.map((e) => e.inputIds.length));
  // Dev sentences are kept as words (the word tagger tokenizes them when it scores); the estimate's
  // data term was fitted on tokens, so they count at the training data's tokens per word.
  const trainTokens = train.examples.reduce((n, e) => n + e.inputIds.length, 0);
  const trainWords = trainSentences.reduce((n, s) => n + s.tokens.length, 0);
  const devWords = (devSentences ?? []).reduce((n, s) => n + s.tokens.length, 0);
  const exampleTokens = trainTokens + Math.round(devWords * (trainTokens / Math.max(trainWords, 1)));
  const memoryBytes = estimateMemory(arch, Math.min(options.batchSize, train.examples.length), longest, exampleTokens);
  const available = Math.max(freemem(), totalmem() * 0.5);
  if (memoryBytes > available * 0.9) {
    throw new NerkitError("E_USAGE", `training needs about ${(memoryBytes / 2 ** 30).toFixed(1)} GiB (batch ${options.batchSize} × ${longest} tokens) but ${(available / 2 ** 30).toFixed(1)} GiB is free: lower --batch-size or --max-length`);
  }
  const classWeights = options.classWeights === "auto" ? balancedWeights(train.examples, labels.length) : undefined;
  return {
    inputs: {
      arch,
      weights,
      baseConfig: { ...checkpoint.config.raw, architectures: undefined },
      tokenizer,
      tokenizerDir: checkpoint.tokenizerDir,
      train: train.examples,
      dev: devSentences,
      maxLength,
      outDir: options.outDir,
    },
    test: testSentences,
    newHead,
    splits: train.splits,
    memoryBytes,
    classWeights,
  };
}
