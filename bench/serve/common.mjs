// What the service benchmarks share: their flags, the default model (DistilBERT-shaped, random
// weights, made once under bench/out/serve), a free loopback port, `nerkit` child processes with
// their stderr kept, and waiting for a server's /readyz.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeModel, parseModelOptions } from "../infer/make-model.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
export const out = join(root, "bench", "out", "serve");
mkdirSync(out, { recursive: true });

/** `--name value` from the command line, or the fallback. */
export function flag(name, fallback) {
  const argv = process.argv.slice(2);
  return argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback;
}

/** --model, or the DistilBERT-shaped model (6 layers, hidden 768), made on first use. */
export function benchModel() {
  const given = flag("model", undefined);
  if (given) return given;
  const dir = join(out, "distilbert-L6-H768");
  if (!existsSync(join(dir, "model.safetensors"))) makeModel(dir, parseModelOptions(["--model-type", "distilbert"]).options);
  return dir;
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
    server.on("error", reject);
  });
}

/** `nerkit ARGS` as a child process; its stderr collects in child.stderrText. */
export function nerkit(args) {
  const child = spawn(process.execPath, [join(root, "bin", "nerkit.js"), ...args], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderrText = "";
  child.stderr.on("data", (d) => (child.stderrText += d));
  return child;
}

export async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

/** Resolves once the server at url answers /readyz with 200 (the model is loaded). */
export async function waitReady(url, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`nerkit serve exited: ${child.stderrText}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("nerkit serve did not become ready in 60 s");
}
