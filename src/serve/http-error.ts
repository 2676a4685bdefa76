// Errors the service answers with a status: every 4xx/5xx body is {"error": {"code", "message"}}.
// The mapping of fastify's own errors and of NerkitError to these lives in app.ts; zod's issues
// become one message here, and a database that cannot be reached the 503 every route answers.

import { StorageUnavailableError } from "./storage/repository.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** zod's issues as one message that names each field ("texts[1]: must not be empty"). */
export function validationMessage(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => (i.path.length ? `${i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "")}: ` : "") + i.message).join("; ");
}

/** A StorageUnavailableError as the 503 (with Retry-After) every route answers; any other error as it is. */
export function storageAnswer(error: unknown): unknown {
  return error instanceof StorageUnavailableError ? new HttpError(503, "E_STORAGE_UNAVAILABLE", error.message, { "retry-after": "1" }) : error;
}

/** fn(), a database that cannot be reached answered as 503 (storageAnswer). */
export async function answeringStorage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw storageAnswer(error);
  }
}
