// Lines of a byte stream (a file or standard input) decoded as strict UTF-8, for readers that go
// line by line instead of loading the whole input: invalid UTF-8 is an error naming the line and
// the byte offset in the input, as readTextFile's is, and so is a NUL byte (a binary file, such as
// a model or an archive, passed by mistake). Lines end at LF or CRLF; a UTF-8 BOM at the start is
// dropped. Leaves out other encodings: nerkit reads UTF-8 only.

import { NerkitError } from "../errors.js";
import { firstInvalidUtf8 } from "./files.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface Utf8Line {
  text: string;
  /** 1-based line number. */
  line: number;
}

/** Lines of `chunks` (Buffers, or strings, which are encoded as UTF-8 first). */
export async function* utf8Lines(chunks: AsyncIterable<Buffer | string>, file?: string): AsyncGenerator<Utf8Line> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let pending: Buffer[] = [];
  let line = 0;
  // Byte offset of the line being read, for error messages.
  let offset = 0;
  const decode = (bytes: Buffer): Utf8Line => {
    line++;
    const nul = bytes.indexOf(0);
    if (nul !== -1) {
      throw new NerkitError("E_ENCODING", `NUL byte at byte ${offset + nul}: this looks like a binary file, not text`, { file, line });
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new NerkitError("E_ENCODING", `invalid UTF-8 at byte ${offset + firstInvalidUtf8(bytes).offset}; save the file as UTF-8`, { file, line });
    }
    offset += bytes.length + 1;
    if (line === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
    return { text: text.endsWith("\r") ? text.slice(0, -1) : text, line };
  };
  for await (const chunk of chunks) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let start = 0;
    // A newline byte is never part of a multi-byte UTF-8 sequence, so lines can be cut as bytes.
    for (let end = bytes.indexOf(0x0a, start); end !== -1; end = bytes.indexOf(0x0a, start)) {
      const piece = bytes.subarray(start, end);
      const lineBytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      yield decode(lineBytes);
      start = end + 1;
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  if (pending.length > 0) {
    const bytes = Buffer.concat(pending);
    // A file that holds only a BOM holds no line.
    if (!(line === 0 && bytes.equals(BOM))) yield decode(bytes);
  }
}
