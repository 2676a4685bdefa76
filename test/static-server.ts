// A static file server on 127.0.0.1 for the browser tests of nerkit/web: URL prefixes mapped to
// folders ("/web/" → dist/web), the content types a browser insists on (.js/.mjs as JavaScript for
// module scripts, .wasm as application/wasm for streaming compilation), 404 for anything else. It
// records every path asked for, so that a test can say what a page fetched. Extra headers on every
// answer when asked (bench/web sends the two that make a page cross-origin isolated, which
// onnxruntime-web's WASM threads need). Left out: ranges, caching headers and directory listings.

import { createReadStream, statSync } from "node:fs";
import { Server, createServer } from "node:http";
import { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

const TYPES = new Map([
  [".html", "text/html; charset=utf-8"],
  [".js", "text/javascript; charset=utf-8"],
  [".mjs", "text/javascript; charset=utf-8"],
  [".json", "application/json; charset=utf-8"],
  [".wasm", "application/wasm"],
  [".css", "text/css; charset=utf-8"],
]);

export interface StaticServer {
  base: string;
  /** Every request's path, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves each prefix ("/web/") from its folder until close(), with `headers` on every answer. */
export async function serveStatic(mounts: ReadonlyMap<string, string>, headers: Readonly<Record<string, string>> = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    requests.push(path);
    const file = resolveFile(mounts, path);
    if (file === undefined) {
      response.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(200, { ...headers, "content-type": TYPES.get(extname(file)) ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The file a path names under its mount; undefined outside every mount, for a folder or a missing file. */
function resolveFile(mounts: ReadonlyMap<string, string>, path: string): string | undefined {
  for (const [prefix, dir] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length) || "index.html"));
    if (file !== dir && !file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return undefined;
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
