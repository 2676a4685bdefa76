// The answers fastify gives before a route runs, in the service's error shape
// ({"error": {"code", "message"}}, http-error.ts) instead of fastify's own: a URL whose
// percent-encoding does not decode (400) or whose path parameter is too long (414), through
// fastify's frameworkErrors; what Node's HTTP parser refuses (headers too large 431, a request
// that took too long 408, anything else that is not HTTP 400), written on the socket by
// clientErrorHandler; and the 503 with Retry-After for requests that arrive while the server closes
// (fastify's own return503OnClosing is turned off for this).
// What it leaves out: the limits themselves (fastify's and Node's options, set in app.ts).

import { STATUS_CODES } from "node:http";
import { Socket } from "node:net";
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody } from "./http-error.js";

/** fastify's frameworkErrors option: errors raised while routing, before any hook. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      void reply.code(400).send(errorBody("E_BAD_URL", "the URL is not valid: a percent-encoded sequence in it does not decode to UTF-8"));
      return;
    case "FST_ERR_MAX_PARAM_LENGTH":
      void reply.code(414).send(errorBody("E_URI_TOO_LONG", "a path parameter of the URL is longer than the server accepts"));
      return;
  }
  reply.log.error({ err: error }, "routing failed");
  void reply.code(500).send(errorBody("E_INTERNAL", "internal error (this is a bug in nerkit; the server's log has the details)"));
}

/** Node's HTTP parser errors (err.code) as a status, a code and a message. */
function describeClientError(error: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, code: "E_HEADERS_TOO_LARGE", message: "the request line and headers are larger than the server accepts" };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, code: "E_REQUEST_TIMEOUT", message: "the request was not received in time" };
  }
  return { status: 400, code: "E_BAD_REQUEST", message: `the request is not valid HTTP: ${error.message}` };
}

/** fastify's clientErrorHandler option: the answer to what Node's HTTP parser refused, written on the socket. */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  // A connection reset by the client: there is no one to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const { status, code, message } = describeClientError(error);
  this.log.debug({ err: error }, "client error");
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  } else {
    socket.destroy(error);
  }
}

/** Answers 503 with Retry-After, in the error shape, to requests that arrive once app.close() began
 * (on a kept-alive connection: new connections are refused by then). Register before other onRequest hooks. */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    return reply.code(503).header("retry-after", "1").header("connection", "close").send(errorBody("E_CLOSING", "the server is shutting down; retry, another instance may answer"));
  });
}
