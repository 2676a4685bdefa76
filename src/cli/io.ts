// Where command output goes: a file written atomically with --out, or standard output.

import { Readable } from "node:stream";
import { writeFileAtomic } from "../io/files.js";

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard input (process.stdin unless a caller feeds the command itself). */
  stdin?: Readable;
}

export const processIO: CommandIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export function emit(io: CommandIO, content: string, out?: string): void {
  if (out) writeFileAtomic(out, content);
  else io.stdout(content);
}
