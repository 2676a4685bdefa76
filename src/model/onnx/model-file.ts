// Hands a serialized model to ONNX Runtime through a file rather than a buffer, to keep load memory
// down: ONNX Runtime given bytes parses them while the caller still holds them, so the weights sit
// in memory once more than when it reads a path (a scratch check on the BERT-base shape, 349 MiB
// of weights: ONNX Runtime took 945 MiB above its start given bytes, 417-596 given a path). The model is written piece by piece (Message.emitChunks), so it never
// exists whole in this process either. On Linux the file's name is removed as soon as it is open,
// and ONNX Runtime reads it through /proc/self/fd/N: a process killed while loading leaves no
// model-sized file in the temp folder. Elsewhere the file is removed after the session is made.
// When the temp folder cannot take the file (full disk, read-only), the model goes as bytes, as
// before. Left out: ONNX external data (the derived weights, transposed and packed, must be written
// somewhere anyway).

import { closeSync, existsSync, mkdtempSync, openSync, rmSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Message } from "./proto.js";

/** Chunks smaller than this are gathered before they are written (a model has thousands of tiny ones). */
const WRITE_BUFFER = 1 << 20;

/** The temp folder could not take the model (the caller falls back to bytes). */
class TempFileError extends Error {}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      throw new TempFileError((error as Error).message);
    }
  }
}

function writeMessage(fd: number, message: Message): void {
  const buffer = new Uint8Array(WRITE_BUFFER);
  let used = 0;
  message.emitChunks((bytes) => {
    if (used + bytes.length > buffer.length) {
      writeAll(fd, buffer.subarray(0, used));
      used = 0;
    }
    if (bytes.length >= buffer.length) writeAll(fd, bytes);
    else {
      buffer.set(bytes, used);
      used += bytes.length;
    }
  });
  writeAll(fd, buffer.subarray(0, used));
}

/**
 * Calls `open` with a path to the model written to a temporary file (removed afterwards), or with
 * its bytes when no temporary file can be written. Errors of `open` and of the model's own writers
 * (a checkpoint tensor of the wrong shape) are passed on as they are.
 */
export async function openModel<T>(message: Message, open: (model: string | Uint8Array) => Promise<T>): Promise<T> {
  let dir: string | undefined;
  let fd: number | undefined;
  try {
    let path: string;
    try {
      dir = mkdtempSync(join(tmpdir(), "nerkit-model-"));
      const file = join(dir, "model.onnx");
      fd = openSync(file, "w+", 0o600);
      path = file;
      const anonymous = `/proc/self/fd/${fd}`;
      if (process.platform === "linux" && existsSync(anonymous)) {
        unlinkSync(file);
        rmdirSync(dir);
        dir = undefined;
        path = anonymous;
      }
    } catch (error) {
      throw new TempFileError((error as Error).message);
    }
    writeMessage(fd, message);
    return await open(path);
  } catch (error) {
    if (!(error instanceof TempFileError)) throw error;
    return open(message.finish());
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
