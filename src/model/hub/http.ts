// HTTP for the Hub client, on node:http and node:https: one request with an idle timeout, redirects
// followed as huggingface_hub follows them (HEAD: relative redirects only, so that the Hub's answer
// to a renamed repository is followed but its redirect to the CDN is not; GET: all, dropping the
// Authorization header when the origin changes), and keep-alive agents that the caller closes.
// Connection failures, timeouts, cut-off bodies and 5xx answers become NetworkFailure, the one
// error that is worth retrying. Left out: proxies (node:http has no proxy support built in).

import http, { IncomingHttpHeaders, IncomingMessage } from "node:http";
import https from "node:https";
import { NerkitError } from "../../errors.js";

/** A failure of the network or of the server, not of the request: retrying may help. */
export class NetworkFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkFailure";
  }
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after the redirects that were followed). */
  url: string;
  body: IncomingMessage;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
  close(): void;
}

export function createAgents(): Agents {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return { ...agents, close: () => (agents.http.destroy(), agents.https.destroy()) };
}

export interface RequestOptions {
  method: "HEAD" | "GET";
  headers: Record<string, string>;
  /** Seconds of silence (no connection, no bytes) after which the request fails. */
  timeoutMs: number;
  agents: Agents;
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/** One request, no redirects followed. */
export function sendRequest(url: string, options: RequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  if (!secure && target.protocol !== "http:") {
    return Promise.reject(new NerkitError("E_IO", `cannot download from ${url}: not an http(s) URL`));
  }
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      target,
      { method: options.method, headers: options.headers, agent: secure ? options.agents.https : options.agents.http },
      (response) => resolve({ status: response.statusCode ?? 0, headers: response.headers, url, body: response }),
    );
    // Fires after timeoutMs of socket inactivity, both before the answer and while reading the body.
    request.setTimeout(options.timeoutMs, () => request.destroy(new NetworkFailure(`no data from ${target.host} for ${options.timeoutMs / 1000} s`)));
    request.on("error", (error) => reject(error instanceof NetworkFailure ? error : new NetworkFailure(describeNetworkError(error))));
    request.end();
  });
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** A Location without a scheme and host ("/new/name/resolve/...") stays on the same server. */
function isRelativeLocation(location: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith("//");
}

const MAX_REDIRECTS = 10;

/**
 * Sends the request and follows redirects: with `follow: "relative"` only those that stay on the
 * same server (a redirect elsewhere is returned, its Location being the answer); with "all", every
 * one. The body of a skipped redirect is discarded.
 */
export async function request(url: string, options: RequestOptions, follow: "relative" | "all"): Promise<HttpResponse> {
  let current = url;
  let headers = options.headers;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await sendRequest(current, { ...options, headers });
    const location = response.headers.location;
    if (!isRedirect(response.status) || !location || (follow === "relative" && !isRelativeLocation(location))) return response;
    response.body.resume();
    const next = new URL(location, current);
    if (next.origin !== new URL(current).origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
    }
    current = next.href;
  }
  throw new NerkitError("E_IO", `more than ${MAX_REDIRECTS} redirects from ${url}`);
}

/** Header value as one string (the first when repeated). */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
