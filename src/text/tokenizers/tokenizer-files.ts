// The files of a Hugging Face tokenizer folder that travel with a model: what training copies into
// its output, export copies beside the ONNX graph, and a run's fingerprint hashes. One list, so
// that the three agree. tokenizer.json is the one nerkit reads; the others are kept for
// transformers and transformers.js, which read them.

export const TOKENIZER_FILES: readonly string[] = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.txt",
  "vocab.json",
  "merges.txt",
  "sentencepiece.bpe.model",
];
