// JSON span files in the shapes annotation tools export:
// - "jsonl" (spaCy style): {"text", "spans" | "ents" | "entities": [{"start", "end", "label"}] or [[start, end, label]]}
// - "doccano": {"text", "label": [[start, end, label]]} or {"text", "entities": [{"start_offset", "end_offset", "label"}]}
// - "labelstudio": Label Studio's JSON export, an array of tasks (or one task per line) with
//   data.text and annotations[].result[].value.{start, end, labels}; the first annotation that was
//   not cancelled is used.
// Every reader returns SpanDocuments with UTF-16 offsets (converted from code points on request)
// and checks each span against its "text" when the file gives one.

import { NerkitError, SkippedRecord } from "../errors.js";
import { splitLines } from "../io/files.js";
import { OffsetUnit, codePointToUtf16, utf16ToCodePoint } from "../text/offsets.js";
import { Word } from "../text/word-tokenizer.js";
import { Span, SpanDocument, validateSpans } from "./spans.js";

export const SPAN_FORMATS = ["jsonl", "doccano", "labelstudio"] as const;
export type SpanFormat = (typeof SPAN_FORMATS)[number];

export interface ReadSpansOptions {
  file?: string;
  lenient?: boolean;
  /** Unit of the offsets in the file; "utf16" (JavaScript string indices) by default. */
  offsetUnit?: OffsetUnit;
}

export interface SpanCorpus {
  documents: SpanDocument[];
  skipped: SkippedRecord[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
interface RawSpan extends Span {
  text?: string;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short JSON rendering for error messages; never throws, even on very deep values. */
function preview(value: Json | undefined): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // JSON.parse reads nesting that JSON.stringify's recursion cannot write back.
    return Array.isArray(value) ? "a deeply nested array" : "a deeply nested value";
  }
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

function fail(message: string, field?: string): never {
  throw new NerkitError("E_FORMAT", message, { field });
}

function textOf(record: JsonObject, field: string): string {
  const text = record[field];
  if (typeof text !== "string") fail(`expected a string, found ${preview(text)}`, field);
  return text;
}

/** One span from [start, end, label] or an object with start/end (or start_offset/end_offset) and label. */
function rawSpan(value: Json, field: string): RawSpan {
  if (Array.isArray(value)) {
    const [start, end, label] = value;
    if (typeof start !== "number" || typeof end !== "number" || typeof label !== "string") {
      fail(`expected [start, end, label], found ${preview(value)}`, field);
    }
    return { start, end, label };
  }
  if (!isObject(value)) fail(`expected a span object or [start, end, label], found ${preview(value)}`, field);
  const start = value.start ?? value.start_offset;
  const end = value.end ?? value.end_offset;
  const label = value.label ?? (Array.isArray(value.labels) ? value.labels[0] : undefined);
  if (typeof start !== "number" || typeof end !== "number" || typeof label !== "string") {
    fail(`expected numeric "start", "end" and a string "label", found ${preview(value)}`, field);
  }
  const text = typeof value.text === "string" ? value.text : undefined;
  return { start, end, label, text };
}

/** Converts offsets to UTF-16 and checks each span against the text the file gives for it. */
function finishDocument(text: string, spans: RawSpan[], unit: OffsetUnit, id: string | number | undefined, line: number): SpanDocument {
  const toUtf16 = unit === "codepoint" ? codePointToUtf16(text) : (offset: number) => offset;
  const converted = spans.map((span) => ({ ...span, start: toUtf16(span.start), end: toUtf16(span.end) }));
  for (const span of converted) {
    if (span.text !== undefined && text.slice(span.start, span.end) !== span.text) {
      const asCodePoints = unit === "utf16" ? codePointToUtf16(text) : undefined;
      const hint =
        asCodePoints && text.slice(asCodePoints(span.start), asCodePoints(span.end)) === span.text
          ? " (the offsets count code points: read the file with --offset-unit codepoint)"
          : "";
      fail(`span [${span.start}, ${span.end}) is '${text.slice(span.start, span.end)}' in the text, but the file says '${span.text}'${hint}`);
    }
  }
  const doc: SpanDocument = { text, spans: converted.map(({ start, end, label }) => ({ start, end, label })), line };
  if (id !== undefined) doc.id = id;
  validateSpans(doc);
  return doc;
}

function idOf(record: JsonObject): string | number | undefined {
  const id = record.id;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/** Prodigy-style tokens [{"text", "start", "end"}], checked against the text (also read by predict's JSON lines). */
export function tokensOf(record: JsonObject, text: string, unit: OffsetUnit): Word[] | undefined {
  const list = record.tokens;
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) fail(`expected a list of tokens, found ${preview(list)}`, "tokens");
  const toUtf16 = unit === "codepoint" ? codePointToUtf16(text) : (offset: number) => offset;
  let previousEnd = 0;
  return list.map((token, i) => {
    if (!isObject(token) || typeof token.start !== "number" || typeof token.end !== "number") {
      fail(`expected {"text", "start", "end"}, found ${preview(token)}`, `tokens[${i}]`);
    }
    const start = toUtf16(token.start);
    const end = toUtf16(token.end);
    const word = text.slice(start, end);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= text.length) || (typeof token.text === "string" && token.text !== word)) {
      fail(`token [${token.start}, ${token.end}) does not match the text`, `tokens[${i}]`);
    }
    if (start < previousEnd) fail(`token [${token.start}, ${token.end}) overlaps or precedes the token before it`, `tokens[${i}]`);
    previousEnd = end;
    return { text: word, start, end };
  });
}

