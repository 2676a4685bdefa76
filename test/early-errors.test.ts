// Every 4xx/5xx is {"error": {"code", "message"}}, also those fastify answers before a route runs
// and while the server closes. app.inject does not go through Node's HTTP parser nor a closing
// server, so these requests are written as raw bytes on a real socket (node:net): a URL whose
// percent-encoding does not decode (400), a path parameter too long (414), headers too large (431),
// something that is not HTTP (400), and a request arriving on a kept-alive connection once close
// began (503 with Retry-After).

import assert from "node:assert/strict";
import { connect, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { Entity } from "../src/infer/pipeline.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Reads HTTP/1.1 responses (Content-Length bodies) off a socket, in order. */
class ResponseReader {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  constructor(socket: Socket) {
    socket.on("data", (chunk: Buffer) => ((this.buffer = Buffer.concat([this.buffer, chunk])), this.wake?.()));
    socket.on("close", () => ((this.ended = true), this.wake?.()));
    socket.on("error", () => undefined);
  }
  async next(): Promise<RawResponse> {
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [statusLine, ...lines] = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
        const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
        const length = Number(headers.get("content-length") ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.subarray(end + 4, end + 4 + length).toString("utf8");
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(statusLine.split(" ")[1]), headers, body };
        }
      }
      if (this.ended) throw new Error(`the connection closed before a whole response: ${JSON.stringify(this.buffer.toString("latin1"))}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

async function open(port: number): Promise<{ socket: Socket; reader: ResponseReader }> {
  const socket = connect(port, "127.0.0.1");
  const reader = new ResponseReader(socket);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return { socket, reader };
}

function assertErrorShape(response: RawResponse, status: number, code: string): { code: string; message: string } {
  assert.equal(response.status, status, response.body);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = JSON.parse(response.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ["error"], response.body);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"], response.body);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
  return body.error;
}

/** A pipeline whose runs wait until `release` is called. */
class GatedPipeline implements PipelineLike {
  started = 0;
  private gate: Promise<void>;
  release!: () => void;
  constructor() {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  async run(texts: readonly string[]): Promise<Entity[][]> {
    this.started++;
    await this.gate;
    return texts.map(() => []);
  }
  async close(): Promise<void> {}
}

describe("errors before routing, on a real socket", () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = await buildApp({ pipeline: new GatedPipeline() });
    await app.listen({ port: 0, host: "127.0.0.1" });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app.close();
  });

  const cases: [string, string, number, string][] = [
    ["bad percent-encoding in a parameter", "GET /v1/jobs/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "E_BAD_URL"],
    ["a truncated UTF-8 sequence in the path", "GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n", 400, "E_BAD_URL"],
    ["a path parameter past fastify's maxParamLength", `GET /v1/jobs/${"a".repeat(200)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, "E_URI_TOO_LONG"],
    ["headers past Node's 16 KiB", `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431, "E_HEADERS_TOO_LARGE"],
    ["a request line that is not HTTP", "BLAH\r\n\r\n", 400, "E_BAD_REQUEST"],
  ];
  for (const [name, request, status, code] of cases) {
    test(`${name}: ${status} ${code}`, async () => {
      const { socket, reader } = await open(port);
      try {
        socket.write(request);
        assertErrorShape(await reader.next(), status, code);
      } finally {
        socket.destroy();
      }
    });
  }

  test("the server still answers after them", async () => {
    const { socket, reader } = await open(port);
    try {
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      const ok = await reader.next();
      assert.equal(ok.status, 200, ok.body);
    } finally {
      socket.destroy();
    }
  });
});

test("a request that arrives while the server closes: 503 E_CLOSING with Retry-After, and the one in progress finishes", async () => {
  const pipeline = new GatedPipeline();
  const app = await buildApp({ pipeline, config: { maxWaitMs: 0 } });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { socket, reader } = await open((app.server.address() as { port: number }).port);
  let closed: Promise<void> | undefined;
  try {
    const body = JSON.stringify({ text: "Alice" });
    socket.write(`POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const deadline = Date.now() + 5000;
    while (pipeline.started === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(pipeline.started, 1, "the first request reached the model");
    closed = app.close();
    await new Promise((r) => setTimeout(r, 50));
    // The same kept-alive connection: a new one would be refused by a closing server.
    socket.write("GET /v1/labels HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 50));
    pipeline.release();
    const first = await reader.next();
    assert.equal(first.status, 200, first.body);
    const refused = await reader.next();
    const error = assertErrorShape(refused, 503, "E_CLOSING");
    assert.match(error.message, /shutting down/);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal(refused.headers.get("connection"), "close");
  } finally {
    pipeline.release();
    socket.destroy();
    await (closed ?? app.close());
  }
});
