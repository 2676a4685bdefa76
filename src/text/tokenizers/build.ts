// Builds a Tokenizer from a Hugging Face tokenizer.json's parsed content (and tokenizer_config.json
// for the special token names), or from a BERT vocab.txt, which is turned into the tokenizer.json
// transformers would have produced for it (BertConverter: BertNormalizer, BertPreTokenizer,
// WordPiece with "##", "[CLS] $A [SEP]"). Reads no file and imports no Node built-in: a
// TokenizerFolder hands it the files' text (./load.ts reads them from disk, the browser's loader
// fetches them). Errors name the file and field: E_IO for a missing file, E_FORMAT for JSON that
// is malformed or asks for a component nerkit does not implement. Hugging Face's snake_case keys
// stay in this module and the builders.
// Hand-written because the npm @huggingface/tokenizers returns no offsets or word ids.

import { NerkitError } from "../../errors.js";
import { AddedVocabulary, type AddedToken } from "./added-tokens.js";
import { Bpe } from "./bpe.js";
import { bool, field, FormatProblem, isObject, kind, num, optionalInt, optionalString, tokenName, type JsonObject } from "./json-fields.js";
import { buildNormalizer } from "./normalizers.js";
import { buildPostProcessor } from "./post-processors.js";
import { buildPreTokenizer } from "./pre-tokenizers.js";
import { PipelineTokenizer } from "./tokenizer.js";
import type { Model, SpecialTokens, Tokenizer } from "./types.js";
import { Unigram } from "./unigram.js";
import { applyTransformersClass } from "./transformers-classes.js";
import { WordPiece } from "./wordpiece.js";

/** A tokenizer from a parsed tokenizer.json; `config` is a parsed tokenizer_config.json, if any. */
export function tokenizerFromJson(json: unknown, config?: object): Tokenizer {
  return build(json, config, undefined);
}

export interface LoadTokenizerOptions {
  /**
   * "tokenizers" (default) reads tokenizer.json as the tokenizers library does; "transformers"
   * applies what transformers 5's tokenizer class rebuilds on load (see transformers-classes.ts).
   */
  flavor?: "tokenizers" | "transformers";
}

/**
 * A tokenizer folder's files, each read and parsed once: tokenizer.json (as the flavor rebuilds it)
 * when present, else the WordPiece tokenizer.json that vocab.txt stands for. What else a reader
 * needs from them (the decoder, model_max_length) is taken from here, not read again.
 */
export interface TokenizerFiles {
  /** The tokenizer to build, with the flavor's changes applied. */
  json: unknown;
  /** special_tokens_map.json, then tokenizer_config.json over it ({} when neither exists). */
  config: JsonObject;
  /** The file `json` came from (tokenizer.json or vocab.txt), for error messages. */
  file: string;
  /** Whether `json` came from tokenizer.json (false: made from vocab.txt). */
  fromTokenizerJson: boolean;
}

/** A tokenizer folder as the builders see it: the text of a file by name (undefined: absent), and its path for errors. */
export interface TokenizerFolder {
  /** The folder, named in errors about the folder as a whole. */
  name: string;
  path(file: string): string;
  read(file: string): string | undefined;
}

/** Parses a tokenizer folder's files once; loadTokenizer and the pipeline's extras share the result. */
export function tokenizerFilesIn(folder: TokenizerFolder, options: LoadTokenizerOptions = {}): TokenizerFiles {
  const config = {
    ...optionalJsonObject(folder, "special_tokens_map.json"),
    ...optionalJsonObject(folder, "tokenizer_config.json"),
  };
  const tokenizerFile = folder.path("tokenizer.json");
  const tokenizerText = folder.read("tokenizer.json");
  if (tokenizerText !== undefined) {
    const json = parseJson(tokenizerText, tokenizerFile);
    return { json: options.flavor === "transformers" && isObject(json) ? applyTransformersClass(json, config) : json, config, file: tokenizerFile, fromTokenizerJson: true };
  }
  const vocabText = folder.read("vocab.txt");
  if (vocabText !== undefined) return { json: wordPieceJsonFromVocab(vocabText, config), config, file: folder.path("vocab.txt"), fromTokenizerJson: false };
  throw new NerkitError("E_IO", "no tokenizer.json or vocab.txt in the tokenizer folder", { file: folder.name });
}

/** A tokenizer from files readTokenizerFiles read. */
export function tokenizerFromFiles(files: TokenizerFiles): Tokenizer {
  return build(files.json, files.config, files.file);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `malformed JSON: ${(error as Error).message}`, { file });
  }
}

function optionalJsonObject(folder: TokenizerFolder, name: string): JsonObject {
  const text = folder.read(name);
  if (text === undefined) return {};
  const file = folder.path(name);
  const value = parseJson(text, file);
  if (!isObject(value)) throw new NerkitError("E_FORMAT", "expected a JSON object", { file });
  return value;
}

