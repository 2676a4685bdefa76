// What the pipeline needs from a tokenizer folder beyond encoding: how tokens turn back into text
// (the decoder), whether the model marks word continuations (WordPiece's "##", which decides how
// words are told apart), and the longest input the tokenizer allows (model_max_length).
// It reads no file: it takes the files readTokenizerFiles parsed for the tokenizer itself, so that
// tokenizer.json (megabytes for XLM-R) is read and parsed once per load.

import { TokensToString } from "./aggregation.js";
import { tokensToStringFor } from "./token-decoders.js";
import { slicesAtWhitespace } from "./sliced-encoding.js";
import type { TokenizerFiles } from "../text/tokenizers/index.js";

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
  /** Tokens never cross whitespace, so a long text may be tokenized in slices (./sliced-encoding.ts). */
  slicesAtWhitespace: boolean;
}

/**
 * The extras of a tokenizer whose files readTokenizerFiles already parsed (with the "transformers"
 * flavor, so the decoder is the one transformers' tokenizer class rebuilds): nothing is read again.
 */
export function tokenizerExtras(files: TokenizerFiles): TokenizerExtras {
  const limit = files.config.model_max_length;
  const modelMaxLength = typeof limit === "number" && limit > 0 && limit < 1e9 ? limit : undefined;
  const json = files.json as Record<string, unknown>;
  if (!files.fromTokenizerJson) {
    return { tokensToString: tokensToStringFor({ type: "WordPiece", prefix: "##", cleanup: true }), continuingSubwordPrefix: "##", modelMaxLength, keepsFirstTokenSpace: false, slicesAtWhitespace: true };
  }
  const post = (json.post_processor ?? {}) as Record<string, unknown>;
  const model = (json.model ?? {}) as Record<string, unknown>;
  const prefix = model.continuing_subword_prefix;
  return {
    tokensToString: tokensToStringFor(json.decoder as Parameters<typeof tokensToStringFor>[0]),
    continuingSubwordPrefix: typeof prefix === "string" && prefix !== "" ? prefix : undefined,
    modelMaxLength,
    keepsFirstTokenSpace: post.type === "RobertaProcessing" && post.trim_offsets !== false && post.add_prefix_space !== false,
    slicesAtWhitespace: slicesAtWhitespace(json),
  };
}
