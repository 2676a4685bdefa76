// File input and output shared by every reader and writer: strict UTF-8 decoding that names the
// line of a bad byte, and atomic writes (temporary file in the same folder, then rename), so a
// crash or a bad record never leaves a half-written output behind.

import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NerkitError } from "../errors.js";

const BOM = "\uFEFF";

/** Decodes UTF-8 (with or without BOM); invalid bytes are an error that names the line. */
export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const { line, offset } = firstInvalidUtf8(bytes);
    throw new NerkitError("E_ENCODING", `invalid UTF-8 at byte ${offset}; save the file as UTF-8`, { file, line });
  }
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** Locates the first byte sequence that is not well-formed UTF-8 (RFC 3629, Table 3-7 of Unicode). */
export function firstInvalidUtf8(bytes: Uint8Array): { line: number; offset: number } {
  let line = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 0x0a) line++;
      i++;
      continue;
    }
    // Lead byte -> number of continuation bytes and the allowed range of the first one.
    let count = 0;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) count = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      count = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      count = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return { line, offset: i };
    for (let k = 1; k <= count; k++) {
      const c = bytes[i + k];
      const min = k === 1 ? low : 0x80;
      const max = k === 1 ? high : 0xbf;
      if (c === undefined || c < min || c > max) return { line, offset: i };
    }
    i += count + 1;
  }
  return { line, offset: bytes.length };
}

/** Reads a text file; a missing or unreadable file is a NerkitError, not a stack trace. */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new NerkitError("E_IO", `cannot read: ${reason}`, { file: path });
  }
  return decodeUtf8(bytes, path);
}

/**
 * Why a file operation failed, without the paths Node puts in its messages ("ENOENT: no such file
 * or directory, open '/out/.x.123.tmp'" -> "no such file or directory"): an atomic write works on a
 * temporary name the user never chose, and must not show it. The caller names the real file.
 */
export function ioReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === undefined || !message.startsWith(`${code}: `)) return message;
  return message.slice(code.length + 2).replace(/, \w+ '.*$/s, "");
}

/** Writes a file atomically: the old content stays until the new content is complete on disk. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temporary file was never created
    }
    throw new NerkitError("E_IO", `cannot write: ${ioReason(error)}`, { file: path });
  }
}

/** Splits text into lines, accepting LF and CRLF endings and a missing final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.endsWith("\r")) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** Whether `path` is a folder (false when it is missing or cannot be read). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
