// Text in, entities out: the steps of a token-classification pipeline, each a function a test can
// call alone: tokenize into windows → batch with dynamic padding → model → label probabilities per
// token → aggregate into entities → merge windows. Every step reproduces transformers'
// TokenClassificationPipeline rule for rule; the defaults are nerkit's own (DEFAULT_READING): words
// labelled by their first sub-token, the label training puts on a word (labels go on first
// sub-tokens only), so a word is never shown in pieces; and long texts read whole, in overlapping
// windows. PIPELINE_PARITY gives the pipeline's own defaults (one item per token, a long text cut
// at the model's limit) where its output must be reproduced.

import { NerkitError } from "../errors.js";
import { Tokenizer, readTokenizerFiles, tokenizerFromFiles } from "../text/tokenizers/index.js";
import { loadCheckpoint } from "../model/checkpoint/load-checkpoint.js";
import { Architecture, architectureOf, maxTokens } from "../model/architecture.js";
import { Batch, SessionOptions, TokenClassifierSession } from "../model/session.js";
import {
  AggregationStrategy,
  argmax,
  GroupedEntity,
  TokenEntity,
  TokenPrediction,
  groupEntities,
  labelItems,
  labelledItems,
  mergeOverlapping,
  softmaxRows,
} from "./aggregation.js";
import { viterbi } from "./viterbi.js";
import { TokenizerExtras, tokenizerExtras } from "./tokenizer-extras.js";
import { SLICE_CHARS, encodeInSlices } from "./sliced-encoding.js";
import { TokenRange, overflowWindows, sentenceWindows } from "./windows.js";
import { TagProgress, TagWordsOptions, TaggedWords, WordTaggerModel, tagWordsSteps, wordLogitsSteps } from "./word-tagger.js";
import { exportedQuantization } from "../model/export/transformers-js.js";
import type { Quantization } from "../model/export/export-model.js";
import { CalibrationFile } from "../metrics/calibration-file.js";
import { readModelCalibration } from "../model/checkpoint/calibration.js";
import { RunCalibration, temperatureRows, temperatureUnitScores } from "./calibrated-scores.js";

export type WindowMode = "hf" | "overlap" | "sentences";
export const WINDOW_MODES: readonly WindowMode[] = ["hf", "overlap", "sentences"];

/** nerkit's defaults: whole words labelled as training labels them (first sub-token), the whole text read. */
export const DEFAULT_READING: Readonly<{ aggregation: AggregationStrategy; windows: WindowMode }> = { aggregation: "first", windows: "overlap" };

/** transformers' TokenClassificationPipeline defaults: one item per token, and only the first window of a long text. */
export const PIPELINE_PARITY: Readonly<{ aggregation: AggregationStrategy; windows: WindowMode }> = { aggregation: "none", windows: "hf" };

export interface PredictOptions {
  /** How tokens become entities; "first" by default (DEFAULT_READING; the pipeline's own default is "none"). */
  aggregation?: AggregationStrategy;
  /** Tokens per window, special tokens included; the model's (and tokenizer's) limit by default. */
  maxLength?: number;
  /** Tokens shared by consecutive windows ("overlap" and "sentences"; "hf" only with a stride). */
  stride?: number;
  /**
   * How a text longer than one window is read:
   * - "overlap" (default): overlapping windows over the whole text (stride: a quarter of the window by default);
   * - "hf": as transformers 5's pipeline does: cut at maxLength; with a stride, overlapping
   *   windows over the first maxLength tokens only (the rest of the text is not read: onTruncate says so);
   * - "sentences": windows that end at sentence boundaries where they can.
   */
  windows?: WindowMode;
  /** Windows run through the model together. */
  batchSize?: number;
  /** Labels (or entity types) left out of the result; ["O"] by default. */
  ignoreLabels?: string[];
  /** Entities scoring below this are left out (the score shown: calibrated when the model has a calibration). */
  threshold?: number;
  /** "argmax" (the pipeline's) labels each token or word alone; "viterbi" takes the best sequence the tagging scheme allows. */
  decode?: DecodeMode;
}

