// The files of a BERT tokenizer folder for a trained WordPiece vocabulary, laid out as transformers'
// BertTokenizerFast.save_pretrained writes them (../shared/fixtures/hf/bert-cased): tokenizer.json
// (BertNormalizer, BertPreTokenizer, WordPiece with "##", "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B
// [SEP]", WordPiece decoder), vocab.txt (one token a line, in id order) and tokenizer_config.json.
// Left out: special_tokens_map.json, which transformers no longer writes or needs.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { writeFileAtomic } from "../../io/files.js";
import { buildNormalizer } from "./normalizers.js";
import { buildPreTokenizer } from "./pre-tokenizers.js";
import { countWords, trainWordPiece, type TrainedWordPiece } from "./train-wordpiece.js";

export const BERT_SPECIAL_TOKENS = { pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]", mask: "[MASK]" } as const;
/** In this order they take ids 0 to 4, as in the fixtures' (and bert-base's first) vocabularies. */
export const BERT_SPECIAL_ORDER = [BERT_SPECIAL_TOKENS.pad, BERT_SPECIAL_TOKENS.unk, BERT_SPECIAL_TOKENS.cls, BERT_SPECIAL_TOKENS.sep, BERT_SPECIAL_TOKENS.mask];
export const CONTINUING_SUBWORD_PREFIX = "##";

/** BertNormalizer as BertWordPieceTokenizer configures it; strip_accents null follows lowercase. */
export function bertNormalizerJson(lowercase: boolean) {
  return { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase };
}

export const BERT_PRE_TOKENIZER_JSON = { type: "BertPreTokenizer" };

export interface BertFolderFiles {
  "tokenizer.json": string;
  "vocab.txt": string;
  "tokenizer_config.json": string;
}

export function bertFolderFiles(vocab: readonly string[], options: { lowercase: boolean; modelMaxLength?: number }): BertFolderFiles {
  const idOf = new Map(vocab.map((token, id) => [token, id]));
  const { cls, sep, pad, unk, mask } = BERT_SPECIAL_TOKENS;
  const clsId = idOf.get(cls);
  const sepId = idOf.get(sep);
  if (clsId === undefined || sepId === undefined || !idOf.has(unk)) throw new NerkitError("E_USAGE", "the vocabulary lacks [CLS], [SEP] or [UNK]");
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const VOCAB_PLACE = "\u0000vocab\u0000";
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_ORDER.filter((t) => idOf.has(t)).map((content) => ({
      id: idOf.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: bertNormalizerJson(options.lowercase),
    pre_tokenizer: BERT_PRE_TOKENIZER_JSON,
    post_processor: {
      type: "TemplateProcessing",
      single: [special(cls, 0), sequence("A", 0), special(sep, 0)],
      pair: [special(cls, 0), sequence("A", 0), special(sep, 0), sequence("B", 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: CONTINUING_SUBWORD_PREFIX, cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: CONTINUING_SUBWORD_PREFIX,
      max_input_chars_per_word: 100,
      vocab: VOCAB_PLACE,
    },
  };
  // JSON.stringify puts integer-like keys ("1996") of an object first; the vocabulary is written
  // by hand so that it stays in id order, as the reference writes it.
  const indent = "      ";
  const vocabJson = `{\n${vocab.map((t, id) => `${indent}${JSON.stringify(t)}: ${id}`).join(",\n")}\n    }`;
  const tokenizerJson = JSON.stringify(json, null, 2).replace(JSON.stringify(VOCAB_PLACE), () => vocabJson) + "\n";
  const config = {
    cls_token: cls,
    do_lower_case: options.lowercase,
    mask_token: mask,
    model_max_length: options.modelMaxLength ?? 512,
    pad_token: pad,
    sep_token: sep,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: "BertTokenizer",
    unk_token: unk,
  };
  return {
    "tokenizer.json": tokenizerJson,
    "vocab.txt": vocab.join("\n") + "\n",
    "tokenizer_config.json": JSON.stringify(config, null, 2) + "\n",
  };
}

export interface BertTrainOptions {
  vocabSize: number;
  lowercase: boolean;
  minFrequency?: number;
  limitAlphabet?: number;
}

export interface TrainedBertTokenizer extends TrainedWordPiece {
  files: BertFolderFiles;
  /** Words of the training text (with repeats), and distinct words. */
  wordCount: number;
  distinctWords: number;
}

/**
 * A BERT tokenizer trained on texts: words are counted through the same normalizer and
 * pre-tokenizer the written tokenizer.json names, then the WordPiece trainer builds the vocabulary.
 * Defaults are BertWordPieceTokenizer.train's (min_frequency 2, limit_alphabet 1000).
 */
export function trainBertTokenizer(texts: Iterable<string>, options: BertTrainOptions): TrainedBertTokenizer {
  const normalizer = buildNormalizer(bertNormalizerJson(options.lowercase));
  const preTokenizer = buildPreTokenizer(BERT_PRE_TOKENIZER_JSON)!;
  const words = countWords(texts, normalizer, preTokenizer);
  const trained = trainWordPiece(words, {
    vocabSize: options.vocabSize,
    minFrequency: options.minFrequency ?? 2,
    limitAlphabet: options.limitAlphabet ?? 1000,
    specialTokens: BERT_SPECIAL_ORDER,
    continuingSubwordPrefix: CONTINUING_SUBWORD_PREFIX,
  });
  let wordCount = 0;
  for (const count of words.values()) wordCount += count;
  return { ...trained, files: bertFolderFiles(trained.vocab, options), wordCount, distinctWords: words.size };
}

/** Writes the folder (made if missing), each file atomically; returns the paths written. */
export function writeBertFolder(dir: string, files: BertFolderFiles): string[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new NerkitError("E_IO", `cannot create the folder: ${(error as Error).message}`, { file: dir });
  }
  return Object.entries(files).map(([name, content]) => {
    const path = join(dir, name);
    writeFileAtomic(path, content);
    return path;
  });
}
