// What transformers 5 does to a tokenizer.json when AutoTokenizer loads a folder: each tokenizer
// class (tokenizer_config.json's "tokenizer_class") rebuilds parts of the pipeline in Python
// instead of taking them from the file. Only the classes whose rebuild differs from the file in
// ways that change encodings are listed. nerkit's pipeline loads tokenizers this way by default,
// so that its tokens and offsets equal transformers' pipeline; `loadTokenizer(dir)` alone keeps
// the file as the tokenizers library reads it.
//
// XLMRobertaTokenizer (transformers/models/xlm_roberta/tokenization_xlm_roberta.py): the
// normalizer is only the SentencePiece charsmap (Precompiled) when the config carries one, else
// none; the pre-tokenizer is WhitespaceSplit then Metaspace, so offsets leave out the spaces.

type JsonObject = Record<string, unknown>;

export function applyTransformersClass(json: JsonObject, config: JsonObject): JsonObject {
  const name = String(config.tokenizer_class ?? "").replace(/Fast$/, "");
  if (name !== "XLMRobertaTokenizer") return json;
  const prepend = config.add_prefix_space === false ? "never" : "always";
  const charsmap = config._spm_precompiled_charsmap;
  return {
    ...json,
    normalizer: typeof charsmap === "string" ? { type: "Precompiled", precompiled_charsmap: charsmap } : null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Metaspace", replacement: "▁", prepend_scheme: prepend, split: true }],
    },
    decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: prepend, split: true },
  };
}
