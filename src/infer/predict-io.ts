// Input and output of `nerkit predict`: plain text (one document per line) or JSON lines
// {"id"?, "text"} in, JSON lines {"id"?, "text", "entities"} out. A JSON line may carry its
// words as Prodigy-style "tokens" [{"text", "start", "end"}] (nerkit's span JSONL): it is then
// tagged word by word (./pretokenized-io.ts). Reading is by lines from a stream, so stdin can be
// piped through without loading it all; the bytes must be UTF-8 text (invalid UTF-8 or a binary
// file is an error with file, line and byte), and an input without a single document gets a
// warning rather than silently no output.

import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { NerkitError } from "../errors.js";
import { ioReason } from "../io/files.js";
import { utf8Lines } from "../io/utf8-lines.js";
import { JsonObject, tokensOf } from "../data/span-formats.js";
import { Word } from "../text/word-tokenizer.js";

export interface PredictInput {
  id?: string | number;
  text: string;
  /** 1-based line in the input, for error messages. */
  line: number;
  /** The text's words, when a JSON line gives them: one tag per word is predicted. */
  tokens?: Word[];
}

export type InputKind = "text" | "jsonl";

/** One input line; blank lines are skipped in JSONL and kept (as empty documents) in text. */
export function parseInputLine(line: string, kind: InputKind, lineNumber: number, file?: string): PredictInput | undefined {
  if (kind === "text") return { text: line, line: lineNumber };
  if (line.trim() === "") return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`, { file, line: lineNumber });
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new NerkitError("E_FORMAT", 'expected an object {"text": ...}', { file, line: lineNumber });
  }
  const { id, text } = record as Record<string, unknown>;
  if (typeof text !== "string") throw new NerkitError("E_FORMAT", '"text" must be a string', { file, line: lineNumber, field: "text" });
  if (id !== undefined && typeof id !== "string" && typeof id !== "number") {
    throw new NerkitError("E_FORMAT", '"id" must be a string or a number', { file, line: lineNumber, field: "id" });
  }
  let tokens: Word[] | undefined;
  try {
    tokens = tokensOf(record as JsonObject, text, "utf16");
  } catch (error) {
    throw error instanceof NerkitError ? error.at({ file, line: lineNumber }) : error;
  }
  const input: PredictInput = id === undefined ? { text, line: lineNumber } : { id, text, line: lineNumber };
  if (tokens) input.tokens = tokens;
  return input;
}

/** Guesses the input kind from the first non-blank line: JSON lines start with "{". */
export function guessInputKind(firstLine: string): InputKind {
  return firstLine.trimStart().startsWith("{") ? "jsonl" : "text";
}

/**
 * Reads documents in chunks of `chunkSize` from a file ("-" for stdin). `warn` hears about an
 * input that holds no document (the command's stderr; process.stderr unless given).
 */
export async function* readInputChunks(
  path: string,
  kind: InputKind | "auto",
  chunkSize: number,
  stdin: Readable = process.stdin,
  warn: (text: string) => void = (text) => void process.stderr.write(text),
): AsyncGenerator<PredictInput[]> {
  const stream = path === "-" ? stdin : createReadStream(path);
  const file = path === "-" ? "<stdin>" : path;
  stream.on("error", () => undefined); // reported through the iterator below
  let resolved: InputKind | undefined = kind === "auto" ? undefined : kind;
  let chunk: PredictInput[] = [];
  let documents = 0;
  try {
    for await (const { text: line, line: lineNumber } of utf8Lines(stream, file)) {
      resolved ??= line.trim() === "" ? undefined : guessInputKind(line);
      if (resolved === undefined) continue;
      const input = parseInputLine(line, resolved, lineNumber, file);
      if (!input) continue;
      chunk.push(input);
      documents++;
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
  } catch (error) {
    if (error instanceof NerkitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new NerkitError("E_IO", code === "ENOENT" ? "cannot read: no such file" : `cannot read: ${ioReason(error)}`, { file });
  }
  if (chunk.length > 0) yield chunk;
  if (documents === 0) warn(`nerkit: warning: ${file} holds no document: nothing to predict\n`);
}
