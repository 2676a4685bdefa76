// Where command output goes: a file written atomically with --out, or standard output, and what
// happens when standard output's reader goes away (`nerkit predict … | head`).

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

let closedPipeHandled = false;

/**
 * A reader that closes standard output early (`| head`) ends the command quietly with status 0, as
 * Unix filters do, instead of an EPIPE stack trace: nothing more can be delivered, and the user
 * got what they asked for. Any other write error is a message and status 2. Exits the process, so
 * only the installed command calls it (main() with processIO), never an embedding program.
 */
export function endQuietlyWhenStdoutCloses(stdout: NodeJS.WriteStream = process.stdout, stderr: (text: string) => void = processIO.stderr): void {
  if (closedPipeHandled) return;
  closedPipeHandled = true;
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    stderr(`nerkit: error: cannot write to standard output: ${error.message}\n`);
    process.exit(2);
  });
}

export function emit(io: CommandIO, content: string, out?: string): void {
  if (out) writeFileAtomic(out, content);
  else io.stdout(content);
}
