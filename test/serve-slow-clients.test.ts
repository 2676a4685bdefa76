// Slow and idle clients on a real socket (node:net on loopback): a client sending its headers or
// its body byte by byte is answered 408 in the service's error shape ({"error": {"code",
// "message"}}) and disconnected once --headers-timeout-ms or --request-timeout-ms has passed, an
// idle kept-alive connection once --keep-alive-timeout-ms has, connections past --max-connections
// are closed at once, and a legitimate request gets through while slow clients hold connections. (Node's defaults let such clients stay 60 s to 5 min; 600 of them kept every
// other client out.)

import assert from "node:assert/strict";
import { connect, Socket } from "node:net";
import { after, before, test } from "node:test";
import { FastifyInstance } from "fastify";
import { buildApp } from "../src/serve/app.js";
import { FakePipeline } from "./fake-pipeline.js";

const HEADERS_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 2500;
const KEEP_ALIVE_TIMEOUT_MS = 400;
const MAX_CONNECTIONS = 24;

let app: FastifyInstance;
let port: number;

before(async () => {
  app = await buildApp({
    pipeline: new FakePipeline(),
    config: { db: ":memory:", headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as { port: number }).port;
});
after(() => app.close());

interface SlowClient {
  socket: Socket;
  /** Milliseconds from connecting until the server closed the connection. */
  closed: Promise<number>;
  received: () => string;
  stop: () => void;
}

/** A client that writes `text` one byte every `everyMs`, then (if it ever gets there) nothing more. */
function slowClient(text: string, everyMs = 100): Promise<SlowClient> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let received = "";
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<number>((done) => socket.on("close", () => (clearInterval(timer), done(performance.now() - started))));
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      let i = 0;
      timer = setInterval(() => {
        if (i < text.length && !socket.destroyed) socket.write(text[i++]);
      }, everyMs);
      resolve({ socket, closed, received: () => received, stop: () => (clearInterval(timer), socket.destroy()) });
    });
    socket.once("error", reject);
  });
}

/** One request on its own connection, answered within `withinMs` or failed. */
async function healthz(withinMs: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(withinMs), headers: { connection: "close" } });
  await response.text();
  return { status: response.status, ms: performance.now() - started };
}

/** The raw answer is a 408 whose body has the service's error shape (early-errors.ts), then the connection closes. */
function assertTimeoutAnswer(received: string): void {
  const [head, body] = received.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1.1 408 Request Timeout\r\n/, `answered 408 Request Timeout: ${JSON.stringify(received)}`);
  assert.match(head, /\r\nContent-Type: application\/json/i);
  assert.match(head, /\r\nConnection: close/i);
  assert.deepEqual(JSON.parse(body), { error: { code: "E_REQUEST_TIMEOUT", message: "the request was not received in time" } });
}

test("a client sending its headers byte by byte is disconnected after --headers-timeout-ms", async () => {
  const client = await slowClient("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(1000));
  const ms = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 5000))]);
  client.stop();
  assert.ok(ms >= HEADERS_TIMEOUT_MS * 0.9, `closed after ${ms.toFixed(0)} ms, before the timeout`);
  assert.ok(ms < HEADERS_TIMEOUT_MS + 2000, `still open ${ms} ms after connecting`);
  assertTimeoutAnswer(client.received());
});

test("a client sending its body byte by byte is disconnected after --request-timeout-ms", async () => {
  const body = JSON.stringify({ text: "Alice ".repeat(200) }); // 1,211 bytes, 6 s at a byte every 5 ms
  const client = await slowClient(`POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 5);
  // The headers (about 100 bytes) are in within 0.5 s (before the headers timeout); the body would take 6 s.
  const ms = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 8000))]);
  client.stop();
  assert.ok(ms >= REQUEST_TIMEOUT_MS * 0.9, `closed after ${ms.toFixed(0)} ms, before the timeout`);
  assert.ok(ms < REQUEST_TIMEOUT_MS + 2000, `still open ${ms} ms after connecting`);
  assertTimeoutAnswer(client.received());
});

test("an idle kept-alive connection is closed after --keep-alive-timeout-ms", async () => {
  const started = performance.now();
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  socket.on("data", (chunk) => (answer += chunk.toString()));
  const closed = new Promise<number>((done) => socket.on("close", () => done(performance.now() - started)));
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 4000))]);
  socket.destroy();
  assert.match(answer, /^HTTP\/1.1 200/);
  assert.ok(ms >= KEEP_ALIVE_TIMEOUT_MS * 0.9 && ms < KEEP_ALIVE_TIMEOUT_MS + 2000, `closed after ${ms} ms`);
});

test("20 slow clients connected: a legitimate request still gets through at once; past --max-connections, connections are refused", async () => {
  const slow = await Promise.all(Array.from({ length: 20 }, () => slowClient("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(1000), 50)));
  try {
    const ok = await healthz(1000);
    assert.equal(ok.status, 200);
    assert.ok(ok.ms < 500, `/healthz took ${ok.ms.toFixed(0)} ms beside 20 slow clients`);
    // Fill the remaining slots: the server closes a connection past the limit without reading it.
    const filler = await Promise.all(Array.from({ length: MAX_CONNECTIONS - 20 }, () => slowClient("G", 1000)));
    slow.push(...filler);
    await assert.rejects(healthz(1000), "a connection past --max-connections is refused");
    // Once the slow clients' headers time out, the slots are free again.
    await Promise.all(slow.map((c) => c.closed));
    assert.equal((await healthz(1000)).status, 200);
  } finally {
    for (const c of slow) c.stop();
  }
});