export type DecodeMode = "argmax" | "viterbi";

/**
 * An entity: type, text and [start, end) in UTF-16 units of the input, score; `word` is the tokens
 * decoded. With a calibration (the model folder's calibration.json), `score` is calibrated and
 * `raw_score` (snake_case: the name the JSON output and the API carry) is the score an uncalibrated
 * run gives; without one there is no `raw_score` and `score` is the raw score.
 */
export interface Entity {
  type: string;
  text: string;
  start: number;
  end: number;
  score: number;
  raw_score?: number;
  word: string;
}

/** With aggregation "none": one item per token (`score` and `raw_score` as for Entity). */
export interface TokenItem {
  label: string;
  index: number;
  text: string;
  start: number;
  end: number;
  score: number;
  raw_score?: number;
  word: string;
}

export interface LoadOptions extends SessionOptions {
  /** Apply the folder's calibration.json when it has one (default true); false: raw scores, as if it had none. */
  calibration?: boolean;
}

interface Window {
  text: number;
  range: TokenRange;
  ids: number[];
  /** Per window position: index into the text's content tokens, or -1 for a special token. */
  source: number[];
  /** The first token's offsets keep its leading space (see TokenizerExtras.keepsFirstTokenSpace). */
  untrimmedFirst: boolean;
}

interface Encoded {
  text: string;
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  wordIds: (number | null)[];
}

export class NerPipeline {
  constructor(
    readonly arch: Architecture,
    readonly tokenizer: Tokenizer,
    readonly extras: TokenizerExtras,
    private readonly session: TokenClassifierSession,
    private readonly template: { prefix: number[]; suffix: number[] },
    /** The session's quantization (int8 also when the folder is an int8 export). */
    readonly quantize?: Quantization,
    /** The calibration applied to every score (calibrated-scores.ts); undefined: raw scores. */
    readonly calibration?: CalibrationFile,
  ) {}

  /** The longest window the model and tokenizer allow, special tokens included. */
  get maxLength(): number {
    return Math.min(maxTokens(this.arch), this.extras.modelMaxLength ?? Infinity);
  }

  /** Step 1: the content tokens of each text (special tokens are added per window). */
  encode(texts: readonly string[]): Encoded[] {
    return texts.map((text) => {
      const e = this.tokenizer.encode(text, { addSpecialTokens: false });
      return { text, ids: e.ids, tokens: e.tokens, offsets: e.offsets, wordIds: e.wordIds };
    });
  }

  /** Step 2: windows of at most maxLength tokens with the special tokens around each. */
  windows(encoded: readonly Encoded[], options: PredictOptions): Window[] {
    return encoded.flatMap((e, text) => this.textWindows(e, text, options));
  }

  /** The windows of one text (`text`: its index in the run). */
  private textWindows(e: Encoded, text: number, options: PredictOptions): Window[] {
    const maxLength = options.maxLength ?? this.maxLength;
    const specials = this.template.prefix.length + this.template.suffix.length;
    const size = maxLength - specials;
    if (maxLength > this.maxLength) {
      throw new NerkitError("E_USAGE", `--max-length ${maxLength} is more than the model reads (${this.maxLength} tokens)`);
    }
    const windows: Window[] = [];
    if (e.ids.length === 0) return windows;
    const ranges = this.ranges(e, size, maxLength, options);
    const untrimmed = (options.windows ?? DEFAULT_READING.windows) === "hf" && this.extras.keepsFirstTokenSpace;
    const read = ranges[ranges.length - 1].end;
    if (read < e.ids.length) this.onTruncate?.(text, read, e.ids.length);
    for (const range of ranges) {
      const content = e.ids.slice(range.start, range.end);
      const source = [...this.template.prefix.map(() => -1), ...content.map((_, i) => range.start + i), ...this.template.suffix.map(() => -1)];
      windows.push({ text, range, ids: [...this.template.prefix, ...content, ...this.template.suffix], source, untrimmedFirst: untrimmed && range.start > 0 });
    }
    return windows;
  }

