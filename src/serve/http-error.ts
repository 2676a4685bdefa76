// Errors the service answers with a status: every 4xx/5xx body is {"error": {"code", "message"}}.
// The mapping of fastify's own errors and of NerkitError to these lives in app.ts; zod's issues
// become one message here.

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