function spanListRecord(record: JsonObject, keys: readonly string[], unit: OffsetUnit, line: number): SpanDocument {
  const text = textOf(record, "text");
  const key = keys.find((k) => record[k] !== undefined);
  const list = key === undefined ? [] : record[key];
  if (!Array.isArray(list)) fail(`expected a list of spans, found ${preview(list)}`, key);
  const doc = finishDocument(text, list.map((value, i) => rawSpan(value, `${key}[${i}]`)), unit, idOf(record), line);
  const tokens = tokensOf(record, text, unit);
  if (tokens) doc.tokens = tokens;
  const documentStart = record.document_start;
  if (documentStart !== undefined && typeof documentStart !== "boolean") fail(`expected true or false, found ${preview(documentStart)}`, "document_start");
  if (documentStart) doc.documentStart = true;
  return doc;
}

function labelStudioTask(task: JsonObject, unit: OffsetUnit, line: number): SpanDocument {
  const data = task.data;
  if (!isObject(data)) fail(`expected an object with the task's text`, "data");
  const text = typeof data.text === "string" ? data.text : Object.values(data).find((v): v is string => typeof v === "string");
  if (text === undefined) fail("the task has no text", "data.text");
  const annotations = Array.isArray(task.annotations) ? task.annotations : Array.isArray(task.completions) ? task.completions : [];
  const annotation = annotations.find((a) => isObject(a) && a.was_cancelled !== true);
  const results = isObject(annotation) && Array.isArray(annotation.result) ? annotation.result : [];
  const spans: RawSpan[] = [];
  results.forEach((result, i) => {
    if (!isObject(result)) fail("expected an object", `annotations.result[${i}]`);
    // Relations (no value), choices, text areas and other non-span results carry no labels.
    if (!isObject(result.value) || !Array.isArray(result.value.labels)) return;
    spans.push(rawSpan(result.value, `annotations.result[${i}].value`));
  });
  return finishDocument(text, spans, unit, idOf(task), line);
}

const SPAN_KEYS = ["spans", "ents", "entities", "label", "labels"] as const;

function readRecord(record: Json, format: SpanFormat, unit: OffsetUnit, line: number): SpanDocument {
  if (!isObject(record)) fail(`expected a JSON object per line, found ${preview(record)}`);
  if (format === "labelstudio") return labelStudioTask(record, unit, line);
  return spanListRecord(record, SPAN_KEYS, unit, line);
}

/** Parses a span file; Label Studio's array export and JSON lines are both accepted. */
export function parseSpanFile(text: string, format: SpanFormat, options: ReadSpansOptions = {}): SpanCorpus {
  const { file, lenient = false } = options;
  const unit = options.offsetUnit ?? "utf16";
  const documents: SpanDocument[] = [];
  const skipped: SkippedRecord[] = [];
  const records: { value: () => Json; line: number }[] = [];

  const trimmed = text.trimStart();
  if (trimmed.startsWith("[")) {
    let array: Json;
    try {
      array = JSON.parse(text) as Json;
    } catch (error) {
      throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`, { file });
    }
    if (!Array.isArray(array)) throw new NerkitError("E_FORMAT", "expected a JSON array of tasks", { file });
    array.forEach((value, i) => records.push({ value: () => value, line: i + 1 }));
  } else {
    splitLines(text).forEach((line, i) => {
      if (line.trim() === "") return;
      records.push({
        value: () => {
          try {
            return JSON.parse(line) as Json;
          } catch (error) {
            throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`);
          }
        },
        line: i + 1,
      });
    });
  }
  for (const { value, line } of records) {
    try {
      documents.push(readRecord(value(), format, unit, line));
    } catch (error) {
      if (!(error instanceof NerkitError)) throw error;
      const placed = error.at({ file, line });
      if (!lenient) throw placed;
      skipped.push({ error: placed });
    }
  }
  return { documents, skipped };
}

/** JSON lines {"id"?, "text", "spans": [{"start", "end", "label", "text"}], "tokens"?: [{"text", "start", "end"}],
 *  "document_start"?: true}, offsets in `unit`. */
export function formatSpanJsonl(documents: readonly SpanDocument[], unit: OffsetUnit = "utf16"): string {
  return documents
    .map((doc) => {
      const convert = unit === "codepoint" ? utf16ToCodePoint(doc.text) : (offset: number) => offset;
      const record: Record<string, unknown> = {};
      if (doc.id !== undefined) record.id = doc.id;
      record.text = doc.text;
      record.spans = doc.spans.map((s) => ({ start: convert(s.start), end: convert(s.end), label: s.label, text: doc.text.slice(s.start, s.end) }));
      if (doc.tokens) record.tokens = doc.tokens.map((t) => ({ text: t.text, start: convert(t.start), end: convert(t.end) }));
      if (doc.documentStart) record.document_start = true;
      return JSON.stringify(record) + "\n";
    })
    .join("");
}
