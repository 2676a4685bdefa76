// Reads a tokenizer folder from disk (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// or a vocab.txt-only BERT folder) and builds its Tokenizer with ./build.ts, which does the
// parsing and building and reads no file. Errors name the file: E_IO for a missing folder or an
// unreadable file, E_FORMAT (from the builders) for malformed content.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { type LoadTokenizerOptions, type TokenizerFiles, tokenizerFilesIn, tokenizerFromFiles } from "./build.js";
import type { Tokenizer } from "./types.js";

export { tokenizerFromFiles, tokenizerFromJson, tokenizerFilesIn, wordPieceJsonFromVocab } from "./build.js";
export type { LoadTokenizerOptions, TokenizerFiles, TokenizerFolder } from "./build.js";

/** Reads and parses a tokenizer folder's files once; loadTokenizer and the pipeline's extras share the result. */
export function readTokenizerFiles(dir: string, options: LoadTokenizerOptions = {}): TokenizerFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NerkitError("E_IO", "tokenizer folder not found", { file: dir });
  const folder = {
    name: dir,
    path: (file: string) => join(dir, file),
    read: (file: string) => (existsSync(join(dir, file)) ? readText(join(dir, file)) : undefined),
  };
  return tokenizerFilesIn(folder, options);
}

/** A tokenizer from a model folder: tokenizer.json if present, else vocab.txt (BERT). */
export function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Tokenizer {
  return tokenizerFromFiles(readTokenizerFiles(dir, options));
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new NerkitError("E_IO", `cannot read: ${(error as Error).message}`, { file });
  }
}
