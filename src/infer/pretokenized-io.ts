// Output of `nerkit predict` for pre-tokenized input, one tag per input word, in shapes the rest
// of nerkit reads back: CoNLL input gets the predicted tag appended to each token line
// (../data/conll-columns.ts; with a gold column, `nerkit evaluate --pred-column` scores it), and a
// JSON line with "tokens" becomes a span JSONL record {"id"?, "text", "tokens", "spans", "tags"}:
// "spans" are the entities of the predicted tags (conlleval's chunking, as evaluate's default mode
// reads them), which `nerkit convert` turns back into CoNLL with the same tokens; "tags" are the
// tags themselves. Left out: scores (the word tagger keeps only the argmax).

import { Readable } from "node:stream";
import { NerkitError } from "../errors.js";
import { readTextFile, decodeUtf8 } from "../io/files.js";
import { decodeTags } from "../data/chunks.js";
import { Word } from "../text/word-tokenizer.js";

/** The whole input as text: a file, or standard input for "-". */
export async function readWholeInput(path: string, stdin: Readable): Promise<string> {
  if (path !== "-") return readTextFile(path);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  } catch (error) {
    throw new NerkitError("E_IO", `cannot read: ${(error as Error).message}`, { file: "<stdin>" });
  }
  return decodeUtf8(Buffer.concat(chunks), "<stdin>");
}

/** The span JSONL record of a pre-tokenized document and its words' predicted tags. */
export function taggedRecord(doc: { id?: string | number; text: string; tokens: readonly Word[] }, tags: readonly string[]): Record<string, unknown> {
  const spans = decodeTags(tags).map((chunk) => {
    const start = doc.tokens[chunk.start].start;
    const end = doc.tokens[chunk.end - 1].end;
    return { start, end, label: chunk.type, text: doc.text.slice(start, end) };
  });
  const record: Record<string, unknown> = doc.id === undefined ? {} : { id: doc.id };
  return Object.assign(record, { text: doc.text, tokens: doc.tokens.map((t) => ({ text: t.text, start: t.start, end: t.end })), spans, tags });
}
