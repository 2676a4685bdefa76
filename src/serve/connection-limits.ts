// The HTTP server's own defences against slow or idle clients: how long a request's headers and the
// whole request may take to arrive, how long an idle kept-alive connection stays open, and how many
// connections may be open at once. Without them, clients sending a body byte by byte held their
// connections for ever and, past the process's open-file limit, kept every other client out.
// What a request may ask the model to read is request-budget.ts's business.

import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { ServeConfig } from "./config.js";

type Limits = Pick<ServeConfig, "requestTimeoutMs" | "headersTimeoutMs" | "keepAliveTimeoutMs" | "maxConnections">;

/** Fastify's options for the timeouts (passed to Fastify() when the server is made). */
export function serverTimeouts(limits: Limits): Pick<FastifyServerOptions, "requestTimeout" | "keepAliveTimeout"> & { http: { headersTimeout: number; connectionsCheckingInterval: number } } {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node looks for expired requests every connectionsCheckingInterval (30 s by default), which
      // would let a slow client stay up to 30 s past a short timeout.
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4))),
    },
  };
}

/** The connection limit, set on the server Fastify made (before it listens). */
export function limitConnections(app: FastifyInstance, limits: Limits): void {
  app.server.maxConnections = limits.maxConnections;
}