function build(json: unknown, config: object | undefined, file: string | undefined): Tokenizer {
  try {
    return buildTokenizer(kind(json, "tokenizer.json"), isObject(config) ? config : {});
  } catch (error) {
    if (error instanceof FormatProblem) throw new NerkitError("E_FORMAT", error.message, { file });
    throw error;
  }
}

function buildTokenizer(json: JsonObject, config: JsonObject): Tokenizer {
  const { model, unkToken } = buildModel(field(json, "model", "tokenizer.json"));
  const normalizer = buildNormalizer(json.normalizer);
  const tokens = addedTokens(json.added_tokens);
  const idOf = (token: string) => tokens.find((t) => t.content === token)?.id ?? model.tokenToId(token);
  const specialTokens = specialTokenNames(config, json, unkToken, (t) => idOf(t) !== undefined);
  const padding = isObject(json.padding) ? json.padding : {};
  const padTokenId =
    (specialTokens.pad === undefined ? undefined : idOf(specialTokens.pad)) ?? (typeof padding.pad_id === "number" ? padding.pad_id : 0);
  return new PipelineTokenizer({
    normalizer,
    preTokenizer: buildPreTokenizer(json.pre_tokenizer),
    model,
    postProcessor: buildPostProcessor(json.post_processor),
    added: new AddedVocabulary(tokens, normalizer),
    specialTokens,
    padTokenId,
  });
}

function vocabMap(value: unknown, where: string): Map<string, number> {
  const vocab = kind(value, where);
  const map = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new FormatProblem(`${where}[${JSON.stringify(token)}] must be a token id`);
    map.set(token, id);
  }
  return map;
}

function buildModel(json: unknown): { model: Model; unkToken?: string } {
  const where = "model";
  const spec = kind(json, where);
  const type = spec.type ?? (Array.isArray(spec.vocab) ? "Unigram" : "merges" in spec ? "BPE" : "WordPiece");
  switch (type) {
    case "WordPiece": {
      const unkToken = optionalString(spec, "unk_token", where) ?? "[UNK]";
      const vocab = vocabMap(field(spec, "vocab", where), `${where}.vocab`);
      if (!vocab.has(unkToken)) throw new FormatProblem(`${where}.unk_token ${JSON.stringify(unkToken)} is not in the vocabulary`);
      const model = new WordPiece({
        vocab,
        unkToken,
        continuingSubwordPrefix: optionalString(spec, "continuing_subword_prefix", where) ?? "##",
        maxInputCharsPerWord: optionalInt(spec, "max_input_chars_per_word", where) ?? 100,
      });
      return { model, unkToken };
    }
    case "BPE": {
      const vocab = vocabMap(field(spec, "vocab", where), `${where}.vocab`);
      const rawMerges = field(spec, "merges", where);
      if (!Array.isArray(rawMerges)) throw new FormatProblem(`${where}.merges must be a list`);
      const merges = rawMerges.map((merge, k): [string, string] => {
        const parts = typeof merge === "string" ? merge.split(" ") : merge;
        if (!Array.isArray(parts) || parts.length !== 2 || parts.some((p) => typeof p !== "string")) {
          throw new FormatProblem(`${where}.merges[${k}] must be "a b" or ["a", "b"]`);
        }
        return [parts[0], parts[1]];
      });
      if (spec.dropout !== null && spec.dropout !== undefined && spec.dropout !== 0) {
        throw new FormatProblem(`${where}.dropout is not supported (encoding is deterministic)`);
      }
      const unkToken = optionalString(spec, "unk_token", where);
      if (unkToken !== undefined && !vocab.has(unkToken)) throw new FormatProblem(`${where}.unk_token ${JSON.stringify(unkToken)} is not in the vocabulary`);
      try {
        const model = new Bpe({
          vocab,
          merges,
          unkToken,
          fuseUnk: bool(spec, "fuse_unk", false, where),
          byteFallback: bool(spec, "byte_fallback", false, where),
          ignoreMerges: bool(spec, "ignore_merges", false, where),
          continuingSubwordPrefix: optionalString(spec, "continuing_subword_prefix", where),
          endOfWordSuffix: optionalString(spec, "end_of_word_suffix", where),
        });
        return { model, unkToken };
      } catch (error) {
        throw new FormatProblem(`${where}: ${(error as Error).message}`);
      }
    }
    case "Unigram": {
      const rawVocab = field(spec, "vocab", where);
      if (!Array.isArray(rawVocab)) throw new FormatProblem(`${where}.vocab must be a list of [piece, score]`);
      const vocab = rawVocab.map((entry, k): [string, number] => {
        if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "number") {
          throw new FormatProblem(`${where}.vocab[${k}] must be [piece, score]`);
        }
        return [entry[0], entry[1]];
      });
      const unkId = optionalInt(spec, "unk_id", where);
      if (unkId !== undefined && unkId >= vocab.length) throw new FormatProblem(`${where}.unk_id is outside the vocabulary`);
      const model = new Unigram({ vocab, unkId, byteFallback: bool(spec, "byte_fallback", false, where) });
      return { model, unkToken: unkId === undefined ? undefined : vocab[unkId][0] };
    }
    default:
      throw new FormatProblem(`${where}: model type ${JSON.stringify(type)} is not supported (WordPiece, BPE and Unigram are)`);
  }
}

