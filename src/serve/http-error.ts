// Errors the service answers with a status: every 4xx/5xx body is {"error": {"code", "message"}}.
// The mapping of fastify's own errors and of NerkitError to these lives in app.ts.

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
