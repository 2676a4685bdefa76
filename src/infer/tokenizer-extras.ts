// What the pipeline needs from a tokenizer folder beyond encoding: how tokens turn back into text
// (the decoder), whether the model marks word continuations (WordPiece's "##", which decides how
// words are told apart), and the longest input the tokenizer allows (model_max_length).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TokensToString } from "./aggregation.js";
import { tokensToStringFor } from "./token-decoders.js";
import { applyTransformersClass } from "../text/tokenizers/transformers-classes.js";

export interface TokenizerExtras {
  tokensToString: TokensToString;
  /** Set for word-aware models (WordPiece); undefined for BPE and Unigram, which the pipeline treats heuristically. */
  continuingSubwordPrefix?: string;
  /** tokenizer_config.json's model_max_length, when it is a real limit. */
  modelMaxLength?: number;
  /**
   * RobertaProcessing with trim_offsets and add_prefix_space leaves the leading space in the offsets
   * of the first token of every encoding it trims, overflow windows included: transformers' windows
   * after the first then start one character early (at the space). "hf" windows reproduce it.
   */
  keepsFirstTokenSpace: boolean;
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined; // the tokenizer loader reports malformed files
  }
}

export function readTokenizerExtras(dir: string): TokenizerExtras {
  const config = readJson(join(dir, "tokenizer_config.json"));
  const file = readJson(join(dir, "tokenizer.json"));
  // The decoder of the tokenizer the pipeline loads: as transformers' tokenizer class rebuilds it.
  const json = file && applyTransformersClass(file, config ?? {});
  const limit = config?.model_max_length;
  const modelMaxLength = typeof limit === "number" && limit > 0 && limit < 1e9 ? limit : undefined;
  if (!json) {
    return { tokensToString: tokensToStringFor({ type: "WordPiece", prefix: "##", cleanup: true }), continuingSubwordPrefix: "##", modelMaxLength, keepsFirstTokenSpace: false };
  }
  const post = (json.post_processor ?? {}) as Record<string, unknown>;
  const model = (json.model ?? {}) as Record<string, unknown>;
  const prefix = model.continuing_subword_prefix;
  return {
    tokensToString: tokensToStringFor(json.decoder as Parameters<typeof tokensToStringFor>[0]),
    continuingSubwordPrefix: typeof prefix === "string" && prefix !== "" ? prefix : undefined,
    modelMaxLength,
    keepsFirstTokenSpace: post.type === "RobertaProcessing" && post.trim_offsets !== false && post.add_prefix_space !== false,
  };
}
