// The texts a reference profile is made from (nerkit profile, and train's --dev data): a file's
// documents as plain strings, with what one document is and the file's SHA-256.
// - .txt: one document per line (blank lines skipped), as `nerkit predict` reads plain text;
// - labelled data (CoNLL, JSONL spans, doccano, Label Studio; corpus.ts reads it): the file's
//   -DOCSTART- documents when it marks at least MIN_PROFILE_DOCUMENTS of them, else its sentences
//   (records): the per-document statistics are histograms, and a handful of documents (the demo's
//   dev set is one) make none worth comparing; the words of a document joined by single spaces (a
//   CoNLL file keeps no other spacing), its sentences too.
// What it leaves out: the labels (a profile describes what the model sees, not the gold).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { NerkitError } from "../errors.js";
import { decodeUtf8, ioReason, splitLines } from "../io/files.js";
import { parseCorpus } from "./corpus.js";

export interface ProfileTexts {
  texts: string[];
  /** What one text is: "-DOCSTART- documents", "sentences", "records" or "lines". */
  unit: string;
  sha256: string;
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new NerkitError("E_IO", `cannot read: ${ioReason(error)}`, { file: path });
  }
}

/** Fewer -DOCSTART- documents than this and a profile is made of the sentences instead. */
export const MIN_PROFILE_DOCUMENTS = 100;

/** Sentences (or records) with their -DOCSTART- marks → documents, when enough are marked; else each on its own. */
function documents(pieces: readonly { text: string; documentStart: boolean }[], each: string): { texts: string[]; unit: string } {
  const kept = pieces.filter((p) => p.text !== "");
  const marked = kept.filter((p) => p.documentStart).length + (kept.length > 0 && !kept[0].documentStart ? 1 : 0);
  if (marked < MIN_PROFILE_DOCUMENTS) return { texts: kept.map((p) => p.text), unit: each };
  const texts: string[] = [];
  for (const p of kept) {
    if (p.documentStart || texts.length === 0) texts.push(p.text);
    else texts[texts.length - 1] += " " + p.text;
  }
  return { texts, unit: "-DOCSTART- documents" };
}

export function readProfileTexts(path: string): ProfileTexts {
  const bytes = readBytes(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const content = decodeUtf8(bytes, path);
  let found: { texts: string[]; unit: string };
  if (path.toLowerCase().endsWith(".txt")) {
    found = { texts: splitLines(content).filter((line) => line.trim() !== ""), unit: "lines" };
  } else {
    const { corpus } = parseCorpus(content, { file: path });
    found =
      corpus.kind === "tokens"
        ? documents(corpus.conll.sentences.map((s) => ({ text: s.tokens.join(" "), documentStart: s.documentStart })), "sentences")
        : documents(corpus.documents.map((d) => ({ text: d.text, documentStart: d.documentStart === true })), "records");
  }
  if (found.texts.length === 0) throw new NerkitError("E_FORMAT", "the file holds no text to profile", { file: path });
  return { ...found, sha256 };
}
