// Typed errors with a stable code. The CLI turns a NerkitError into "file:line: message" and exit
// code 2; anything else is a bug in nerkit and is reported as such (exit 1), never as a user's fault.

export type ErrorCode =
  | "E_USAGE"
  | "E_IO"
  | "E_ENCODING"
  | "E_FORMAT"
  | "E_TAG"
  | "E_TRANSITION"
  | "E_SPAN"
  | "E_MISMATCH"
  | "E_DIVERGED"
  /** No model version with that id in the registry (serve/models/). */
  | "E_MODEL_NOT_FOUND"
  /** A model version's status forbids what was asked (retiring the serving version). */
  | "E_MODEL_STATUS"
  /** A model version lacks the calibration serve routes on (--target-precision thresholds): it is not promoted. */
  | "E_MODEL_CALIBRATION"
  /** A retrain could not make a candidate (its trainer failed or was killed, nothing to judge it on). */
  | "E_RETRAIN"
  /** The user stopped a long command (Ctrl-C); the message says how to continue. Exit code 130. */
  | "E_INTERRUPTED";

export interface ErrorPlace {
  file?: string;
  line?: number;
  field?: string;
}

export class NerkitError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, place: ErrorPlace = {}) {
    super(message);
    this.name = "NerkitError";
    this.code = code;
    this.file = place.file;
    this.line = place.line;
    this.field = place.field;
  }

  /** "file:line: field: message", leaving out the parts that are unknown. */
  describe(): string {
    const where = [this.file, this.line === undefined ? undefined : String(this.line)]
      .filter((part) => part !== undefined)
      .join(":");
    const field = this.field ? `${this.field}: ` : "";
    return where ? `${where}: ${field}${this.message}` : `${field}${this.message}`;
  }

  /** The same error, placed in a file (readers of strings learn the file name from their caller). */
  at(place: ErrorPlace): NerkitError {
    return new NerkitError(this.code, this.message, {
      file: place.file ?? this.file,
      line: place.line ?? this.line,
      field: place.field ?? this.field,
    });
  }
}

/** A record that a lenient reader skipped, kept so that the caller can count and show it. */
export interface SkippedRecord {
  error: NerkitError;
}
