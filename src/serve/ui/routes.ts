// The web UI's static files: the package's ui/ folder (HTML, CSS and ES modules, no build step)
// at /ui/*, and its index.html at /. Files are read on each request (they are few and small) and
// answered with an ETag and "no-cache", so a browser revalidates and an edited file shows at once.
// A path that leaves ui/, a folder, or a file type not in CONTENT_TYPES is 404.
// What it leaves out: compression and range requests. The routes are open without an API key
// (app.ts lists UI_ROUTES among its open routes); the pages ask for a key when the API wants one.

import { createHash } from "node:crypto";
import { readFile, realpath } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { packageRoot } from "../../package-root.js";
import { HttpError } from "../http-error.js";

/** Route patterns (as fastify names them) that need no API key. */
export const UI_ROUTES = ["/", "/ui/*"] as const;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

// Scripts and styles come from this server only; user text reaches the page as text nodes, and
// this keeps an injected <script> or handler from running if that ever slipped.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The file under `root` that `relative` names, or undefined when it leaves root or cannot be read. */
async function uiFile(root: string, relative: string): Promise<{ body: Buffer; type: string } | undefined> {
  const type = CONTENT_TYPES[extname(relative)];
  const path = resolve(root, relative);
  if (!type || !path.startsWith(root + sep)) return undefined;
  try {
    // realpath: a link inside ui/ must not lead out of it either.
    if (!(await realpath(path)).startsWith(root + sep)) return undefined;
    return { body: await readFile(path), type };
  } catch (error) {
    if (typeof (error as NodeJS.ErrnoException).code === "string") return undefined; // ENOENT, EISDIR, a NUL in the name ...
    throw error;
  }
}

/** The UI as a fastify plugin. */
export function uiRoutes() {
  return async (scope: FastifyInstance): Promise<void> => {
    // A package installed without ui/ still serves the API.
    const root = await realpath(join(packageRoot, "ui")).catch(() => undefined);
    const send = async (relative: string, request: FastifyRequest, reply: FastifyReply) => {
      const file = root === undefined ? undefined : await uiFile(root, relative);
      if (!file) throw new HttpError(404, "E_NOT_FOUND", `no file ${request.url.split("?")[0]}`);
      const etag = `"${createHash("sha256").update(file.body).digest("base64url").slice(0, 27)}"`;
      void reply.headers({ ...SECURITY_HEADERS, etag, "cache-control": "no-cache" });
      if (request.headers["if-none-match"] === etag) return reply.code(304).send();
      return reply.type(file.type).send(file.body);
    };
    const schema = { hide: true };
    scope.get("/", { schema }, (request, reply) => send("index.html", request, reply));
    scope.get<{ Params: { "*": string } }>("/ui/*", { schema }, (request, reply) => send(request.params["*"], request, reply));
  };
}