  /** The token ranges one text is read in. */
  private ranges(e: Encoded, size: number, maxLength: number, options: PredictOptions): TokenRange[] {
    const mode = options.windows ?? DEFAULT_READING.windows;
    if (mode === "hf") {
      if (options.stride === undefined) return [{ start: 0, end: Math.min(e.ids.length, size) }];
      // transformers 5.17 reads only the first maxLength tokens, extended to the end of the word the
      // last of them belongs to, and splits those into overflow windows (seen on all four fixture
      // models); the rest of the text is not read.
      let cut = Math.min(e.ids.length, maxLength);
      while (cut < e.ids.length && e.wordIds[cut] !== null && e.wordIds[cut] === e.wordIds[cut - 1]) cut++;
      return overflowWindows(cut, size, options.stride);
    }
    const stride = options.stride ?? Math.floor(size / 4);
    if (mode === "overlap") return overflowWindows(e.ids.length, size, stride);
    return sentenceWindows(e.ids.length, size, stride, sentenceStarts(e));
  }

  /** Called when a text is longer than what its windows read (mode "hf"). */
  onTruncate?: (text: number, read: number, total: number) => void;

  /** Step 3: batches of windows of similar length, padded to the longest in the batch; logits per window. */
  async logits(windows: readonly Window[], batchSize: number): Promise<Float32Array[]> {
    const L = this.arch.labels.length;
    const order = windows.map((_, i) => i).sort((a, b) => windows[b].ids.length - windows[a].ids.length);
    const result: Float32Array[] = new Array(windows.length);
    for (let b = 0; b < order.length; b += batchSize) {
      const members = order.slice(b, b + batchSize);
      const length = windows[members[0]].ids.length;
      const batch: Batch = {
        rows: members.length,
        length,
        inputIds: new BigInt64Array(members.length * length).fill(BigInt(this.tokenizer.padTokenId)),
        attentionMask: new BigInt64Array(members.length * length),
      };
      members.forEach((w, row) => {
        windows[w].ids.forEach((id, t) => {
          batch.inputIds[row * length + t] = BigInt(id);
          batch.attentionMask[row * length + t] = 1n;
        });
      });
      const logits = await this.session.run(batch); // (B, T, L)
      members.forEach((w, row) => {
        result[w] = logits.slice(row * length * L, (row * length + windows[w].ids.length) * L);
      });
    }
    return result;
  }

  /** Step 4: label probabilities of each content token of a window, with what aggregation needs. */
  predictions(window: Window, logits: Float32Array, encoded: Encoded): TokenPrediction[] {
    const L = this.arch.labels.length;
    const scores = softmaxRows(logits, window.ids.length, L);
    const unk = this.tokenizer.specialTokens.unk === undefined ? undefined : this.tokenizer.tokenToId(this.tokenizer.specialTokens.unk);
    const out: TokenPrediction[] = [];
    window.source.forEach((k, index) => {
      if (k < 0) return;
      let [start, end] = encoded.offsets[k];
      let token = encoded.tokens[k];
      if (window.untrimmedFirst && k === window.range.start && /^Ġ(?!Ġ)/.test(token) && start > 0) start -= 1;
      const surface = encoded.text.slice(start, end);
      let isSubword: boolean;
      if (this.extras.continuingSubwordPrefix) {
        isSubword = codePoints(token) !== codePoints(surface);
      } else {
        // The pipeline's fallback for tokenizers that do not mark continuations: no space just before or at the start.
        isSubword = start > 0 && !encoded.text.slice(start - 1, start + 1).includes(" ");
      }
      if (encoded.ids[k] === unk) {
        token = surface;
        isSubword = false;
      }
      out.push({ index, token, start, end, scores: scores[index], isSubword });
    });
    return out;
  }

