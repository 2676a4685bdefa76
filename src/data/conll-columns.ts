// Pre-tokenized CoNLL text for tagging: the words of each sentence (the first column; other
// columns, a gold tag among them, may follow or not), and the same text with one more column, the
// tags a model gave, appended to every token line. Blank lines, -DOCSTART- lines and the other
// columns are kept as they were, so line numbers and every input column survive and the result is
// a CoNLL file `nerkit evaluate` reads (gold and predicted tags in its last two columns).
// Lines are split as parseConll splits them (./column-scanner.ts); tags are not read or checked
// here (parseConll does that for files that must have them).

import { NerkitError } from "../errors.js";
import { ColumnScanner } from "./column-scanner.js";

const DOCSTART = "-DOCSTART-";

interface TokenLine {
  /** 0-based sentence index, or -1 for a blank or -DOCSTART- line. */
  sentence: number;
  token?: string;
  /** Where the line's last column ends (trailing whitespace and a CR left out). */
  contentEnd?: number;
}

/** Walks the lines of `text` (a UTF-8 BOM skipped), telling each line's sentence and first column. */
function walk(text: string, visit: (line: TokenLine, from: number, to: number) => void): void {
  const scanner = new ColumnScanner();
  let sentence = -1;
  let inSentence = false;
  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (position < text.length) {
    let lineEnd = text.indexOf("\n", position);
    if (lineEnd === -1) lineEnd = text.length;
    const count = scanner.scan(text, position, lineEnd);
    if (count === 0 || scanner.field(text, 0) === DOCSTART) {
      inSentence = false;
      visit({ sentence: -1 }, position, lineEnd);
    } else {
      if (!inSentence) sentence++;
      inSentence = true;
      visit({ sentence, token: scanner.field(text, 0), contentEnd: scanner.ends[count - 1] }, position, lineEnd);
    }
    position = lineEnd + 1;
  }
}

/** The words of each sentence: the first column of its token lines. */
export function conllWords(text: string): string[][] {
  const sentences: string[][] = [];
  walk(text, (line) => {
    if (line.sentence < 0) return;
    (sentences[line.sentence] ??= []).push(line.token!);
  });
  return sentences;
}

/**
 * `text` with `tags[s][w]` appended to the line of word w of sentence s, separated by a space (a
 * tab when the line's columns are tab-separated). `tags` must have one tag per word of conllWords.
 */
export function appendTagColumn(text: string, tags: readonly (readonly string[])[], file?: string): string {
  const parts: string[] = [];
  let word = 0;
  let current = -1;
  let lineNumber = 0;
  walk(text, (line, from, to) => {
    lineNumber++;
    if (line.sentence < 0) {
      parts.push(text.slice(from, to).replace(/\r$/, ""));
      return;
    }
    if (line.sentence !== current) {
      current = line.sentence;
      word = 0;
    }
    const tag = tags[line.sentence]?.[word++];
    if (tag === undefined) throw new NerkitError("E_MISMATCH", `no predicted tag for this token (sentence ${line.sentence + 1}, word ${word})`, { file, line: lineNumber });
    const content = text.slice(from, line.contentEnd);
    parts.push(content + (content.includes("\t") ? "\t" : " ") + tag);
  });
  return parts.join("\n") + (text.endsWith("\n") ? "\n" : "");
}
