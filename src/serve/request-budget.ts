// How much reading one request may ask for, and all requests together: per-request bounds (texts
// per request, characters per text) answered 413, and a budget of characters in flight (admitted
// and not yet answered) answered 503 with Retry-After once spent, so that memory and the model's
// queue stay bounded however many clients send long texts at once. Applied to /v1/entities and
// /v1/redact; batch jobs take the same 413 for a text over --max-text-chars (textTooLong) and have a
// bound of their own on documents per job (jobs/routes.ts), but are paced by the micro-batcher, not
// by the in-flight budget (they wait, they are not refused).
// Timeouts and the connection limit are the HTTP server's (see serverOptions in app.ts).

import { HttpError } from "./http-error.js";

export interface RequestLimits {
  /** Characters (UTF-16 units) per text. */
  maxTextChars: number;
  /** Texts per request. */
  maxTexts: number;
  /** Characters of every admitted request not yet answered. */
  maxCharsInFlight: number;
}

/** The 413 for a text over --max-text-chars; which: "the text", "texts[3]", "line 7"; advice: what the client may do instead. */
export function textTooLong(which: string, length: number, maxTextChars: number, advice: string): HttpError {
  return new HttpError(413, "E_TEXT_TOO_LONG", `${which} has ${length} characters; the server reads at most ${maxTextChars} per text (--max-text-chars): ${advice}`);
}

export class RequestBudget {
  private charsInFlight = 0;

  constructor(private readonly limits: RequestLimits) {}

  /** Characters admitted and not yet released (for tests and metrics). */
  get inFlight(): number {
    return this.charsInFlight;
  }

  /**
   * 413 when the body asks for more texts than one request may hold; checked before the body's
   * validation so that the answer says what the bound is rather than listing every text.
   */
  checkTextCount(body: unknown): void {
    const texts = body !== null && typeof body === "object" ? (body as { texts?: unknown }).texts : undefined;
    if (Array.isArray(texts) && texts.length > this.limits.maxTexts) {
      throw new HttpError(413, "E_TOO_MANY_TEXTS", `the request holds ${texts.length} texts; the server takes at most ${this.limits.maxTexts} per request (--max-texts)`);
    }
  }

  /**
   * Admits the texts of one request or throws: 413 for a text over --max-text-chars, 503 with
   * Retry-After while other requests hold the in-flight budget. Call the returned function once
   * the request's reading is over, whatever its outcome.
   */
  admit(texts: readonly string[]): () => void {
    let chars = 0;
    texts.forEach((text, i) => {
      if (text.length > this.limits.maxTextChars) {
        const which = texts.length > 1 ? `texts[${i}]` : "the text";
        throw textTooLong(which, text.length, this.limits.maxTextChars, "split it");
      }
      chars += text.length;
    });
    if (chars > this.limits.maxCharsInFlight) {
      throw new HttpError(413, "E_REQUEST_TOO_LARGE", `the request's texts hold ${chars} characters; the server reads at most ${this.limits.maxCharsInFlight} at a time (--max-chars-in-flight): send fewer texts per request`);
    }
    if (this.charsInFlight + chars > this.limits.maxCharsInFlight) {
      throw new HttpError(503, "E_OVERLOADED", `the server is reading ${this.charsInFlight} characters already (--max-chars-in-flight ${this.limits.maxCharsInFlight}); retry later`, { "retry-after": "1" });
    }
    this.charsInFlight += chars;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.charsInFlight -= chars;
    };
  }
}