  /** Runs texts through every step; one result list per text. */
  async run(texts: readonly string[], options: PredictOptions = {}): Promise<(Entity[] | TokenItem[])[]> {
    const aggregation = options.aggregation ?? DEFAULT_READING.aggregation;
    const ignore = new Set(options.ignoreLabels ?? ["O"]);
    const threshold = options.threshold ?? 0;
    const pause = pauser();
    // One text at a time, and a long text in slices where the tokenizer allows it, with pauses
    // between: a server's event loop answers other requests meanwhile.
    const encoded: Encoded[] = [];
    for (const text of texts) {
      encoded.push(this.extras.slicesAtWhitespace && text.length > SLICE_CHARS ? { text, ...(await encodeInSlices(this.tokenizer, text, pause)) } : this.encode([text])[0]);
      await pause();
    }
    const windows: Window[] = [];
    for (let text = 0; text < encoded.length; text++) {
      windows.push(...this.textWindows(encoded[text], text, options));
      await pause();
    }
    const logits = await this.logits(windows, options.batchSize ?? 8);
    const calibration = new RunCalibration(this.calibration);
    const temperature = calibration.temperature;
    const perText: (Entity | TokenItem)[][] = texts.map(() => []);
    const windowCounts = texts.map(() => 0);
    for (let w = 0; w < windows.length; w++) {
      // A long text has thousands of windows: reading them all at once held the event loop for seconds.
      await pause();
      const window = windows[w];
      const e = encoded[window.text];
      const tokens = this.predictions(window, logits[w], e);
      windowCounts[window.text]++;
      const units = labelledItems(tokens, aggregation);
      const chosen = options.decode === "viterbi" ? viterbi(units.map((u) => u.scores), this.arch.labels) : undefined;
      const wordLevel = aggregation !== "none" && aggregation !== "simple";
      const items: TokenEntity[] = labelItems(units, this.arch.labels, wordLevel ? this.extras.tokensToString : undefined, chosen);
      // The same items scored at temperature T: same labels, so grouped into the same entities.
      let tempered: TokenEntity[] | undefined;
      if (temperature !== undefined) {
        const scaled = temperatureRows(logits[w], window.ids.length, this.arch.labels.length, temperature);
        const scores = temperatureUnitScores(units, chosen ?? units.map((u) => argmax(u.scores)), aggregation, scaled);
        tempered = items.map((item, i) => ({ ...item, score: scores[i] }));
      }
      if (aggregation === "none") {
        items.forEach((t, i) => {
          if (ignore.has(t.label)) return;
          const item = tokenItem(t, e.text);
          if (calibration.score(item, t.label.replace(/^[BIESLU]-/, ""), tempered?.[i].score) >= threshold) perText[window.text].push(item);
        });
        continue;
      }
      const temperedGroups = tempered && groupEntities(tempered, this.extras.tokensToString);
      groupEntities(items, this.extras.tokensToString).forEach((g, i) => {
        if (ignore.has(g.type)) return;
        const entity = entityOf(g, e.text);
        if (calibration.score(entity, g.type, temperedGroups?.[i].score) >= threshold) perText[window.text].push(entity);
      });
    }
    const merged = perText.map((list, i) => (windowCounts[i] > 1 && aggregation !== "none" ? mergeOverlapping(list as Entity[]) : list));
    return merged.map((list) => calibration.finish(list)) as (Entity[] | TokenItem[])[];
  }

  /** Pre-split words (CoNLL tokens) in, one tag per word out, with progress per batch (./word-tagger.ts). */
  tagWords(sentences: readonly (readonly string[])[], options: TagWordsOptions & { maxLength?: number } = {}): AsyncGenerator<TagProgress, string[][]> {
    return tagWordsSteps(this.wordTagger(options.maxLength), sentences, options);
  }

