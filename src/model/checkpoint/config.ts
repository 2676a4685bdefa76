// Reads a Hugging Face `config.json` from disk into a typed ModelConfig; the interpreting is
// ./model-config.ts's (re-exported here), which reads no file so that the browser's loader shares it.

import { NerkitError } from "../../errors.js";
import { readTextFile } from "../../io/files.js";
import { ModelConfig, parseModelConfig } from "./model-config.js";

export * from "./model-config.js";

/** Reads and interprets `config.json` at `path`. */
export function readModelConfig(path: string): ModelConfig {
  const text = readTextFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `not valid JSON: ${(error as Error).message}`, { file: path });
  }
  return parseModelConfig(json, path);
}
