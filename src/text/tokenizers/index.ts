// Hugging Face tokenizers with offsets and word ids, for NER: WordPiece (BERT, mBERT, DistilBERT),
// byte-level BPE (RoBERTa) and Unigram (XLM-R) read from a tokenizer.json, or a vocab.txt-only
// BERT folder. Encodings match the Python `tokenizers` library id for id, with offsets in UTF-16
// units. This is the public surface; the pipeline's steps live in the other files of this folder.
// Hand-written because @huggingface/tokenizers (npm) returns neither offsets nor word ids.

export type { Encoding, EncodeOptions, SpecialTokens, Tokenizer } from "./types.js";
export { loadTokenizer, readTokenizerFiles, tokenizerFromFiles, tokenizerFromJson } from "./load.js";
export type { LoadTokenizerOptions, TokenizerFiles } from "./load.js";
export { alignLabels, IGNORE_INDEX } from "./align-labels.js";