function addedTokens(value: unknown): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FormatProblem("added_tokens must be a list");
  return value.map((item, k) => {
    const where = `added_tokens[${k}]`;
    const spec = kind(item, where);
    const special = bool(spec, "special", false, where);
    return {
      id: num(spec, "id", where),
      content: optionalString(spec, "content", where) ?? "",
      singleWord: bool(spec, "single_word", false, where),
      lstrip: bool(spec, "lstrip", false, where),
      rstrip: bool(spec, "rstrip", false, where),
      normalized: bool(spec, "normalized", !special, where),
      special,
    };
  });
}

const CONFIG_KEYS: [keyof SpecialTokens, string, string[]][] = [
  // [our name, tokenizer_config.json key, names to look for among the added tokens]
  ["cls", "cls_token", ["[CLS]", "<s>"]],
  ["sep", "sep_token", ["[SEP]", "</s>"]],
  ["pad", "pad_token", ["[PAD]", "<pad>"]],
  ["unk", "unk_token", ["[UNK]", "<unk>"]],
  ["mask", "mask_token", ["[MASK]", "<mask>"]],
  ["bos", "bos_token", ["<s>"]],
  ["eos", "eos_token", ["</s>"]],
];

/** Special token names: tokenizer_config.json first, then the model, post-processor and added tokens. */
function specialTokenNames(config: JsonObject, json: JsonObject, unkToken: string | undefined, known: (t: string) => boolean): SpecialTokens {
  const names: SpecialTokens = {};
  const post = isObject(json.post_processor) ? json.post_processor : {};
  const fromPost: Partial<Record<keyof SpecialTokens, string>> = {};
  if (Array.isArray(post.cls) && typeof post.cls[0] === "string") fromPost.cls = post.cls[0];
  if (Array.isArray(post.sep) && typeof post.sep[0] === "string") fromPost.sep = post.sep[0];
  if (Array.isArray(post.single)) {
    const ids = post.single.map((p: unknown) => (isObject(p) && isObject(p.SpecialToken) ? String(p.SpecialToken.id) : "$"));
    const at = ids.indexOf("$");
    if (at > 0) fromPost.cls = ids[at - 1];
    if (at >= 0 && at + 1 < ids.length) fromPost.sep = ids[at + 1];
  }
  const added = Array.isArray(json.added_tokens)
    ? new Set(json.added_tokens.map((t: unknown) => (isObject(t) ? t.content : undefined)))
    : new Set<unknown>();
  for (const [name, key, candidates] of CONFIG_KEYS) {
    const value =
      tokenName(config[key]) ??
      (name === "unk" ? unkToken : undefined) ??
      fromPost[name] ??
      candidates.find((c) => added.has(c) && known(c));
    if (value !== undefined) names[name] = value;
  }
  return names;
}

/** The tokenizer.json transformers builds for a vocab.txt-only BERT (its BertConverter). */
export function wordPieceJsonFromVocab(vocabText: string, config: JsonObject): JsonObject {
  const vocab: Record<string, number> = {};
  const lines = vocabText.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, id) => (vocab[line.replace(/\r$/, "")] = id));
  let nextId = lines.length;
  const name = (key: string, fallback: string) => tokenName(config[key]) ?? fallback;
  const [unk, sep, pad, cls, mask] = [
    name("unk_token", "[UNK]"),
    name("sep_token", "[SEP]"),
    name("pad_token", "[PAD]"),
    name("cls_token", "[CLS]"),
    name("mask_token", "[MASK]"),
  ];
  const addedTokens: JsonObject[] = [];
  for (const content of [pad, unk, cls, sep, mask]) {
    if (addedTokens.some((t) => t.content === content)) continue;
    if (!(content in vocab)) vocab[content] = nextId++;
    const id = vocab[content];
    addedTokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  // added_tokens_decoder (newer tokenizer_config.json) may list more tokens, with their flags.
  const decoder = isObject(config.added_tokens_decoder) ? config.added_tokens_decoder : {};
  for (const [id, spec] of Object.entries(decoder)) {
    if (!isObject(spec) || typeof spec.content !== "string" || addedTokens.some((t) => t.content === spec.content)) continue;
    addedTokens.push({ ...spec, id: Number(id) });
  }
  const lowercase = config.do_lower_case === undefined ? true : config.do_lower_case === true;
  const stripAccents = typeof config.strip_accents === "boolean" ? config.strip_accents : null;
  return {
    added_tokens: addedTokens.sort((a, b) => Number(a.id) - Number(b.id)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: config.tokenize_chinese_chars !== false,
      strip_accents: stripAccents,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      special_tokens: {
        [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] },
      },
    },
    model: { type: "WordPiece", unk_token: unk, continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
}
