// CoNLL column files: one token per line, whitespace-separated columns (the token first, the tag in
// the last column unless told otherwise), a blank line between sentences, "-DOCSTART-" lines between
// documents. Every other column is kept, so a file converted to another scheme keeps its POS and
// chunk columns. The reader validates as it goes and names the line of anything wrong.

import { NerkitError, SkippedRecord } from "../errors.js";
import { columnSpaceIndex } from "../text/column-whitespace.js";
import { firstIllegalTransition } from "./chunks.js";
import { ColumnScanner } from "./column-scanner.js";
import { SchemeTable } from "./schemes.js";
import { ALL_PREFIXES, parseTag } from "./tags.js";

export interface ConllSentence {
  /** Every column of each token's line; absent for plain "TOKEN TAG" files. */
  rows?: string[][];
  tokens: string[];
  tags: string[];
  /** 1-based line number of the sentence's first token. */
  line: number;
  /** A -DOCSTART- line came before this sentence. */
  documentStart: boolean;
  /** Set only with `keepBroken`: what is wrong with this sentence (its rows may be incomplete). */
  error?: NerkitError;
}

export interface ConllCorpus {
  sentences: ConllSentence[];
  /** Number of columns per line. */
  columns: number;
  /** 0-based index of the tag column. */
  tagColumn: number;
  skipped: SkippedRecord[];
}

export interface ReadConllOptions {
  /** File name for error messages. */
  file?: string;
  /** 1-based column of the tag; negative counts from the end (-1, the default, is the last). */
  tagColumn?: number;
  /** Skip (and count) sentences with errors instead of failing. */
  lenient?: boolean;
  /** Only this scheme's prefixes are allowed. */
  scheme?: SchemeTable;
  /** Also reject transitions the scheme does not allow (I-PER after O in IOB2). Needs `scheme`. */
  strict?: boolean;
  /** With `lenient`, keep a broken sentence in place (marked with `error`) instead of dropping it,
   *  so that two files can still be paired sentence by sentence. */
  keepBroken?: boolean;
}

const DOCSTART = "-DOCSTART-";

function resolveColumn(column: number, columns: number, place: { file?: string; line?: number }): number {
  const index = column < 0 ? columns + column : column - 1;
  if (column === 0 || index < 0 || index >= columns) {
    throw new NerkitError("E_USAGE", `tag column ${column} does not exist: lines have ${columns} columns`, place);
  }
  return index;
}

/** The token is the first column, or the second when the tag is in the first. */
export function tokenColumnFor(tagColumn: number): number {
  return tagColumn === 0 ? 1 : 0;
}