  /** tagWords, with each word's logits row beside its tag (for calibration). */
  tagWordsWithLogits(sentences: readonly (readonly string[])[], options: TagWordsOptions & { maxLength?: number } = {}): AsyncGenerator<TagProgress, Required<TaggedWords>> {
    return wordLogitsSteps(this.wordTagger(options.maxLength), sentences, options);
  }

  private wordTagger(maxLength = this.maxLength): WordTaggerModel {
    if (maxLength > this.maxLength) throw new NerkitError("E_USAGE", `--max-length ${maxLength} is more than the model reads (${this.maxLength} tokens)`);
    return { session: this.session, tokenizer: this.tokenizer, labels: this.arch.labels, maxLength };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Slices of synchronous work: pause() gives the event loop a turn once PAUSE_EVERY_MS have passed since the last turn. */
const PAUSE_EVERY_MS = 10;

function pauser(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < PAUSE_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/** Token indices where a sentence starts: after a token ending in . ! ? followed by whitespace or a line break. */
function sentenceStarts(e: Encoded): number[] {
  const starts: number[] = [];
  for (let k = 1; k < e.offsets.length; k++) {
    const previousEnd = e.offsets[k - 1][1];
    const gap = e.text.slice(previousEnd, e.offsets[k][0]);
    if ((/[.!?…]["'”’)\]]*$/.test(e.text.slice(Math.max(0, previousEnd - 3), previousEnd)) && /\s/.test(gap)) || gap.includes("\n")) starts.push(k);
  }
  return starts;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function entityOf(g: GroupedEntity, text: string): Entity {
  return { type: g.type, text: text.slice(g.start, g.end), start: g.start, end: g.end, score: g.score, word: g.word };
}

function tokenItem(t: TokenEntity, text: string): TokenItem {
  return { label: t.label, index: t.index, text: text.slice(t.start, t.end), start: t.start, end: t.end, score: t.score, word: t.word };
}

/** The special tokens a single-sequence template puts before and after the content. */
function specialTemplate(tokenizer: Tokenizer): { prefix: number[]; suffix: number[] } {
  const e = tokenizer.encode("a", { addSpecialTokens: true });
  const first = e.specialTokensMask.indexOf(0);
  const last = e.specialTokensMask.lastIndexOf(0);
  if (first < 0) return { prefix: e.ids, suffix: [] };
  return { prefix: e.ids.slice(0, first), suffix: e.ids.slice(last + 1) };
}

/**
 * Loads a checkpoint folder (config.json, model.safetensors, tokenizer files) into a pipeline. A
 * folder written by `nerkit export --quantize int8` runs the int8 model, as its onnx/model_quantized.onnx would.
 * The folder's calibration.json, when it has one, is applied to every score (unless `calibration: false`).
 */
export async function loadPipeline(dir: string, options: LoadOptions = {}): Promise<NerPipeline> {
  const checkpoint = loadCheckpoint(dir);
  // Read before the session is built: a bad calibration.json fails fast, naming the file and field.
  const calibration = options.calibration === false ? undefined : readModelCalibration(checkpoint.dir);
  options = { ...options, quantize: options.quantize ?? exportedQuantization(checkpoint.config.raw) };
  const arch = architectureOf(checkpoint.config, `${checkpoint.dir}/config.json`);
  const tokenizerFiles = readTokenizerFiles(checkpoint.dir, { flavor: "transformers" });
  const tokenizer = tokenizerFromFiles(tokenizerFiles);
  if (tokenizer.vocabSize > arch.vocabSize) {
    throw new NerkitError("E_FORMAT", `the tokenizer has ${tokenizer.vocabSize} tokens but the model's embeddings only ${arch.vocabSize}`, { file: checkpoint.dir });
  }
  const session = await TokenClassifierSession.create(arch, (name, into) => checkpoint.weights.tensor(name, into), options);
  return new NerPipeline(arch, tokenizer, tokenizerExtras(tokenizerFiles), session, specialTemplate(tokenizer), options.quantize, calibration);
}
