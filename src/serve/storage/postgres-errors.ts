// Which PostgreSQL failures mean "the job database cannot be used now" (the service answers 503
// and the caller may retry) rather than a bug: the server cannot be reached, is shutting down, has
// no connection slot left, a lock or statement waited too long, or a statement was never answered.
// Their message names the server (user, host, port, database) and never the password. Every other error passes through unchanged.

import { StorageUnavailableError } from "./repository.js";

/** Node's socket and DNS failures on the way to the server. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/**
 * SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html): class 08 connection
 * exceptions; 57P01-57P03 shutdown, crash, cannot connect now; 53300 too many connections; 57014
 * statement timeout; 55P03 lock timeout; 3D000 no such database and 28xxx authentication, which a
 * missing SQLite folder resembles: the service is misconfigured, not broken.
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300|57014|55P03|3D000|28...)$/;

/** node-postgres's query_timeout: a statement sent and never answered (a server that stopped answering). */
const UNANSWERED = "Query read timeout";

/** node-postgres's own failures, which carry no code. */
const CLIENT_MESSAGES = new RegExp(`Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed|${UNANSWERED}`, "i");

/** Whether error is node-postgres's query_timeout (the connection's state is unknown after it). */
export function isUnansweredQuery(error: unknown): boolean {
  return error instanceof Error && error.message === UNANSWERED;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  return error instanceof Error && CLIENT_MESSAGES.test(error.message);
}

/** The URL without its password (and without its query, which may hold one too). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.host}${u.pathname}`;
  } catch {
    return "(an unparsable PostgreSQL URL)";
  }
}

/** The password in the URL's userinfo (raw and decoded) or its query, so that a message can be scrubbed of it. */
function passwords(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password), u.searchParams.get("password") ?? ""].filter((p) => p !== "");
  } catch {
    return [];
  }
}

/** The error as StorageUnavailableError when it means the database cannot be used now; else unchanged. */
export function translatePostgresError(error: unknown, url: string): unknown {
  if (!isUnavailable(error)) return error;
  const code = (error as { code?: unknown }).code ?? (error instanceof AggregateError ? (error.errors[0] as { code?: unknown })?.code : undefined);
  let message = `the job database ${redactedUrl(url)} is unavailable${typeof code === "string" ? ` (${code})` : ""}: ${(error as Error).message}`;
  for (const secret of passwords(url)) message = message.split(secret).join("***");
  return new StorageUnavailableError(message, { cause: error });
}
