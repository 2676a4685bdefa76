// The modules a browser runs import no Node built-in, so that a bundler needs no shims: walks the
// compiled import graph (dist/src, what a bundler reads) from each browser root and fails on a
// node: import or a bare built-in name (fs, path, ...) anywhere in it. Roots: the web entry
// (src/web/index.ts: loader, pipeline, post-processing and redaction) and the pipeline's parts
// that the Node loader and the browser's share (tokenizer, config, calibration, the pipeline).
// Leaves out packages (the browser's loader imports onnxruntime-web on purpose) and globals such as
// Buffer or process, which an import graph cannot see (their absence is what the browser test shows).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./helpers.js";

const distSrc = join(repoRoot, "dist", "src");

/** Roots of the browser's import graph, relative to dist/src. */
const BROWSER_ROOTS = ["web/index.js", "infer/pipeline-parts.js", "model/checkpoint/model-config.js", "metrics/calibration-file.js"];

/** Every specifier a compiled module imports: static, re-export, side-effect and dynamic. */
function specifiers(code: string): string[] {
  const pattern = /\b(?:import|export)\s*(?:type\s+)?[^;"'()]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g;
  return [...code.matchAll(pattern)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]);
}

/** The modules reachable from `roots` and the Node built-ins they import ("module -> built-in"). */
function nodeImports(roots: readonly string[]): { modules: number; walked: Set<string>; found: string[] } {
  const seen = new Set<string>();
  const found: string[] = [];
  const pending = roots.map((root) => resolve(distSrc, root));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiers(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) pending.push(resolve(dirname(file), specifier));
      else if (isNodeBuiltin(specifier)) found.push(`${relative(distSrc, file)} -> ${specifier}`);
    }
  }
  return { modules: seen.size, walked: new Set([...seen].map((file) => relative(distSrc, file))), found };
}

test("the scanner sees static, re-export, side-effect, dynamic and multi-line imports of built-ins", () => {
  const code = ['import { a } from "./a.js";', 'export * from "node:fs";', 'import "path";', 'const c = await import("node:crypto");', 'import {\n  x,\n  y,\n} from "worker_threads";'].join("\n");
  assert.deepEqual(specifiers(code), ["./a.js", "node:fs", "path", "node:crypto", "worker_threads"]);
  assert.deepEqual(specifiers(code).filter(isNodeBuiltin), ["node:fs", "path", "node:crypto", "worker_threads"]);
});

test("the walk finds the built-ins of the Node loader (it reads files and starts onnxruntime-node)", () => {
  const { found } = nodeImports(["infer/pipeline.js"]);
  assert.ok(found.includes("model/checkpoint/load-checkpoint.js -> node:fs"), found.join("\n"));
});

test("the web entry's graph holds the pipeline, the loader and whole-word redaction with its HMAC", () => {
  const { walked } = nodeImports(["web/index.js"]);
  for (const module of ["infer/ner-pipeline.js", "web/load-pipeline.js", "postprocess/redact.js", "postprocess/hmac-sha256.js", "postprocess/whole-words.js"]) {
    assert.ok(walked.has(module), `${module} is not reached from web/index.js`);
  }
});

test("the pipeline the browser shares with Node imports no Node built-in", () => {
  const { modules, found } = nodeImports(BROWSER_ROOTS);
  // The tokenizers, the pipeline's steps, calibration: dozens of modules, all walked.
  assert.ok(modules > 30, `walked ${modules} modules`);
  assert.deepEqual(found, []);
});