/** Parses CoNLL text. Errors carry the file and line. */
export function parseConll(text: string, options: ReadConllOptions = {}): ConllCorpus {
  const { file, lenient = false, scheme } = options;
  const prefixes = scheme?.prefixes ?? ALL_PREFIXES;
  const sentences: ConllSentence[] = [];
  const skipped: SkippedRecord[] = [];
  const scanner = new ColumnScanner();
  // Tags already validated: a corpus has few distinct tags and many tokens.
  const validTags = new Set<string>();
  let columns = 0;
  let tagColumn = -1;
  let tokenColumn = 0;
  let keepRows = false;
  let tokens: string[] = [];
  let tags: string[] = [];
  let rows: string[][] | undefined;
  let firstLine = 0;
  let documentStart = false;
  let broken: NerkitError | undefined;

  const finishSentence = () => {
    if (tokens.length > 0 || broken) {
      if (!broken && options.strict && scheme) {
        const illegal = firstIllegalTransition(tags, scheme);
        if (illegal) broken = new NerkitError("E_TRANSITION", illegal.message, { file, line: firstLine + illegal.index });
      }
      if (broken) {
        if (!lenient) throw broken;
        skipped.push({ error: broken });
        if (options.keepBroken) {
          sentences.push({ tokens: [], tags: [], line: firstLine, documentStart, error: broken });
          documentStart = false;
        }
      } else {
        const sentence: ConllSentence = { tokens, tags, line: firstLine, documentStart };
        if (rows) sentence.rows = rows;
        sentences.push(sentence);
        documentStart = false;
      }
    }
    tokens = [];
    tags = [];
    rows = keepRows ? [] : undefined;
    broken = undefined;
  };

  let lineNumber = 0;
  // A UTF-8 BOM left by a caller that did not decode through decodeUtf8 is not part of the first token.
  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (position < text.length) {
    lineNumber++;
    let lineEnd = text.indexOf("\n", position);
    if (lineEnd === -1) lineEnd = text.length;
    const count = scanner.scan(text, position, lineEnd);
    const lineStart = position;
    position = lineEnd + 1;
    if (count === 0) {
      finishSentence();
      continue;
    }
    if (scanner.field(text, 0) === DOCSTART) {
      finishSentence();
      documentStart = true;
      continue;
    }
    if (broken) continue;
    if (tokens.length === 0) firstLine = lineNumber;
    if (columns === 0) {
      if (count < 2) {
        const line = text.slice(lineStart, lineEnd).trim();
        broken = new NerkitError("E_FORMAT", `expected at least 2 columns (token and tag), found 1: '${line}'`, { file, line: lineNumber });
        continue;
      }
      columns = count;
      tagColumn = resolveColumn(options.tagColumn ?? -1, columns, { file, line: lineNumber });
      tokenColumn = tokenColumnFor(tagColumn);
      keepRows = columns > 2 || tagColumn !== 1;
      if (keepRows) rows = [];
    }
    if (count !== columns) {
      broken = new NerkitError("E_FORMAT", `expected ${columns} columns like the first line, found ${count}`, { file, line: lineNumber });
      continue;
    }
    const tag = scanner.field(text, tagColumn);
    if (!validTags.has(tag)) {
      try {
        parseTag(tag, prefixes);
      } catch (error) {
        broken = (error as NerkitError).at({ file, line: lineNumber, field: `column ${tagColumn + 1}` });
        continue;
      }
      validTags.add(tag);
    }
    const token = scanner.field(text, tokenColumn);
    tokens.push(token);
    tags.push(tag);
    if (rows) {
      const row = new Array<string>(count);
      for (let f = 0; f < count; f++) row[f] = f === tokenColumn ? token : f === tagColumn ? tag : scanner.field(text, f);
      rows.push(row);
    }
  }
  finishSentence();
  return { sentences, columns: Math.max(columns, 2), tagColumn: tagColumn < 0 ? 1 : tagColumn, skipped };
}

export interface WriteConllOptions {
  /** Column separator; a space by default. */
  separator?: string;
  /** Write -DOCSTART- lines where the input had them (default true). */
  documentMarkers?: boolean;
  /** The file the sentences came from, for the error about a field CoNLL cannot hold. */
  source?: string;
}

/** A field must be non-empty and free of column whitespace, or the file would not read back. */
function checkField(field: string, what: string, place: { file?: string; line?: number }): void {
  const at = columnSpaceIndex(field);
  if (at === -1 && field !== "") return;
  const problem =
    at === -1 ? "is empty" : `holds U+${field.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")}, which separates CoNLL columns`;
  throw new NerkitError("E_FORMAT", `cannot write the ${what} ${JSON.stringify(field)} as CoNLL: it ${problem}`, place);
}

/** Writes sentences back as CoNLL text; `tags`, when given per sentence, replace the tag column. */
export function formatConll(corpus: Pick<ConllCorpus, "sentences" | "columns" | "tagColumn">, options: WriteConllOptions = {}): string {
  const separator = options.separator ?? " ";
  const markers = options.documentMarkers ?? true;
  const marker = [DOCSTART, ...new Array(Math.max(0, corpus.columns - 2)).fill("-X-"), "O"].join(separator);
  const parts: string[] = [];
  for (const sentence of corpus.sentences) {
    if (markers && sentence.documentStart) parts.push(marker, "");
    for (let i = 0; i < sentence.tokens.length; i++) {
      const place = { file: options.source, line: sentence.line };
      checkField(sentence.tokens[i], "token", place);
      checkField(sentence.tags[i], "tag", place);
      const columns = sentence.rows?.[i];
      if (!columns) {
        parts.push(sentence.tokens[i] + separator + sentence.tags[i]);
        continue;
      }
      const row = [...columns];
      row[tokenColumnFor(corpus.tagColumn)] = sentence.tokens[i];
      row[corpus.tagColumn] = sentence.tags[i];
      parts.push(row.join(separator));
    }
    parts.push("");
  }
  return parts.length === 0 ? "" : parts.join("\n") + "\n";
}
