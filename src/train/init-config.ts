// config.json of a model trained from random weights (`nerkit train --init`): the BERT sizes of
// Turc et al. 2019, "Well-Read Students Learn Better" (bert-tiny: 2 layers, hidden 128; bert-mini:
// 4, 256; bert-small: 4, 512; bert-medium: 8, 512; heads of 64 dimensions, feed-forward 4·hidden),
// or a config.json the user writes. The vocabulary size comes from the tokenizer.

import { NerkitError } from "../errors.js";
import { readTextFile } from "../io/files.js";

const SIZES: Record<string, { layers: number; hidden: number }> = {
  "bert-tiny": { layers: 2, hidden: 128 },
  "bert-mini": { layers: 4, hidden: 256 },
  "bert-small": { layers: 4, hidden: 512 },
  "bert-medium": { layers: 8, hidden: 512 },
};

export const INIT_NAMES = Object.keys(SIZES);

export function initConfig(init: string, vocabSize: number, padTokenId: number): Record<string, unknown> {
  const size = SIZES[init];
  if (size) {
    return {
      model_type: "bert",
      architectures: ["BertForTokenClassification"],
      vocab_size: vocabSize,
      hidden_size: size.hidden,
      num_hidden_layers: size.layers,
      num_attention_heads: size.hidden / 64,
      intermediate_size: 4 * size.hidden,
      hidden_act: "gelu",
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      initializer_range: 0.02,
      layer_norm_eps: 1e-12,
      pad_token_id: padTokenId,
      position_embedding_type: "absolute",
    };
  }
  if (!init.endsWith(".json")) throw new NerkitError("E_USAGE", `--init ${init}: use one of ${INIT_NAMES.join(", ")} or a config.json file`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readTextFile(init)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof NerkitError) throw error;
    throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`, { file: init });
  }
  return { ...json, vocab_size: json.vocab_size ?? vocabSize, pad_token_id: json.pad_token_id ?? padTokenId };
}
